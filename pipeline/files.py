"""Atomic file output: a reader sees the old file or the new one, never half of one.

Several files of one result (the subtitle formats of an episode and its preview page) are
published together: each is written whole to a temporary file beside its target first,
and only when every one is written are they renamed into place, one right after another.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write data to path via a temporary file in the same folder and an atomic rename.

    A failure (disk full, a crash, a kill) leaves any earlier file at path untouched.
    """
    return publish_together({Path(path): data})[0]


def publish_together(files: Mapping[Path, str | bytes]) -> list[Path]:
    """Write every file, then rename them all into place; return the paths in order.

    A failure or Ctrl-C while writing leaves every earlier file untouched; one in the
    microseconds between the renames is logged naming the files published and those
    still as before, then raised.
    """
    temps: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            temps[Path(path)] = _whole_temporary(Path(path), data)
    except BaseException:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        if len(files) > 1:
            log.warning("none of %s was changed", ", ".join(str(p) for p in files))
        raise
    published: list[Path] = []
    try:
        for path, temp in temps.items():
            os.replace(temp, path)
            published.append(path)
    except BaseException:
        left = [p for p in temps if p not in published]
        for path in left:
            temps[path].unlink(missing_ok=True)
        log.error(
            "stopped while publishing: written %s; as before %s",
            ", ".join(map(str, published)) or "none",
            ", ".join(map(str, left)),
        )
        raise
    return published


def _whole_temporary(path: Path, data: str | bytes) -> Path:
    """A temporary file beside path holding data, flushed to disk, with umask permissions."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        # mkstemp makes the file 0600; subtitles are published, so honour the umask as
        # open() would (usually 0644).
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks (episodes can be hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
