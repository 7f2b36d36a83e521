"""A batch's memory in its output folder: SQLite episode state, a run lock, the yt-dlp archive.

Every status change is its own committed transaction, so a batch killed at any moment
(kill -9 included) leaves each episode either done, with all its files, or not done,
and a rerun knows which. The lock is an fcntl.flock on the output folder that the kernel
drops when the process dies, so a crashed batch never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, get_args

from pipeline.errors import PodalignError

STATE_DIRNAME = ".podalign"
# PRAGMA user_version of the layout below; raise it with a migration in _migrate when the
# layout changes. 0 is a new file, or one written before the state had a version (same layout).
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    key TEXT PRIMARY KEY,          -- GUID, else enclosure URL: the episode's identity
    stem TEXT NOT NULL UNIQUE,     -- output file stem, fixed once given
    title TEXT,
    status TEXT NOT NULL,          -- one of STATUSES
    reason TEXT,                   -- why it failed, or the mode it was done in
    source_url TEXT,
    audio_sha256 TEXT,
    transcript_ref TEXT,           -- local path or URL of the reference transcript
    transcript_sha256 TEXT,
    settings TEXT,                 -- hash of the options that shape the outputs
    archive_id TEXT,               -- yt-dlp download-archive line
    outputs TEXT,                  -- JSON {"vtt": "stem.vtt", ...}, names in the folder
    language TEXT,                 -- of the subtitles' text, when known
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
"""
# An episode's row is "new" once it has an output stem, then "fetching", "aligning", and
# "done" or "failed", or "skipped" when yt-dlp's download archive already lists it; a later
# batch plans it again unless it is "done" (an archived one is skipped again then).
Status = Literal["new", "fetching", "aligning", "done", "failed", "skipped"]
STATUSES: tuple[Status, ...] = get_args(Status)
_COLUMNS = (
    "title", "status", "reason", "source_url", "audio_sha256", "transcript_ref",
    "transcript_sha256", "settings", "archive_id", "outputs", "language", "attempts",
)  # fmt: skip


@dataclass(frozen=True)
class EpisodeState:
    key: str
    stem: str
    status: Status
    title: str | None = None
    reason: str | None = None
    source_url: str | None = None
    audio_sha256: str | None = None
    transcript_ref: str | None = None
    transcript_sha256: str | None = None
    settings: str | None = None
    archive_id: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    attempts: int = 0


def state_dir(out_dir: Path) -> Path:
    return out_dir / STATE_DIRNAME


class StateStore:
    """The episodes table of out_dir/.podalign/state.sqlite; use from one thread."""

    def __init__(self, out_dir: Path) -> None:
        path = state_dir(out_dir) / "state.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            # WAL: a kill mid-write rolls back to the last commit; readers never block.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate(path)
        except sqlite3.DatabaseError as err:
            raise PodalignError(
                f"{path}: unreadable batch state ({err}); move it aside to start afresh"
            ) from None

    def _migrate(self, path: Path) -> None:
        """Bring the file to SCHEMA_VERSION, refusing one a newer podalign wrote."""
        found = self._db.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            self._db.close()
            raise PodalignError(
                f"{path}: batch state has schema version {found}, newer than this podalign "
                f"reads ({SCHEMA_VERSION}); upgrade podalign or use another --out"
            )
        if found < SCHEMA_VERSION:
            with self._db:  # one transaction: a kill leaves the old version, not half of one
                self._db.execute("BEGIN")
                self._db.execute(_SCHEMA)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def get(self, key: str) -> EpisodeState | None:
        row = self._db.execute(
            f"SELECT key, stem, {', '.join(_COLUMNS)} FROM episodes WHERE key = ?", (key,)
        ).fetchone()
        return _row_to_state(row) if row else None

    def all(self) -> list[EpisodeState]:
        rows = self._db.execute(
            f"SELECT key, stem, {', '.join(_COLUMNS)} FROM episodes ORDER BY rowid"
        ).fetchall()
        return [_row_to_state(row) for row in rows]

    def claim_stem(self, key: str, wanted: str, fallback_suffix: str) -> str:
        """Return key's output stem: the one it already has, else wanted if free, else
        wanted-<suffix>. Recorded at once, so names stay stable as the feed grows."""
        known = self.get(key)
        if known:
            return known.stem
        taken = {row[0] for row in self._db.execute("SELECT stem FROM episodes")}
        stem = wanted if wanted not in taken else f"{wanted}-{fallback_suffix}"
        while stem in taken:  # two suffixes alike: vanishingly rare, but never overwrite
            stem += "-x"
        self._db.execute(
            "INSERT INTO episodes (key, stem, status, updated_at) VALUES (?, ?, 'new', ?)",
            (key, stem, _now()),
        )
        return stem

    def update(self, key: str, **fields: object) -> None:
        """Set fields of key's row in one committed transaction."""
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown state fields: {sorted(unknown)}")
        values = {k: json.dumps(v) if k == "outputs" else v for k, v in fields.items()}
        assignments = ", ".join(f"{k} = ?" for k in values)
        self._db.execute(
            f"UPDATE episodes SET {assignments}, updated_at = ? WHERE key = ?",
            (*values.values(), _now(), key),
        )

    def close(self) -> None:
        self._db.close()


def _row_to_state(row: tuple[object, ...]) -> EpisodeState:
    values = dict(zip(("key", "stem", *_COLUMNS), row, strict=True))
    values["outputs"] = json.loads(str(values["outputs"])) if values["outputs"] else {}
    return EpisodeState(**values)  # type: ignore[arg-type]  # SQLite rows are untyped tuples


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class BatchLock:
    """An exclusive lock on an output folder for the length of one batch or run.

    The lock is a flock on the folder itself, not on a file in it: a run that fails, or
    that writes into the current folder, leaves nothing behind.
    """

    def __init__(self, out_dir: Path) -> None:
        self.folder = Path(out_dir)
        self._fd: int | None = None

    def __enter__(self) -> BatchLock:
        fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PodalignError(
                f"{self.folder}: another batch or run is running on this output folder; "
                "wait for it to finish or use another --out"
            ) from None
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class DownloadArchive:
    """yt-dlp's --download-archive file: one "extractor id" line per finished item."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> frozenset[str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return frozenset()
        return frozenset(line.strip() for line in text.splitlines() if line.strip())

    def add(self, archive_id: str) -> None:
        """Append archive_id unless present, under the flock yt-dlp itself takes."""
        if archive_id in self.lines():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(archive_id + "\n")
            fh.flush()
            os.fsync(fh.fileno())
