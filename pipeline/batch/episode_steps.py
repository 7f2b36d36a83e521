"""One batch episode's steps around the aligner: fetch its inputs, describe its result."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pipeline
from pipeline.batch.matching import download_linked
from pipeline.batch.planning import Work
from pipeline.batch.reports import PublishedEpisode
from pipeline.errors import PodalignError
from pipeline.inputs.fetch import FetchedAudio, FetchOptions, InArchive, fetch_audio, file_sha256

if TYPE_CHECKING:
    from pipeline.episode import EpisodeResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    """An episode whose audio (and any feed-linked transcript) is on local disk."""

    work: Work
    audio: FetchedAudio
    transcript: Path | None
    transcript_sha256: str | None

    def discard(self) -> None:
        """Delete the downloaded audio: the subtitles are what the batch keeps."""
        self.audio.path.unlink(missing_ok=True)

    def published(self, outputs: dict[str, str], language: str | None) -> PublishedEpisode:
        entry = self.work.entry
        return PublishedEpisode(entry.guid or entry.key, entry.title, outputs, language)


def fetch_work(work: Work, scratch: Path, options: FetchOptions) -> Fetched:
    """Fetch work's audio into scratch/downloads and its feed-linked transcript, if any,
    into scratch/transcripts. The transcript comes first: it is small and may fail."""
    transcript, sha = work.match.path, work.transcript_sha256
    if work.match.link is not None:
        transcript = download_linked(work.match.link, scratch / "transcripts" / work.stem)
        sha = file_sha256(transcript)
    audio = fetch_audio(work.url, scratch / "downloads", work.stem, options)
    return Fetched(work, audio, transcript, sha)


@dataclass(frozen=True)
class FetchFailure:
    """Why an episode's inputs could not be fetched: a value, not an exception, so it
    crosses a process or a Ray task unchanged (some fetch errors do not unpickle)."""

    reason: str
    in_archive: bool = False  # not a failure: yt-dlp's archive lists the item


def fetch_outcome(work: Work, scratch: Path, options: FetchOptions) -> Fetched | FetchFailure:
    """fetch_work, with every error turned into a FetchFailure naming its reason."""
    try:
        return fetch_work(work, scratch, options)
    except InArchive:
        return FetchFailure("in the download archive", in_archive=True)
    except PodalignError as err:
        return FetchFailure(str(err))
    except Exception as err:  # a bug, not bad input: report it and keep going
        log.exception("fetching %s failed", work.url)
        return FetchFailure(f"internal error: {type(err).__name__}: {err}")


def build_report(fetched: Fetched, result: EpisodeResult, align_seconds: float) -> dict[str, Any]:
    """Return the episode's JSON report: where its inputs came from, timings, confidence."""
    entry, match = fetched.work.entry, fetched.work.match
    return {
        "podalign": pipeline.__version__,
        "episode": {
            "guid": entry.guid,
            "title": entry.title,
            "published": entry.published,
            "link": entry.link,
            "enclosure": fetched.work.url,
        },
        "transcript": {
            "found_by": match.origin,
            "source": match.ref,
            "sha256": fetched.transcript_sha256,
        },
        "audio": {
            "sha256": fetched.audio.sha256,
            "bytes": fetched.audio.size_bytes,
            "archive_id": fetched.audio.archive_id,
        },
        "mode": result.mode,
        "language": result.language,  # the aligner's, not a second reading of the text
        "confidence": round(result.confidence, 4),
        "warnings": list(result.warnings),
        "well_aligned": _well_aligned(result),
        "timings": {
            "audio_seconds": round(result.audio_duration, 3),
            "download_seconds": round(fetched.audio.seconds, 3),
            "align_seconds": round(align_seconds, 3),
            "realtime_factor": round(align_seconds / result.audio_duration, 4)
            if result.audio_duration
            else None,
        },
        "outputs": {fmt: Path(path).name for fmt, path in result.outputs.items()},
    }


def _well_aligned(result: EpisodeResult) -> dict[str, float] | None:
    """Shares of the speech and of the text that are well aligned (pipeline.align.coverage)."""
    if result.coverage is None:
        return None
    return {
        "speech": round(result.coverage.speech_share, 4),
        "text": round(result.coverage.text_share, 4),
    }


def outcome_reason(work: Work, result: EpisodeResult) -> str:
    """Return the summary's detail for a done episode: how it was aligned, and caveats."""
    detail: str = result.mode
    if work.match.origin == "none":
        detail += " (no reference transcript found)"
    else:
        detail += f", transcript by {work.match.origin}"
    detail += f", confidence {result.confidence:.2f}"
    if result.coverage is not None:
        detail += f", {result.coverage.summary()}"
    if result.warnings:
        detail += f", {len(result.warnings)} warning(s)"
    return detail
