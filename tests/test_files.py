"""Atomic writes: whole files with ordinary permissions, never a half file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipeline.files import publish_together, write_atomic


def test_written_files_are_readable_by_others_per_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "a.vtt", "WEBVTT\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text() == "WEBVTT\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.vtt"]


def test_a_set_that_cannot_be_written_whole_changes_nothing(tmp_path: Path) -> None:
    old = {tmp_path / name: f"old {name}\n" for name in ("ep.vtt", "ep.srt", "ep.json")}
    for path, text in old.items():
        path.write_text(text)
    new = {path: f"new {path.name}\n" for path in old}
    new[tmp_path / "ep.json"] = "\udc80 cannot be encoded"  # fails after two are written
    with pytest.raises(UnicodeEncodeError):
        publish_together(new)
    assert {p: p.read_text() for p in old} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.json", "ep.srt", "ep.vtt"]


def test_a_set_is_published_whole(tmp_path: Path) -> None:
    files = {tmp_path / "a.vtt": "WEBVTT\n", tmp_path / "a.json": b"{}\n"}
    assert publish_together(files) == list(files)
    assert (tmp_path / "a.json").read_bytes() == b"{}\n" and (tmp_path / "a.vtt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.vtt"]
