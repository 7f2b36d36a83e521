"""The Ray engine (`podalign batch --engine ray`): a batch's work on a Ray cluster.

The driver (the `podalign batch` process) keeps everything that decides and records:
planning, the state store, the lock, the archive, writing subtitles into --out and the
feed snippet; pipeline.batch.runner.Engine runs the same loop as for the local engine. What it
hands to Ray is the heavy part:

- downloads are tasks on Downloader actors, one a node, each running them on threads as
  the local engine does (a fresh worker process a download paid yt-dlp's start-up each
  time: Ray reached 0.66 of the local engine's throughput that way, 0.85-0.87 this way);
  the audio comes back as an object in Ray's object store, never through a shared file
  system;
- alignment runs in Aligner actors that load the model once and are sized to it: as many
  CPUs as the model's threads, or one GPU; an actor gets the audio from the object
  store, aligns it in its own scratch folder and returns the subtitle files' bytes.

Ray Core, not Ray Data: the driver must commit each episode's outcome to its state store
as it lands, retry an episode whose actor died a bounded number of times, and report a
bad episode alone with its reason; a Ray Data pipeline streams rows to a sink and retries
or drops them by itself, with none of these hooks. Imported only for --engine ray.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray import ObjectRef
from ray.exceptions import RayError

from pipeline.batch.episode_steps import Fetched, FetchFailure, fetch_outcome
from pipeline.batch.planning import Work
from pipeline.batch.runner import Backend, BackendSpec, WorkerDied
from pipeline.batch.state import state_dir
from pipeline.batch.workers import AlignDone, AlignJob, align_job, prepare_worker
from pipeline.errors import PodalignError
from pipeline.files import write_atomic
from pipeline.inputs.fetch import FetchOptions
from pipeline.whisper.models import resolved_device

if TYPE_CHECKING:
    from pipeline.episode import AlignOptions

log = logging.getLogger(__name__)

# Downloads wait on the network, not on a core: reserving a CPU each would leave them no
# room while the aligners hold every core (the driver bounds how many run at once).
DOWNLOAD_CPUS = 0
# A Downloader whose process dies is restarted by Ray, this many times a batch.
DOWNLOADER_RESTARTS = 3
# A GPU aligner still computes features and cues on the CPU, one thread's worth.
GPU_ALIGNER_CPUS = 1


def ray_backend(address: str | None) -> Callable[[BackendSpec], Backend[Any]]:
    """The factory the Engine calls once there is work: it joins or starts Ray then."""
    return partial(RayBackend, address=address)


@dataclass(frozen=True)
class Downloaded:
    """A download task's small result; the audio bytes are a separate object-store
    object, which the driver never pulls: the aligning actor does."""

    fetched: Fetched  # paths inside it are on the downloading node, gone by now
    linked_transcript: bytes | None  # a feed-linked transcript's bytes, for the driver


@dataclass(frozen=True)
class Aligned:
    done: AlignDone  # result.outputs: {format: file name}
    files: dict[str, bytes]  # file name -> bytes, for the driver to write into --out


class Downloader:
    """A Ray actor on one node: downloads on threads, as the local engine's are, so
    yt-dlp's import and extractor table are paid once a node, not once a download."""

    def __init__(self) -> None:
        import yt_dlp

        yt_dlp.extractor.gen_extractor_classes()  # loaded now, while the aligners load too

    @ray.method(num_returns=2)
    def download(
        self, work: Work, options: FetchOptions
    ) -> tuple[Downloaded | FetchFailure, bytes | None]:
        scratch = Path(tempfile.mkdtemp(prefix="podalign-fetch-"))
        try:
            result = fetch_outcome(work, scratch, options)
            if isinstance(result, FetchFailure):
                return result, None
            linked = None
            if work.match.link is not None and result.transcript is not None:
                linked = result.transcript.read_bytes()
            return Downloaded(result, linked), result.audio.path.read_bytes()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


class Aligner:
    """A Ray actor: one model, loaded once, aligning one episode at a time."""

    def __init__(self, options: AlignOptions, cpu_threads: int, log_level: int) -> None:
        # Read by OpenMP when the model's first thread pool starts (as in a local worker).
        os.environ["OMP_NUM_THREADS"] = str(cpu_threads)
        prepare_worker(options, log_level)

    def pid(self) -> int:
        return os.getpid()

    def align(self, job: AlignJob, audio: bytes, transcript: bytes | None) -> Aligned:
        scratch = Path(tempfile.mkdtemp(prefix="podalign-align-"))
        try:
            # The same file names as on the driver: the audio's stem titles the subtitles,
            # the transcript's suffix says how to read it.
            audio_path = _written(scratch / "audio" / job.audio.name, audio)
            text = None
            if job.transcript is not None:
                text = _written(scratch / "text" / job.transcript.name, transcript)
            (scratch / "out").mkdir()
            local = replace(job, audio=audio_path, transcript=text,
                            out_stem=scratch / "out" / job.out_stem.name)  # fmt: skip
            done = align_job(local)
            if done.result is None:
                return Aligned(done, {})
            paths = done.result.outputs.values()
            files = {Path(p).name: Path(p).read_bytes() for p in paths}
            names = {fmt: Path(p) for fmt, p in done.result.outputs.items()}
            # Only what the driver records travels back, not the alignment records.
            result = replace(done.result, outputs=names, alignment=None, cues=())
            return Aligned(replace(done, result=result), files)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _written(path: Path, data: bytes | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data or b"")
    return path


_RemoteAligner = ray.remote(Aligner)
_RemoteDownloader = ray.remote(num_cpus=DOWNLOAD_CPUS)(Downloader)


class RayBackend:
    """Downloads on a Downloader actor a node, alignments on up to spec.jobs Aligners."""

    def __init__(self, spec: BackendSpec, address: str | None) -> None:
        self.spec = spec
        self._owns_connection = _connect(address)
        self._level = logging.getLogger().getEffectiveLevel()
        self._actor_options, self.slots = _aligner_resources(spec)
        self.lookahead = self.slots + 1  # as the local engine: one ready for the next aligner
        # Aligners start on the first episodes to align, as the local engine's pool does:
        # the first downloads then have the cores to themselves.
        self._idle: list[Any] = []
        self._downloaders = [_new_downloader(node, self.lookahead) for node in _alive_nodes()]
        self._fetches = 0  # downloads handed out so far: they go to the nodes in turn
        self._busy: dict[ObjectRef[Any], Any] = {}  # align ref -> its actor
        self._audio: dict[str, Any] = {}  # episode key -> its audio's object ref
        self._audio_of_fetch: dict[ObjectRef[Any], Any] = {}

    def _new_actor(self) -> Any:
        return _RemoteAligner.options(**self._actor_options).remote(
            self.spec.align, self._actor_options["num_cpus"], self._level
        )

    def fetch(self, work: Work) -> ObjectRef[Any]:
        options = replace(self.spec.fetch, archive=work.archive, progress=False)
        downloader = self._downloaders[self._fetches % len(self._downloaders)]
        self._fetches += 1
        meta, audio = downloader.download.remote(work, options)
        self._audio_of_fetch[meta] = audio
        return meta

    def fetched(self, handle: ObjectRef[Any]) -> Fetched | FetchFailure:
        audio = self._audio_of_fetch.pop(handle)
        try:
            result = ray.get(handle)
        except RayError as err:  # its Downloader died, past Ray's own restarts and retries
            return FetchFailure(f"the download failed on the cluster: {_first_line(err)}")
        if isinstance(result, FetchFailure):
            return result
        fetched = result.fetched
        if result.linked_transcript is not None:  # kept here for the report, as locally
            assert fetched.transcript is not None
            scratch = state_dir(self.spec.out_dir) / "transcripts"
            scratch.mkdir(parents=True, exist_ok=True)
            path = write_atomic(scratch / fetched.transcript.name, result.linked_transcript)
            fetched = replace(fetched, transcript=path)
        self._audio[fetched.work.entry.key] = audio
        return fetched

    def align(self, fetched: Fetched) -> ObjectRef[Any]:
        work = fetched.work
        transcript = fetched.transcript
        job = AlignJob(
            work.entry.key,
            Path(fetched.audio.path.name),
            Path(transcript.name) if transcript else None,
            Path(work.stem),
            self.spec.align,
        )
        text = transcript.read_bytes() if transcript else None
        actor = self._idle.pop() if self._idle else self._new_actor()
        ref = actor.align.remote(job, self._audio[work.entry.key], text)
        self._busy[ref] = actor
        return ref

    def wait(self, handles: Sequence[ObjectRef[Any]]) -> list[ObjectRef[Any]]:
        finished, _ = ray.wait(list(handles), num_returns=1)
        return finished

    def aligned(self, handle: ObjectRef[Any]) -> AlignDone:
        actor = self._busy.pop(handle)
        try:
            aligned: Aligned = ray.get(handle)
        except RayError as err:  # the actor died, or its node, or Ray's memory monitor struck
            with contextlib.suppress(RayError):
                ray.kill(actor)  # the next episode starts a new one, on whichever node has room
            raise WorkerDied(_first_line(err)) from None
        self._idle.append(actor)
        done = aligned.done
        if done.result is None:
            return done
        try:
            outputs = {
                fmt: write_atomic(self.spec.out_dir / name.name, aligned.files[name.name])
                for fmt, name in done.result.outputs.items()
            }
        except OSError as err:  # disk full, permissions: this episode fails, not the run
            return AlignDone(done.key, None, f"cannot write its outputs: {err}", done.seconds)
        return replace(done, result=replace(done.result, outputs=outputs))

    def release(self, fetched: Fetched) -> None:
        self._audio.pop(fetched.work.entry.key, None)  # the object store frees it

    def close(self) -> None:
        for actor in [*self._idle, *self._busy.values(), *self._downloaders]:
            with contextlib.suppress(RayError):
                ray.kill(actor)
        self._idle, self._busy, self._downloaders = [], {}, []
        if self._owns_connection:
            ray.shutdown()


def _alive_nodes() -> list[dict[str, Any]]:
    return [node for node in ray.nodes() if node.get("Alive")]


def _new_downloader(node: dict[str, Any], threads: int) -> Any:
    """A Downloader on node, with a thread for each download the driver keeps in flight;
    soft, so a node that leaves does not strand the batch's downloads."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    placement = NodeAffinitySchedulingStrategy(node["NodeID"], soft=True)
    return _RemoteDownloader.options(
        scheduling_strategy=placement,
        max_concurrency=threads,
        max_restarts=DOWNLOADER_RESTARTS,
        max_task_retries=1,  # a download is safe to repeat; a second death fails the episode
    ).remote()


def _connect(address: str | None) -> bool:
    """Join the cluster at address, or the Ray already started in this process or on this
    machine, or start one sized to the machine; return whether this call connected."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network calls home
    if address:
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING)
        else:
            ray.init(include_dashboard=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"--ray-address {address}" if address else "a local Ray instance"
        raise PodalignError(
            f"{where}: cannot join or start Ray ({_first_line(err)}); start the head node with "
            "`ray start --head` and pass its HOST:6379, or leave --ray-address out"
        ) from None
    return True


# Ray itself retries a head that does not answer for minutes; one that is up answers a TCP
# connection at once, even across a data centre.
_CONNECT_TIMEOUT_SECONDS = 5.0


def _check_reachable(address: str) -> None:
    """Refuse at once a HOST:PORT where nothing listens (other forms go to Ray as given)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host, int(port)), _CONNECT_TIMEOUT_SECONDS).close()
    except OSError as err:
        raise PodalignError(
            f"--ray-address {address}: no Ray head answers there ({err.strerror or err}); "
            "start one with `ray start --head --port 6379`, or leave --ray-address out"
        ) from None


def _aligner_resources(spec: BackendSpec) -> tuple[dict[str, Any], int]:
    """Ray resources of one aligner actor, and how many actors the cluster can hold (at
    most spec.jobs): an actor that can never be placed would hold its episode forever."""
    total = ray.cluster_resources()
    gpus = int(total.get("GPU", 0))
    device = spec.align.device
    if device == "cuda" and not gpus:
        raise PodalignError("--device cuda: the Ray cluster has no GPU; use --device cpu or auto")
    if gpus and device in ("cuda", "auto"):
        return {"num_cpus": GPU_ALIGNER_CPUS, "num_gpus": 1}, min(spec.jobs, gpus)
    resolved_device("cpu", spec.align.compute_type)  # a bad compute type fails here, once
    nodes = [int(n["Resources"].get("CPU", 0)) for n in _alive_nodes()] or [1]
    # As the local engine shares one machine's cores: jobs actors x threads = the CPUs,
    # and an actor's threads all on one node.
    threads = max(1, min(sum(nodes) // spec.jobs, max(nodes)))
    count = min(spec.jobs, max(1, sum(n // threads for n in nodes)))
    if count < spec.jobs:
        log.warning("the Ray cluster holds %d aligners of %d CPU(s), not %d", count, threads,
                    spec.jobs)  # fmt: skip
    return {"num_cpus": threads}, count


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".strip(": ")
