"""Run a whole feed: one scheduling loop on the driver, over an engine's workers.

The loop (Engine) is the same for every engine: downloads run ahead of the aligners (up
to the backend's lookahead, fetched or fetching, while jobs align), and every step's result
is committed to the state store, on the driver, before the next begins, so a kill at any
point loses at most the episodes in flight, which the next run redoes. Where the work runs
is a Backend:
LocalBackend (download threads feeding a process pool, each worker loading the model
once) here, pipeline.batch.raybackend.RayBackend (Ray tasks and actors) on a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from pipeline.batch.episode_steps import (
    Fetched,
    FetchFailure,
    build_report,
    fetch_outcome,
    outcome_reason,
)
from pipeline.batch.planning import Work
from pipeline.batch.reports import EpisodeOutcome, Outcome, write_item_snippet, write_report
from pipeline.batch.state import DownloadArchive, StateStore, Status, state_dir
from pipeline.batch.workers import AlignDone, AlignJob, align_job, init_worker
from pipeline.inputs.fetch import FetchOptions
from pipeline.names import printable

if TYPE_CHECKING:
    from pipeline.episode import AlignOptions

log = logging.getLogger(__name__)

# Alignments of one episode that may end in a dead worker before it is reported failed:
# one death is often bad luck (a node lost, a neighbour's memory), three in a row is the
# episode itself (audio that makes the decoder run out of memory).
ALIGN_ATTEMPTS = 3
ENGINES = ("local", "ray")  # LocalBackend here; RayBackend in pipeline.batch.raybackend


class WorkerDied(Exception):
    """The process aligning an episode died (killed, out of memory, its node lost)."""


Handle = TypeVar("Handle", bound=Hashable)


class Backend(Protocol[Handle]):
    """Where a batch's downloads and alignments run. Handles are whatever the backend
    waits on (futures, Ray object refs); every call is made from the driver's loop."""

    lookahead: int  # episodes fetched or being fetched ahead of the aligners, at most
    slots: int  # episodes aligning at once, at most (the aligners the backend can hold)

    def fetch(self, work: Work) -> Handle: ...

    def align(self, fetched: Fetched) -> Handle: ...

    def wait(self, handles: Sequence[Handle]) -> list[Handle]:
        """Block until at least one handle is finished; return the finished ones."""
        ...

    def fetched(self, handle: Handle) -> Fetched | FetchFailure: ...

    def aligned(self, handle: Handle) -> AlignDone:
        """The alignment's result; raises WorkerDied if its worker died meanwhile."""
        ...

    def release(self, fetched: Fetched) -> None:
        """Drop the episode's downloaded audio: the subtitles are what the batch keeps."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class BackendSpec:
    """What every backend needs to know to fetch and align a batch's episodes."""

    out_dir: Path
    align: AlignOptions
    fetch: FetchOptions
    jobs: int


@dataclass
class Timings:
    download_seconds: float = 0.0  # summed over downloads
    align_seconds: float = 0.0  # summed over alignments
    download_wait_seconds: float = 0.0  # wall time an aligner sat idle waiting for a download


@dataclass
class Engine:
    """Fetches and aligns a list of Work on a backend, recording each outcome as it lands."""

    out_dir: Path
    state: StateStore
    archive: DownloadArchive
    align: AlignOptions
    fetch: FetchOptions
    settings: str
    jobs: int
    backend: Callable[[BackendSpec], Backend[Any]]
    publish_base_url: str | None = None
    progress: bool = False
    outcomes: dict[str, EpisodeOutcome] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)
    _deaths: dict[str, int] = field(default_factory=dict)

    def run(self, works: list[Work]) -> None:
        if not works:
            return  # a rerun with nothing new never starts workers (or joins a cluster)
        # Log lines go above the progress bar instead of through it.
        with logging_redirect_tqdm() if self.progress else contextlib.nullcontext():
            self._run(works)

    def _run(self, works: list[Work]) -> None:
        jobs = max(1, min(self.jobs, len(works)))
        bar = tqdm(total=len(works), unit="episode", disable=not self.progress, file=sys.stderr)
        backend = self.backend(BackendSpec(self.out_dir, self.align, self.fetch, jobs))
        pending = deque(works)
        fetching: dict[Hashable, Work] = {}
        ready: deque[Fetched] = deque()
        aligning: dict[Hashable, Fetched] = {}
        try:
            while pending or fetching or ready or aligning:
                while pending and len(fetching) + len(ready) < backend.lookahead:
                    work = pending.popleft()
                    self._mark_started(work)
                    fetching[backend.fetch(work)] = work
                while ready and len(aligning) < backend.slots:
                    fetched = ready.popleft()
                    self.state.update(fetched.work.entry.key, status="aligning")
                    aligning[backend.align(fetched)] = fetched
                starved = len(aligning) < backend.slots and not ready and bool(fetching)
                waited_from = time.monotonic()
                finished = backend.wait([*fetching, *aligning])
                if starved:
                    self.timings.download_wait_seconds += time.monotonic() - waited_from
                for handle in finished:
                    if handle in fetching:
                        self._fetched(fetching.pop(handle), backend.fetched(handle), ready, bar)
                    else:
                        self._aligned(aligning.pop(handle), handle, backend, ready, bar)
        finally:
            bar.close()
            backend.close()

    def _mark_started(self, work: Work) -> None:
        known = self.state.get(work.entry.key)
        self.state.update(
            work.entry.key,
            title=work.entry.title,
            status="fetching",
            source_url=work.url,
            attempts=(known.attempts if known else 0) + 1,
        )

    def _fetched(
        self, work: Work, result: Fetched | FetchFailure, ready: deque[Fetched], bar: tqdm
    ) -> None:
        if isinstance(result, FetchFailure):
            if result.in_archive:
                self._finish(work, "skipped", result.reason, bar, state="skipped")
            else:
                self._finish(work, "failed", result.reason, bar)
            return
        self.timings.download_seconds += result.audio.seconds
        ready.append(result)

    def _aligned(
        self,
        fetched: Fetched,
        handle: Hashable,
        backend: Backend[Any],
        ready: deque[Fetched],
        bar: tqdm,
    ) -> None:
        work = fetched.work
        try:
            done = backend.aligned(handle)
        except WorkerDied as died:
            if self._retry_after_death(fetched, died, ready):
                return
            reason = (
                f"the aligner process died {ALIGN_ATTEMPTS} times on it (killed or out of "
                "memory); rerun to retry"
            )
            self._finish(work, "failed", reason, bar)
            backend.release(fetched)
            return
        self.timings.align_seconds += done.seconds
        if done.result is None:
            self._finish(work, "failed", done.error or "alignment failed", bar)
        else:
            try:
                self._record_done(fetched, done, bar)
            except OSError as err:  # disk full, permissions: this episode fails, not the run
                self._finish(work, "failed", f"cannot write its outputs: {err}", bar)
        backend.release(fetched)

    def _retry_after_death(self, fetched: Fetched, died: WorkerDied, ready: deque[Fetched]) -> bool:
        """Put an episode whose worker died back first in line, unless it has had its tries."""
        key = fetched.work.entry.key
        self._deaths[key] = self._deaths.get(key, 0) + 1
        if self._deaths[key] >= ALIGN_ATTEMPTS:
            return False
        log.warning(
            "%s: its aligner died (%s); retrying on another worker (%d of %d)",
            printable(fetched.work.entry.title or key), died, self._deaths[key] + 1,
            ALIGN_ATTEMPTS,
        )  # fmt: skip
        ready.appendleft(fetched)
        return True

    def _record_done(self, fetched: Fetched, done: AlignDone, bar: tqdm) -> None:
        work, result = fetched.work, done.result
        assert result is not None
        report = build_report(fetched, result, done.seconds)
        outputs = {fmt: Path(path).name for fmt, path in result.outputs.items()}
        outputs["report"] = write_report(self.out_dir, work.stem, report).name
        published = fetched.published(outputs, report["language"])
        outputs["podcast"] = write_item_snippet(
            self.out_dir, work.stem, published, self.publish_base_url
        ).name
        self.state.update(
            work.entry.key,
            status="done",
            reason=result.mode,
            audio_sha256=fetched.audio.sha256,
            transcript_ref=work.match.ref,
            transcript_sha256=fetched.transcript_sha256,
            settings=self.settings,
            archive_id=fetched.audio.archive_id,
            outputs=outputs,
            language=report["language"],
        )
        if fetched.audio.archive_id:
            self.archive.add(fetched.audio.archive_id)
        self._report(work, "done", outcome_reason(work, result), bar, result.seconds)

    def _finish(
        self,
        work: Work,
        status: Outcome,
        reason: str,
        bar: tqdm,
        *,
        state: Status | None = None,
    ) -> None:
        self.state.update(work.entry.key, status=state or status, reason=reason)
        self._report(work, status, reason, bar)

    def _report(
        self, work: Work, status: Outcome, reason: str, bar: tqdm, seconds: float = 0
    ) -> None:
        entry = work.entry
        self.outcomes[entry.key] = EpisodeOutcome(
            entry.key, entry.title, work.stem, status, reason, seconds
        )
        bar.update(1)
        name = printable(entry.title or entry.key)
        # Progress, not the summary: the table at the end (stdout) gives every reason, so
        # only a failure's reason is logged as it happens.
        if status == "failed":
            log.warning("failed %d/%d: %s: %s", len(self.outcomes), bar.total, name,
                        printable(reason))  # fmt: skip
        else:
            log.info("%s %d/%d: %s", status, len(self.outcomes), bar.total, name)


class LocalBackend:
    """This machine: download threads feeding a process pool of jobs aligners."""

    def __init__(self, spec: BackendSpec) -> None:
        self.spec = spec
        self.lookahead = spec.jobs + 1  # one download ready for whichever aligner frees first
        self.slots = spec.jobs
        self._downloads = ThreadPoolExecutor(
            max_workers=min(self.lookahead, 4), thread_name_prefix="fetch"
        )
        self._aligners = _align_pool(spec.align, spec.jobs)
        self._pool_of: dict[Future[AlignDone], ProcessPoolExecutor] = {}

    def fetch(self, work: Work) -> Future[Fetched | FetchFailure]:
        options = replace(self.spec.fetch, archive=work.archive, progress=False)
        return self._downloads.submit(fetch_outcome, work, state_dir(self.spec.out_dir), options)

    def align(self, fetched: Fetched) -> Future[AlignDone]:
        job = AlignJob(
            fetched.work.entry.key,
            fetched.audio.path,
            fetched.transcript,
            self.spec.out_dir / fetched.work.stem,
            self.spec.align,
        )
        try:
            future = self._aligners.submit(align_job, job)
        except BrokenProcessPool:  # broke since the last result was read: start afresh
            self._replace_pool(self._aligners)
            future = self._aligners.submit(align_job, job)
        self._pool_of[future] = self._aligners
        return future

    def wait(self, handles: Sequence[Future[Any]]) -> list[Future[Any]]:
        finished, _ = wait_for(handles, return_when=FIRST_COMPLETED)
        return list(finished)

    def fetched(self, handle: Future[Fetched | FetchFailure]) -> Fetched | FetchFailure:
        return handle.result()

    def aligned(self, handle: Future[AlignDone]) -> AlignDone:
        pool = self._pool_of.pop(handle)
        try:
            return handle.result()
        except BrokenProcessPool:
            # Every episode in flight on the pool fails with it; their retries go to a new one.
            self._replace_pool(pool)
            raise WorkerDied("a pool worker exited") from None

    def release(self, fetched: Fetched) -> None:
        fetched.discard()

    def close(self) -> None:
        self._downloads.shutdown(wait=False, cancel_futures=True)
        self._aligners.shutdown(wait=True, cancel_futures=True)

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        if broken is self._aligners:  # not yet replaced for an earlier episode on it
            broken.shutdown(wait=False, cancel_futures=True)
            self._aligners = _align_pool(self.spec.align, self.spec.jobs)


def _align_pool(align: AlignOptions, jobs: int) -> ProcessPoolExecutor:
    """Return a pool of jobs workers, each sharing the cores and loading the model once.

    spawn, not fork: the batch process runs download threads, and forking a threaded
    process can copy a held lock into the child.
    """
    threads = max(1, (os.cpu_count() or 1) // jobs)
    level = logging.getLogger().getEffectiveLevel()
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(align, threads, level, os.getpid()),
    )
