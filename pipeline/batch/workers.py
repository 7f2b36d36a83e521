"""The process side of a batch: each worker loads the model once, then aligns episode after
episode. Nothing heavy is imported at module level, so a worker can cap its threads first."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pipeline.errors import PodalignError

if TYPE_CHECKING:
    from pipeline.episode import AlignOptions, EpisodeResult

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class AlignJob:
    key: str
    audio: Path
    transcript: Path | None
    out_stem: Path
    options: AlignOptions


@dataclass(frozen=True)
class AlignDone:
    key: str
    result: EpisodeResult | None
    error: str | None  # one line, when result is None
    seconds: float


def init_worker(options: AlignOptions, cpu_threads: int, log_level: int, batch_pid: int) -> None:
    """Process-pool initializer: die with the batch, share the cores, load the model."""
    _die_with_parent(batch_pid)
    # Read by OpenMP when the model's first thread pool starts: jobs x threads = the cores.
    os.environ["OMP_NUM_THREADS"] = str(cpu_threads)
    prepare_worker(options, log_level)


def prepare_worker(options: AlignOptions, log_level: int) -> None:
    """Quiet a worker's terminal output and load its model (any engine's workers)."""
    # Several workers share the batch's terminal: their own progress bars would scribble
    # over the batch's bar, and their step-by-step logs over its per-episode lines.
    sys.stderr = _NotATerminal(sys.stderr)
    quiet = log_level if log_level <= logging.DEBUG else max(log_level, logging.WARNING)
    logging.basicConfig(level=quiet, stream=sys.stderr, format="podalign: %(message)s")
    from pipeline.whisper.models import load_model

    started = time.monotonic()
    # Cached per process: every episode of this worker reuses it.
    load_model(options.model, device=options.device, compute_type=options.compute_type)
    log.debug("worker %d loaded %s in %.1f s", os.getpid(), options.model,
              time.monotonic() - started)  # fmt: skip


def align_job(job: AlignJob) -> AlignDone:
    """Align one episode; return its result or a one-line error (never raise: the error
    must reach the batch as a reason, whatever the exception's picklability)."""
    from pipeline.episode import align_episode

    started = time.monotonic()
    try:
        result = align_episode(job.audio, job.transcript, job.out_stem, job.options)
    except PodalignError as err:
        return AlignDone(job.key, None, str(err), time.monotonic() - started)
    except Exception as err:  # a bug, not bad input: keep the batch going, log the traceback
        log.exception("aligning %s failed", job.audio)
        reason = f"internal error: {type(err).__name__}: {err}"
        return AlignDone(job.key, None, reason, time.monotonic() - started)
    return AlignDone(job.key, result, None, time.monotonic() - started)


def _die_with_parent(parent: int) -> None:
    """Exit when the batch process dies, even by kill -9: an orphan would go on writing
    into the output folder while a rerun works there."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:  # no prctl: watch for being re-parented instead
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


class _NotATerminal:
    """A stream that passes everything through but says it is no terminal, so the
    aligner's tqdm bars stay off in workers."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)
