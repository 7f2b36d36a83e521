"""Decide per feed entry, before any download, whether a batch has work to do for it.

An episode is redone only when something that shapes its subtitles changed: its audio
URL, its transcript (a local file's content, a feed link's URL), or the alignment
settings; or when its files have gone. Everything else done before is skipped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.batch.feed import FeedEntry
from pipeline.batch.matching import TranscriptFolder, TranscriptMatch
from pipeline.batch.reports import EpisodeOutcome
from pipeline.batch.state import EpisodeState, StateStore
from pipeline.errors import PodalignError
from pipeline.inputs.fetch import file_sha256, require_http_url
from pipeline.names import safe_stem, short_hash

if TYPE_CHECKING:
    from pipeline.episode import AlignOptions


@dataclass(frozen=True)
class Work:
    """An episode to fetch and align."""

    entry: FeedEntry
    stem: str
    url: str
    match: TranscriptMatch
    transcript_sha256: str | None  # of a local transcript, at planning time
    archive: frozenset[str]  # download-archive lines that mean "skip"


# Settings left out of the hash while they keep these values: where the model runs is new,
# and a batch done before it existed must not be redone for it.
_UNHASHED_DEFAULTS = {"device": "auto", "compute_type": None}


def settings_hash(options: AlignOptions, version: str = __version__) -> str:
    """Return a short hash of what shapes the output files: the alignment settings and the
    podalign version that applies them (an upgrade may align differently, so it redoes)."""
    fields = {
        k: v
        for k, v in asdict(options).items()
        if k != "cache_dir" and (k not in _UNHASHED_DEFAULTS or v != _UNHASHED_DEFAULTS[k])
    }
    text = json.dumps({"podalign": version, **fields}, sort_keys=True, default=str)
    return short_hash(text, 16)


def plan_entry(
    entry: FeedEntry,
    state: StateStore,
    folder: TranscriptFolder,
    settings: str,
    archive: frozenset[str],
    out_dir: Path,
) -> Work | EpisodeOutcome:
    """Return the Work to do for entry, or its outcome when there is none (skipped, or
    failed before starting: no enclosure, a refused URL, a broken mapping)."""
    stem = state.claim_stem(entry.key, safe_stem(entry.title, entry.key), short_hash(entry.key, 6))
    known = state.get(entry.key)
    try:
        url = _enclosure(entry)
        match = folder.match(entry)
        transcript_sha = file_sha256(match.path) if match.path else None
    except PodalignError as err:
        state.update(entry.key, title=entry.title, status="failed", reason=str(err))
        return EpisodeOutcome(entry.key, entry.title, stem, "failed", str(err))
    if known and known.status == "done":
        if _unchanged(known, url, match, transcript_sha, settings, out_dir):
            return EpisodeOutcome(entry.key, entry.title, stem, "skipped", "done before, unchanged")
        archive = archive - {known.archive_id}  # our own line must not block a redo
    elif entry.archive_id and entry.archive_id in archive:
        return EpisodeOutcome(entry.key, entry.title, stem, "skipped", "in the download archive")
    return Work(entry, stem, url, match, transcript_sha, archive)


def _enclosure(entry: FeedEntry) -> str:
    if not entry.enclosure_url:
        raise PodalignError("the feed item has no audio enclosure")
    return require_http_url(entry.enclosure_url, "enclosure")


def _unchanged(
    known: EpisodeState,
    url: str,
    match: TranscriptMatch,
    transcript_sha: str | None,
    settings: str,
    out_dir: Path,
) -> bool:
    same_transcript = (
        known.transcript_ref == match.ref
        if match.origin == "feed"
        else known.transcript_sha256 == transcript_sha
    )
    outputs_there = bool(known.outputs) and all(
        (out_dir / name).is_file() for name in known.outputs.values()
    )
    return (
        same_transcript and known.source_url == url and known.settings == settings and outputs_there
    )
