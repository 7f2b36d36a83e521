"""`podalign batch --engine ray` on a real local Ray cluster (two CPUs, one per module: each
start costs seconds), against the real yt-dlp on 127.0.0.1 and the real model."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import ray
from loopback import FeedItem, LoopbackServer, Route, rss_feed
from spoken import SpokenEpisode
from test_batch import REPO, _statuses

from pipeline.batch.runner import ALIGN_ATTEMPTS
from pipeline.batch.state import BatchLock, StateStore
from pipeline.cli.batch import EXIT_ERROR, EXIT_OK, EXIT_SOME_FAILED
from pipeline.cli.commands import build_parser, main

RAY_CPUS = 2
# Enough for the short test episodes; Ray's default is 30 % of the machine's memory.
OBJECT_STORE_BYTES = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A two-CPU Ray cluster for the module; its sockets and logs in a temporary folder
    (short: a Unix socket path holds at most 107 bytes), all of it gone afterwards."""
    temp = tempfile.mkdtemp(prefix="ray-")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        num_cpus=RAY_CPUS, include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES,
        _temp_dir=temp, logging_level="WARNING",
    )  # fmt: skip
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def _batch(argv: list[str]) -> int:
    args = build_parser().parse_args(["batch", *argv, "--retries", "0", "--audio-lang", "sv"])
    return args.func(args)


@dataclass(frozen=True)
class EngineRuns:
    local_out: Path
    ray_out: Path
    local_exit: int
    ray_exit: int
    rerun_exit: int
    hits_after_ray: Counter[str]
    hits_after_rerun: Counter[str]


@pytest.fixture(scope="module")
def engine_runs(
    ray_address: str,
    spoken_episodes: dict[str, SpokenEpisode],
    tmp_path_factory: pytest.TempPathFactory,
) -> EngineRuns:
    """One feed of good and bad items, batched by each engine into its own folder, then
    by the Ray engine again on its folder."""
    transcripts = tmp_path_factory.mktemp("transcripts")
    halsa, vaccin, kost = (spoken_episodes[n] for n in ("halsa", "vaccin", "kost"))
    (transcripts / "guid-halsa.txt").write_bytes(halsa.transcript.read_bytes())  # by GUID
    (transcripts / "vaccin.txt").write_bytes(vaccin.transcript.read_bytes())  # by title
    root = tmp_path_factory.mktemp("engines")
    with LoopbackServer() as server:
        audio = kost.audio_bytes
        items = [
            FeedItem("Hälsa", server.add("halsa.mp3", Route(halsa.audio_bytes, "audio/mpeg")),
                     guid="guid-halsa"),
            FeedItem("Vaccin", server.add("vaccin.mp3", Route(vaccin.audio_bytes, "audio/mpeg")),
                     guid="guid-vaccin"),
            FeedItem("Borta", server.url("missing.mp3"), guid="guid-404"),
            FeedItem("Avklippt", server.add("cut.mp3", Route(audio[: len(audio) // 3],
                     "audio/mpeg")), guid="guid-cut"),
            FeedItem("Kost", server.add("kost.mp3", Route(audio, "audio/mpeg")),
                     guid="guid-linked", transcripts=((server.add("kost.txt", Route(
                         kost.transcript.read_bytes(), "text/plain; charset=utf-8")),
                         "text/plain"),)),
        ]  # fmt: skip
        feed = server.add("feed.xml", Route(rss_feed("Hälsopodden", items), "application/rss+xml"))
        common = [feed, "--transcripts", str(transcripts), "--jobs", "2",
                  "--publish-url", "https://cdn.example.org/subs"]  # fmt: skip
        local_exit = _batch([*common, "--out", str(root / "local")])
        hits_before_ray = Counter(server.hits)
        ray_exit = _batch([*common, "--out", str(root / "ray"), "--engine", "ray"])
        hits_after_ray = Counter(server.hits) - hits_before_ray
        rerun_exit = _batch([*common, "--out", str(root / "ray"), "--engine", "ray"])
        hits_after_rerun = Counter(server.hits) - hits_before_ray
    return EngineRuns(
        root / "local", root / "ray", local_exit, ray_exit, rerun_exit, hits_after_ray,
        hits_after_rerun,
    )  # fmt: skip


def _outcomes(out: Path) -> dict[str, tuple[str, str | None]]:
    state = StateStore(out)
    try:
        return {e.key: (e.status, e.reason) for e in state.all()}
    finally:
        state.close()


def _published_files(out: Path) -> dict[str, bytes]:
    """The subtitles and feed snippets of out (reports hold timings, which differ)."""
    state = StateStore(out)
    try:
        names = [n for e in state.all() for kind, n in e.outputs.items() if kind != "report"]
    finally:
        state.close()
    return {name: (out / name).read_bytes() for name in [*names, "podcast-transcripts.xml"]}


@pytest.mark.slow
def test_ray_engine_does_good_items_and_fails_bad_ones_alone(engine_runs: EngineRuns) -> None:
    assert (engine_runs.local_exit, engine_runs.ray_exit) == (EXIT_SOME_FAILED,) * 2
    outcomes = _outcomes(engine_runs.ray_out)
    assert {k: s for k, (s, _) in outcomes.items()} == {
        "guid-halsa": "done", "guid-vaccin": "done", "guid-linked": "done",
        "guid-404": "failed", "guid-cut": "failed",
    }  # fmt: skip
    assert outcomes["guid-404"][1].endswith("/missing.mp3: HTTP 404 Not Found")  # type: ignore[union-attr]
    assert "truncated audio" in outcomes["guid-cut"][1]  # type: ignore[operator]
    assert outcomes == _outcomes(engine_runs.local_out)  # the same reasons, word for word
    assert not list(engine_runs.ray_out.rglob("*.part"))


@pytest.mark.slow
def test_both_engines_write_byte_identical_files(engine_runs: EngineRuns) -> None:
    local = _published_files(engine_runs.local_out)
    assert {"halsa.vtt", "vaccin.srt", "kost.json", "kost.podcast.xml"} <= set(local)
    assert _published_files(engine_runs.ray_out) == local


@pytest.mark.slow
def test_ray_rerun_does_nothing_new(engine_runs: EngineRuns) -> None:
    assert engine_runs.rerun_exit == EXIT_SOME_FAILED  # the bad items are retried, and fail
    outcomes = _outcomes(engine_runs.ray_out)
    assert outcomes["guid-halsa"] == ("done", "same-language")
    before, after = engine_runs.hits_after_ray, engine_runs.hits_after_rerun
    for path in ("/halsa.mp3", "/vaccin.mp3", "/kost.mp3", "/kost.txt"):
        assert after[path] == before[path] > 0, f"{path} fetched again"
    assert after["/missing.mp3"] > before["/missing.mp3"]  # a failure is tried again


def test_a_second_batch_on_a_locked_folder_is_refused(
    ray_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, transcripts = tmp_path / "out", tmp_path / "transcripts"
    out.mkdir()
    transcripts.mkdir()
    feed = tmp_path / "feed.xml"  # the inputs are read before the lock is taken
    feed.write_bytes(rss_feed("Hälsopodden", [FeedItem("Hälsa", "http://127.0.0.1:9/a.mp3")]))
    argv = [str(feed), "--transcripts", str(transcripts), "--out", str(out), "--engine", "ray"]
    with BatchLock(out):  # as another batch holds it
        assert main(["batch", *argv]) == EXIT_ERROR
    assert "another batch" in capsys.readouterr().err


# --- dead aligners ----------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def _actor_pids(title: str) -> list[int]:
    """Our cluster's actor processes whose title starts so (ray::Class[.method])."""
    pids = []
    for pid in _descendants(os.getpid()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if cmdline.startswith(title):
            pids.append(pid)
    return pids


def _aligner_pids() -> list[int]:
    return _actor_pids("ray::Aligner")


class ActorKiller:
    """Kills (SIGKILL) up to `limit` actor processes as soon as each starts `title`."""

    def __init__(self, limit: int, title: str = "ray::Aligner.align") -> None:
        self.limit = limit
        self.title = title
        self.killed: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ActorKiller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.is_set() and len(self.killed) < self.limit:
            # A killed actor can still be listed on the next look, before it is gone: it
            # was counted twice (4 kills for 3 deaths, on a fresh clone's `make test`).
            for pid in set(_actor_pids(self.title)) - set(self.killed):
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
            time.sleep(0.02)


@pytest.mark.slow
def test_an_episode_whose_aligners_die_is_retried_a_bounded_number_of_times(
    ray_address: str,
    engine_runs: EngineRuns,
    spoken_episodes: dict[str, SpokenEpisode],
    loopback: LoopbackServer,
    tmp_path: Path,
) -> None:
    """One aligner job at a time; the first ALIGN_ATTEMPTS alignments are killed. A retry
    goes first in line, so the first episode takes every kill and fails; the other one is
    then aligned by a fresh actor as if nothing had happened."""
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    items = []
    for name in ("halsa", "vaccin"):
        episode = spoken_episodes[name]
        (transcripts / f"{name}.txt").write_bytes(episode.transcript.read_bytes())
        url = loopback.add(f"{name}.mp3", Route(episode.audio_bytes, "audio/mpeg"))
        items.append(FeedItem(name.capitalize(), url, guid=name))
    feed = loopback.add("feed.xml", Route(rss_feed("P", items), "application/rss+xml"))
    out = tmp_path / "out"
    argv = [feed, "--transcripts", str(transcripts), "--engine", "ray", "--jobs", "1"]
    with ActorKiller(limit=ALIGN_ATTEMPTS) as killer:
        assert _batch([*argv, "--out", str(out)]) == EXIT_SOME_FAILED
    assert len(killer.killed) == ALIGN_ATTEMPTS
    outcomes = _outcomes(out)
    failed = [key for key, (status, _) in outcomes.items() if status == "failed"]
    assert len(failed) == 1, outcomes
    assert f"died {ALIGN_ATTEMPTS} times" in outcomes[failed[0]][1]  # type: ignore[operator]
    assert not (out / f"{failed[0]}.vtt").exists()
    survivor = "vaccin" if failed == ["halsa"] else "halsa"
    assert outcomes[survivor] == ("done", "same-language")
    expected = (engine_runs.local_out / f"{survivor}.vtt").read_bytes()
    assert (out / f"{survivor}.vtt").read_bytes() == expected


@pytest.mark.slow
def test_a_download_whose_downloader_dies_is_done_again_by_a_restarted_one(
    ray_address: str,
    engine_runs: EngineRuns,
    spoken_episodes: dict[str, SpokenEpisode],
    loopback: LoopbackServer,
    tmp_path: Path,
) -> None:
    """The Downloader is killed while it streams the first episode (served slowly): Ray
    restarts it and repeats the download, and the batch ends as if nothing had happened."""
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    episode = spoken_episodes["halsa"]
    (transcripts / "halsa.txt").write_bytes(episode.transcript.read_bytes())
    slowly = len(episode.audio_bytes) / 2  # bytes a second: two seconds a download
    url = loopback.add(
        "slow-halsa.mp3", Route(episode.audio_bytes, "audio/mpeg", bytes_per_second=slowly)
    )
    feed = loopback.add("slow.xml", Route(rss_feed("P", [FeedItem("Halsa", url, guid="halsa")]),
                                          "application/rss+xml"))  # fmt: skip
    out = tmp_path / "out"
    argv = [feed, "--transcripts", str(transcripts), "--engine", "ray", "--out", str(out)]
    with ActorKiller(limit=1, title="ray::Downloader.download") as killer:
        assert _batch(argv) == 0
    assert len(killer.killed) == 1
    assert loopback.hits["/slow-halsa.mp3"] >= 2  # fetched again after the kill
    assert _outcomes(out) == {"halsa": ("done", "same-language")}
    expected = (engine_runs.local_out / "halsa.vtt").read_bytes()
    assert (out / "halsa.vtt").read_bytes() == expected


# --- the driver killed --------------------------------------------------------------------


@pytest.mark.slow
def test_driver_killed_then_rerun_loses_and_redoes_nothing(
    ray_address: str,
    spoken_episodes: dict[str, SpokenEpisode],
    loopback: LoopbackServer,
    tmp_path: Path,
) -> None:
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    items = []
    for name in ("halsa", "vaccin"):
        episode = spoken_episodes[name]
        (transcripts / f"{name}.txt").write_bytes(episode.transcript.read_bytes())
        url = loopback.add(f"{name}.mp3", Route(episode.audio_bytes, "audio/mpeg"))
        items.append(FeedItem(name, url, guid=name))
    feed = loopback.add("feed.xml", Route(rss_feed("P", items), "application/rss+xml"))
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "pipeline", "batch", feed, "--transcripts", str(transcripts),
        "--out", str(out), "--jobs", "1", "--audio-lang", "sv", "--retries", "0",
        "--engine", "ray", "--ray-address", ray_address,
    ]  # fmt: skip
    log = tmp_path / "driver.log"
    with log.open("wb") as log_file:
        driver = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        deadline = time.monotonic() + 240

        def wait_for(condition: Callable[[dict[str, str]], bool]) -> dict[str, str]:
            while not condition(statuses := _statuses(out)):
                assert driver.poll() is None, f"driver ended early: {statuses}\n{log.read_text()}"
                assert time.monotonic() < deadline, f"stuck at {statuses}\n{log.read_text()}"
                time.sleep(0.02)
            return statuses

        wait_for(bool)  # state rows exist only while the driver holds the folder's lock
        rival = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert rival.returncode == EXIT_ERROR
        assert "is running on this output folder" in rival.stderr
        statuses = wait_for(lambda s: sorted(s.values()) == ["aligning", "done"])
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=30)
    finished = next(key for key, status in statuses.items() if status == "done")
    killed = next(key for key, status in statuses.items() if status == "aligning")
    finished_vtt = (out / f"{finished}.vtt").stat()
    for _ in range(300):  # Ray ends a dead driver's actors: none goes on working for it
        if not _aligner_pids():
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"aligners {_aligner_pids()} outlived their killed driver")
    hits_before = Counter(loopback.hits)

    rerun = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == EXIT_OK, rerun.stderr[-2000:]
    assert _statuses(out) == {"halsa": "done", "vaccin": "done"}
    assert (out / f"{finished}.vtt").stat().st_mtime_ns == finished_vtt.st_mtime_ns  # not redone
    assert loopback.hits[f"/{finished}.mp3"] == hits_before[f"/{finished}.mp3"]
    assert loopback.hits[f"/{killed}.mp3"] > hits_before[f"/{killed}.mp3"]
    assert (out / f"{killed}.vtt").read_text().startswith("WEBVTT")
    assert not list(out.rglob("*.part"))


LOCAL_ENGINE_IMPORTS = """
import sys
from pathlib import Path
from pipeline.cli.commands import build_parser
from pipeline.episode import AlignOptions
from pipeline.batch.feedrun import BatchOptions, _backend_factory
build_parser()
_backend_factory(BatchOptions("feed.xml", Path("out"), AlignOptions()))
print("ray" in sys.modules)
"""


def test_the_local_engine_never_imports_ray() -> None:
    code = LOCAL_ENGINE_IMPORTS
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.stdout.strip() == "False", result.stderr


def test_an_address_where_no_ray_head_listens_is_a_one_line_error(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    """In a fresh process: this one's Ray (the module's cluster) would be joined instead."""
    with socket.socket() as probe:  # a port just freed: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    item = FeedItem("A", loopback.add("a.mp3", Route(b"x", "audio/mpeg")), guid="a")
    feed = loopback.add("feed.xml", Route(rss_feed("P", [item]), "application/rss+xml"))
    cmd = [sys.executable, "-m", "pipeline", "batch", feed, "--out", str(tmp_path / "out"),
           "--engine", "ray", "--ray-address", address]  # fmt: skip
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == EXIT_ERROR
    assert result.stderr.strip() == (
        f"podalign: error: --ray-address {address}: no Ray head answers there (Connection "
        "refused); start one with `ray start --head --port 6379`, or leave --ray-address out"
    )
    assert loopback.hits["/a.mp3"] == 0  # refused before any download
