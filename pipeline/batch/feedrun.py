"""What `podalign batch` and `podalign run` do: run_batch (a whole feed, resumable) and
run_one (one episode from a URL or a local path). The command line is pipeline.cli.batch."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.batch.episode_steps import Fetched, build_report
from pipeline.batch.feed import FeedEntry, read_feed
from pipeline.batch.matching import TranscriptFolder, TranscriptMatch
from pipeline.batch.planning import Work, plan_entry, settings_hash
from pipeline.batch.reports import (
    EpisodeOutcome,
    PublishedEpisode,
    summary_json,
    write_feed_snippet,
    write_item_snippet,
    write_report,
)
from pipeline.batch.runner import ENGINES, Backend, BackendSpec, Engine, LocalBackend, Timings
from pipeline.batch.state import BatchLock, DownloadArchive, StateStore, state_dir
from pipeline.errors import PodalignError
from pipeline.files import write_atomic
from pipeline.inputs.fetch import FetchedAudio, FetchOptions, fetch_audio, file_sha256
from pipeline.names import safe_stem
from pipeline.whisper.models import resolved_device

if TYPE_CHECKING:
    from pipeline.episode import AlignOptions, EpisodeResult

log = logging.getLogger(__name__)
SUMMARY_NAME = "run-summary.json"
FEED_SNIPPET_NAME = "podcast-transcripts.xml"


@dataclass(frozen=True)
class BatchOptions:
    feed: str
    out_dir: Path
    align: AlignOptions
    transcripts_dir: Path | None = None
    jobs: int = 1
    fetch: FetchOptions = field(default_factory=FetchOptions)
    archive_file: Path | None = None  # yt-dlp download archive; default out/download-archive.txt
    publish_base_url: str | None = None  # where the subtitle files will be served
    progress: bool = False
    engine: str = "local"  # "local": this machine's processes; "ray": a Ray cluster
    ray_address: str | None = None  # None: join the Ray already started here, else start one


@dataclass(frozen=True)
class BatchSummary:
    outcomes: tuple[EpisodeOutcome, ...]
    seconds: float
    timings: Timings

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def run_batch(options: BatchOptions) -> BatchSummary:
    """Process every episode of the feed that is new, changed or failed before.

    Raises PodalignError when the whole run cannot go ahead (feed unreadable, the output
    folder locked by another batch); a bad episode only becomes a failed outcome.
    """
    started = time.monotonic()
    backend = _backend_factory(options)  # an unusable engine or device fails before all else
    out_dir = options.out_dir
    # Inputs first: a batch that cannot start leaves no output folder or state behind.
    feed = read_feed(options.feed)
    folder = TranscriptFolder(options.transcripts_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with BatchLock(out_dir):
        sweep_stale_files(out_dir)
        state = StateStore(out_dir)
        try:
            archive = DownloadArchive(options.archive_file or out_dir / "download-archive.txt")
            engine = _engine(options, state, archive, backend)
            planned = _plan(feed.entries, state, folder, engine.settings, archive.lines(), out_dir)
            engine.run([p for p in planned if isinstance(p, Work)])
            outcomes = tuple(
                engine.outcomes.get(p.entry.key) if isinstance(p, Work) else p for p in planned
            )
            publish(out_dir, feed.title, state, options.publish_base_url)
        finally:
            state.close()
    summary = BatchSummary(
        tuple(o for o in outcomes if o), time.monotonic() - started, engine.timings
    )
    figures = {"seconds": round(summary.seconds, 3), **vars(summary.timings)}
    write_atomic(out_dir / SUMMARY_NAME, summary_json(summary.outcomes, figures))
    return summary


def _engine(
    options: BatchOptions,
    state: StateStore,
    archive: DownloadArchive,
    backend: Callable[[BackendSpec], Backend[Any]],
) -> Engine:
    align = options.align
    # A rerun after a transcript edit then skips the ASR. Ray nodes share no file system:
    # their aligners keep each node's default cache instead.
    if align.cache_dir is None and options.engine == "local":
        align = replace(align, cache_dir=state_dir(options.out_dir) / "cache")
    return Engine(
        out_dir=options.out_dir,
        state=state,
        archive=archive,
        align=align,
        fetch=options.fetch,
        settings=settings_hash(options.align),
        jobs=options.jobs,
        backend=backend,
        publish_base_url=options.publish_base_url,
        progress=options.progress,
    )


def _backend_factory(options: BatchOptions) -> Callable[[BackendSpec], Backend[Any]]:
    """The engine's workers, started only once there is work (Ray is imported only here)."""
    if options.engine == "local":
        resolved_device(options.align.device, options.align.compute_type)  # fail before work
        return LocalBackend
    if options.engine != "ray":
        raise PodalignError(f"unknown engine {options.engine!r}: choose from {', '.join(ENGINES)}")
    try:
        from pipeline.batch.raybackend import ray_backend
    except ModuleNotFoundError as err:
        if err.name != "ray":
            raise
        raise PodalignError(
            "--engine ray needs Ray on this machine and every node: "
            "pip install 'podalign[ray]' (make setup installs it)"
        ) from None
    if options.align.device == "cpu":  # otherwise known only once the cluster's GPUs are
        resolved_device("cpu", options.align.compute_type)
    return ray_backend(options.ray_address)


def _plan(
    entries: tuple[FeedEntry, ...],
    state: StateStore,
    folder: TranscriptFolder,
    settings: str,
    archive: frozenset[str],
    out_dir: Path,
) -> list[Work | EpisodeOutcome]:
    planned: list[Work | EpisodeOutcome] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.key in seen:  # feeds do repeat GUIDs; the first item wins
            planned.append(
                EpisodeOutcome(entry.key, entry.title, None, "skipped", "duplicate GUID")
            )
            continue
        seen.add(entry.key)
        planned.append(plan_entry(entry, state, folder, settings, archive, out_dir))
    return planned


def sweep_stale_files(out_dir: Path) -> None:
    """Remove what a killed run leaves: write_atomic's temporary files and scratch
    downloads. Safe only under the batch lock: no live writer can own them."""
    for temp in out_dir.glob(".*.part"):
        temp.unlink(missing_ok=True)
    for scratch in out_dir.glob(f"{SCRATCH_PREFIX}*"):
        shutil.rmtree(scratch, ignore_errors=True)
    for kept_apart in ("downloads", "transcripts"):
        shutil.rmtree(state_dir(out_dir) / kept_apart, ignore_errors=True)


def publish(out_dir: Path, title: str | None, state: StateStore, base_url: str | None) -> None:
    """(Re)write the <podcast:transcript> snippets of every done episode, so they follow
    --publish-url when it changes, and the whole feed's snippet file."""
    episodes = []
    for known in state.all():
        if known.status != "done":
            continue
        episode = PublishedEpisode(known.key, known.title, known.outputs, known.language)
        write_item_snippet(out_dir, known.stem, episode, base_url)
        episodes.append(episode)
    write_feed_snippet(out_dir / FEED_SNIPPET_NAME, title, episodes, base_url)


def run_one(
    source: str,
    transcript: Path | None,
    out_dir: Path,
    align: AlignOptions,
    fetch: FetchOptions,
    name: str | None = None,
    *,
    named: Path | None = None,
    report: bool = True,
) -> EpisodeResult:
    """Fetch one episode (URL or local path), align it and write its files into out_dir.

    name: the output stem (default: from the episode's title); named: the -o file as
    typed, for the format its suffix names. Nothing is left in out_dir but the outputs
    (and, with a preview of downloaded audio, that audio beside the page)."""
    from pipeline.episode import align_episode

    if transcript is not None and not transcript.is_file():
        raise PodalignError(f"{transcript}: no such transcript file")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with BatchLock(out_dir):
        sweep_stale_files(out_dir)
        with scratch_folder(out_dir) as scratch:
            audio = fetch_audio(source, scratch, None, fetch)
            stem = safe_stem(name or audio.title or Path(audio.path).stem, source)
            moved = None  # a download moved beside its preview page, which plays it
            if align.preview and audio.path.is_relative_to(scratch):
                audio, moved = _beside_the_page(audio, out_dir / f"{stem}{audio.path.suffix}")
            try:
                result = align_episode(audio.path, transcript, out_dir / stem, align, named=named)
            except BaseException:
                if moved is not None:
                    moved.unlink(missing_ok=True)  # a failed run leaves nothing behind
                raise
        if report:
            given = TranscriptMatch("given", str(transcript), transcript)
            match = given if transcript else TranscriptMatch("none")
            entry = FeedEntry(key=source, title=audio.title, enclosure_url=source)
            work = Work(entry, stem, source, match, None, frozenset())
            sha = file_sha256(transcript) if transcript else None
            fetched = Fetched(work, audio, transcript, sha)
            write_report(out_dir, stem, build_report(fetched, result, result.seconds))
    return result


def _beside_the_page(audio: FetchedAudio, target: Path) -> tuple[FetchedAudio, Path | None]:
    """The download moved to target (also returned second, to remove if the run fails),
    or, when target already holds this same audio (an earlier run's), that file."""
    if target.exists():
        if file_sha256(target) != audio.sha256:
            raise PodalignError(
                f"{target} exists and is not this episode's audio, which the preview page "
                "would play there: give another --name or -o"
            )
        return replace(audio, path=target), None
    return replace(audio, path=audio.path.replace(target)), target


SCRATCH_PREFIX = ".podalign-fetch-"


@contextlib.contextmanager
def scratch_folder(out_dir: Path) -> Iterator[Path]:
    """A fresh hidden folder in out_dir for one download, removed afterwards (a killed
    run's is swept by the next run on the folder)."""
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=out_dir))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
