"""Run a whole feed: downloads in a thread pool feed aligners in a process pool.

Downloads overlap with alignment: up to jobs + 1 episodes are fetched ahead while the
workers align, each worker having loaded the model once. Every step's result is committed
to the state store before the next begins, so a kill at any point loses at most the
episodes in flight, which the next run redoes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from pipeline.episode_steps import Fetched, build_report, fetch_work, outcome_reason
from pipeline.errors import PodalignError
from pipeline.fetch import FetchOptions, InArchive
from pipeline.names import printable
from pipeline.planning import Work
from pipeline.reports import EpisodeOutcome, write_item_snippet, write_report
from pipeline.state import DownloadArchive, StateStore, state_dir
from pipeline.workers import AlignDone, AlignJob, align_job, init_worker

if TYPE_CHECKING:
    from pipeline.episode import AlignOptions

log = logging.getLogger(__name__)


@dataclass
class Timings:
    download_seconds: float = 0.0  # summed over downloads
    align_seconds: float = 0.0  # summed over alignments
    download_wait_seconds: float = 0.0  # wall time an aligner sat idle waiting for a download


@dataclass
class Engine:
    """Fetches and aligns a list of Work, recording each outcome as it lands."""

    out_dir: Path
    state: StateStore
    archive: DownloadArchive
    align: AlignOptions
    fetch: FetchOptions
    settings: str
    jobs: int
    publish_base_url: str | None = None
    progress: bool = False
    outcomes: dict[str, EpisodeOutcome] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)

    def run(self, works: list[Work]) -> None:
        if not works:
            return
        # Log lines go above the progress bar instead of through it.
        with logging_redirect_tqdm() if self.progress else contextlib.nullcontext():
            self._run(works)

    def _run(self, works: list[Work]) -> None:
        jobs = max(1, min(self.jobs, len(works)))
        bar = tqdm(total=len(works), unit="episode", disable=not self.progress, file=sys.stderr)
        downloads = ThreadPoolExecutor(max_workers=min(jobs + 1, 4), thread_name_prefix="fetch")
        aligners = _align_pool(self.align.model, jobs)
        pending = deque(works)
        fetching: dict[Future[Fetched], Work] = {}
        ready: deque[Fetched] = deque()
        aligning: dict[Future[AlignDone], Fetched] = {}
        try:
            while pending or fetching or ready or aligning:
                while pending and len(fetching) + len(ready) < jobs + 1:
                    work = pending.popleft()
                    self._mark_started(work)
                    fetching[downloads.submit(self._fetch, work)] = work
                while ready and len(aligning) < jobs:
                    fetched = ready.popleft()
                    self.state.update(fetched.work.entry.key, status="aligning")
                    aligning[aligners.submit(align_job, self._job(fetched))] = fetched
                starved = len(aligning) < jobs and not ready and bool(fetching)
                waited_from = time.monotonic()
                finished, _ = wait_for([*fetching, *aligning], return_when=FIRST_COMPLETED)
                if starved:
                    self.timings.download_wait_seconds += time.monotonic() - waited_from
                for future in finished:
                    if future in fetching:
                        self._fetched(fetching.pop(future), future, ready, bar)  # type: ignore[arg-type]
                    else:
                        broken = self._aligned(aligning.pop(future), future, bar)  # type: ignore[arg-type]
                        if broken:
                            aligners.shutdown(wait=False, cancel_futures=True)
                            aligners = _align_pool(self.align.model, jobs)
        finally:
            bar.close()
            downloads.shutdown(wait=False, cancel_futures=True)
            aligners.shutdown(wait=True, cancel_futures=True)

    def _fetch(self, work: Work) -> Fetched:
        options = replace(self.fetch, archive=work.archive, progress=False)
        return fetch_work(work, state_dir(self.out_dir), options)

    def _job(self, fetched: Fetched) -> AlignJob:
        key = fetched.work.entry.key
        return AlignJob(
            key,
            fetched.audio.path,
            fetched.transcript,
            self.out_dir / fetched.work.stem,
            self.align,
        )

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
        self, work: Work, future: Future[Fetched], ready: deque[Fetched], bar: tqdm
    ) -> None:
        try:
            fetched = future.result()
        except InArchive:
            self._finish(work, "skipped", "in the download archive", bar, state="skipped")
            return
        except PodalignError as err:
            self._finish(work, "failed", str(err), bar)
            return
        except Exception as err:  # a bug, not bad input: report it and keep going
            log.exception("fetching %s failed", work.url)
            self._finish(work, "failed", f"internal error: {type(err).__name__}: {err}", bar)
            return
        self.timings.download_seconds += fetched.audio.seconds
        ready.append(fetched)

    def _aligned(self, fetched: Fetched, future: Future[AlignDone], bar: tqdm) -> bool:
        """Record an alignment's outcome; return True if the worker pool broke."""
        work = fetched.work
        try:
            done = future.result()
        except BrokenProcessPool:
            reason = "the worker process died (killed or out of memory); rerun to retry"
            self._finish(work, "failed", reason, bar)
            fetched.discard()
            return True
        self.timings.align_seconds += done.seconds
        if done.result is None:
            self._finish(work, "failed", done.error or "alignment failed", bar)
        else:
            try:
                self._record_done(fetched, done, bar)
            except OSError as err:  # disk full, permissions: this episode fails, not the run
                self._finish(work, "failed", f"cannot write its outputs: {err}", bar)
        fetched.discard()
        return False

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
        self, work: Work, status: str, reason: str, bar: tqdm, *, state: str | None = None
    ) -> None:
        self.state.update(work.entry.key, status=state or status, reason=reason)
        self._report(work, status, reason, bar)

    def _report(self, work: Work, status: str, reason: str, bar: tqdm, seconds: float = 0) -> None:
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


def _align_pool(model: str, jobs: int) -> ProcessPoolExecutor:
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
        initargs=(model, threads, level, os.getpid()),
    )
