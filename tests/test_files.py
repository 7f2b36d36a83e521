"""Atomic writes: whole files with ordinary permissions, never a half file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pipeline.files import write_atomic


def test_written_files_are_readable_by_others_per_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "a.vtt", "WEBVTT\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text() == "WEBVTT\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.vtt"]
