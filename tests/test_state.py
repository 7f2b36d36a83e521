"""pipeline.batch.state's schema version: new files get it, old ones are stamped, newer
ones refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.batch.state import SCHEMA_VERSION, StateStore, state_dir
from pipeline.errors import PodalignError


def _user_version(out_dir: Path) -> int:
    with sqlite3.connect(state_dir(out_dir) / "state.sqlite") as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def test_a_new_state_file_records_its_schema_version(tmp_path: Path) -> None:
    StateStore(tmp_path).close()
    assert _user_version(tmp_path) == SCHEMA_VERSION


def test_a_state_file_from_before_versions_keeps_its_rows_and_is_stamped(tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    state.claim_stem("guid-a", "halsa", "aaaa")
    state.update("guid-a", status="done", outputs={"vtt": "halsa.vtt"})
    state.close()
    with sqlite3.connect(state_dir(tmp_path) / "state.sqlite") as db:
        db.execute("PRAGMA user_version = 0")  # as podalign 0.1.0 left it
    reopened = StateStore(tmp_path)
    known = reopened.get("guid-a")
    reopened.close()
    assert known is not None and known.status == "done" and known.outputs == {"vtt": "halsa.vtt"}
    assert _user_version(tmp_path) == SCHEMA_VERSION


def test_a_state_file_from_a_newer_podalign_is_refused_in_one_line(tmp_path: Path) -> None:
    StateStore(tmp_path).close()
    with sqlite3.connect(state_dir(tmp_path) / "state.sqlite") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(PodalignError) as caught:
        StateStore(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "state.sqlite" in message and f"schema version {SCHEMA_VERSION + 1}" in message
    assert "upgrade podalign" in message
    assert _user_version(tmp_path) == SCHEMA_VERSION + 1  # refused, not rewritten
