"""The local engine keeps the Ray engine's promise: an episode whose worker process dies is
aligned again by a new one (pipeline.batch.runner.Engine, shared by both engines)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from loopback import FeedItem, LoopbackServer, Route, rss_feed
from spoken import SpokenEpisode
from test_batch import REPO, _batch_cmd, _children, _statuses


@pytest.mark.slow
def test_a_killed_local_worker_has_its_episode_aligned_by_a_new_one(
    loopback: LoopbackServer, spoken_episodes: dict[str, SpokenEpisode], tmp_path: Path
) -> None:
    episode = spoken_episodes["halsa"]
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    (transcripts / "halsa.txt").write_bytes(episode.transcript.read_bytes())
    url = loopback.add("halsa.mp3", Route(episode.audio_bytes, "audio/mpeg"))
    feed = loopback.add("feed.xml", Route(rss_feed("P", [FeedItem("halsa", url, guid="halsa")]),
                        "application/rss+xml"))  # fmt: skip
    out = tmp_path / "out"
    batch = subprocess.Popen(
        _batch_cmd(feed, transcripts, out), cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while _statuses(out).get("halsa") != "aligning":
            assert batch.poll() is None and time.monotonic() < deadline, _statuses(out)
            time.sleep(0.02)
        # The status is written as the episode is handed to the pool, which may still be
        # starting its worker process.
        while not (workers := [pid for pid in _children(batch.pid) if _is_pool_worker(pid)]):
            assert batch.poll() is None and time.monotonic() < deadline, _statuses(out)
            time.sleep(0.02)
        assert len(workers) == 1  # --jobs 1
        os.kill(workers[0], signal.SIGKILL)
        stdout, stderr = batch.communicate(timeout=240)
    finally:
        if batch.poll() is None:
            batch.kill()
            batch.wait(timeout=30)
    assert batch.returncode == 0, stderr[-2000:]
    assert "its aligner died" in stderr and "retrying on another worker (2 of 3)" in stderr
    assert _statuses(out) == {"halsa": "done"}
    assert (out / "halsa.vtt").read_text().startswith("WEBVTT")
    assert stdout.split("\n")[1].split()[:2] == ["done", "halsa"]


def _is_pool_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
