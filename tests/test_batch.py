"""Whole batches: a feed on 127.0.0.1, the real yt-dlp, the real model, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from loopback import FeedItem, LoopbackServer, Route, rss_feed
from spoken import SpokenEpisode

from pipeline.batch.feed import read_feed
from pipeline.batch.feedrun import BatchOptions, BatchSummary, run_batch
from pipeline.batch.reports import PODCAST_NS
from pipeline.cli.batch import EXIT_ERROR, EXIT_OK
from pipeline.inputs.fetch import FetchOptions

REPO = Path(__file__).resolve().parent.parent
FAST_FETCH = FetchOptions(backoff_seconds=0.05, retries=1)
TRAVERSAL_TITLE = "../../../../tmp/evil/../passwd"


def _align_options():  # the lead's AlignOptions; Swedish audio said, as espeak fools detection
    from pipeline.episode import AlignOptions

    return AlignOptions(audio_lang="sv")


def _outcomes(summary: BatchSummary) -> dict[str, tuple[str, str]]:
    return {o.key: (o.status, o.reason) for o in summary.outcomes}


def _cli(argv: list[str]) -> int:
    """The real command line, in this process (pipeline.cli.commands.main)."""
    from pipeline.cli.commands import main

    return main(argv)


@dataclass(frozen=True)
class FeedRuns:
    server_hits_after_first: Counter[str]
    server_hits_after_second: Counter[str]
    first: BatchSummary
    second: BatchSummary
    out_dir: Path
    base_url: str


@pytest.fixture(scope="module")
def feed_runs(
    spoken_episodes: dict[str, SpokenEpisode], tmp_path_factory: pytest.TempPathFactory
) -> FeedRuns:
    """An eight-item feed with four kinds of bad item, processed twice on one folder."""
    transcripts = tmp_path_factory.mktemp("transcripts")
    halsa, vaccin, kost = (spoken_episodes[n] for n in ("halsa", "vaccin", "kost"))
    (transcripts / "guid-halsa.txt").write_bytes(halsa.transcript.read_bytes())  # by GUID
    (transcripts / "vaccin-for-barn.txt").write_bytes(vaccin.transcript.read_bytes())  # by title
    out_dir = tmp_path_factory.mktemp("batch") / "out"
    with LoopbackServer() as server:
        audio = kost.audio_bytes
        items = [
            FeedItem("Hälsa", server.add("m/halsa.mp3", Route(halsa.audio_bytes, "audio/mpeg")),
                     guid="guid-halsa"),
            FeedItem("Vaccin för barn", server.add("m/vaccin.mp3", Route(vaccin.audio_bytes,
                     "audio/mpeg")), guid="guid-vaccin"),
            FeedItem("Borta", server.url("m/missing.mp3"), guid="guid-404"),
            FeedItem("Webbsida", server.add("m/page", Route(b"<html><body>Hej</body></html>",
                     "text/html")), guid="guid-html"),
            FeedItem("Avklippt", server.add("m/cut.mp3", Route(audio[: len(audio) // 3],
                     "audio/mpeg")), guid="guid-cut"),
            FeedItem(TRAVERSAL_TITLE, server.add("m/kost.mp3", Route(audio, "audio/mpeg")),
                     guid="guid-evil"),
            FeedItem("Lokal fil", "file:///etc/passwd", guid="guid-file"),
            FeedItem("Kost", server.add("m/kost2.mp3", Route(audio, "audio/mpeg")),
                     guid="guid-linked", transcripts=((server.add("t/kost.txt", Route(
                         kost.transcript.read_bytes(), "text/plain; charset=utf-8")),
                         "text/plain"),)),
        ]  # fmt: skip
        feed_url = server.add(
            "feed.xml", Route(rss_feed("Hälsopodden", items), "application/rss+xml")
        )
        options = BatchOptions(
            feed=feed_url,
            out_dir=out_dir,
            align=_align_options(),
            transcripts_dir=transcripts,
            jobs=2,
            fetch=FAST_FETCH,
            publish_base_url="https://cdn.example.org/subs",
        )
        first = run_batch(options)
        hits_first = Counter(server.hits)
        second = run_batch(options)
        return FeedRuns(hits_first, Counter(server.hits), first, second, out_dir, server.base_url)


@pytest.mark.slow
def test_batch_finishes_good_episodes_and_gives_reasons_for_bad_ones(feed_runs: FeedRuns) -> None:
    outcomes = _outcomes(feed_runs.first)
    assert list(outcomes) == [
        "guid-halsa", "guid-vaccin", "guid-404", "guid-html", "guid-cut", "guid-evil", "guid-file",
        "guid-linked",
    ]  # fmt: skip
    assert {k for k, (status, _) in outcomes.items() if status == "done"} == {
        "guid-halsa", "guid-vaccin", "guid-evil", "guid-linked",
    }  # fmt: skip
    assert "transcript by guid" in outcomes["guid-halsa"][1]
    assert "transcript by title" in outcomes["guid-vaccin"][1]
    assert "no reference transcript found" in outcomes["guid-evil"][1]
    assert "transcript by feed" in outcomes["guid-linked"][1]
    assert outcomes["guid-404"] == (
        "failed",
        f"{feed_runs.base_url}/m/missing.mp3: HTTP 404 Not Found",
    )
    assert "serves a web page, not audio" in outcomes["guid-html"][1]
    assert "truncated audio" in outcomes["guid-cut"][1]
    assert "'file:///etc/passwd' refused" in outcomes["guid-file"][1]
    assert feed_runs.server_hits_after_first["/m/missing.mp3"] == 1  # a 404 is not retried


@pytest.mark.slow
def test_every_file_stays_inside_the_output_folder_with_safe_names(feed_runs: FeedRuns) -> None:
    out = feed_runs.out_dir
    assert not (out.parent.parent / "passwd.vtt").exists()
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert "tmp-evil-passwd.vtt" in names
    for name in names:
        assert (out / name).resolve().parent == out.resolve()
        assert all(c.isalnum() or c in "-." for c in name), name
    assert not list(out.rglob("*.part"))


@pytest.mark.slow
def test_reports_and_feed_snippets(feed_runs: FeedRuns) -> None:
    out = feed_runs.out_dir
    report = json.loads((out / "halsa.report.json").read_text())
    assert report["episode"]["guid"] == "guid-halsa"
    assert report["transcript"]["found_by"] == "guid"
    assert (report["mode"], report["language"]) == ("same-language", "sv")
    assert 0.0 <= report["confidence"] <= 1.0
    assert report["timings"]["audio_seconds"] > 4
    assert set(report["outputs"]) == {"vtt", "srt", "json"}
    assert (out / "halsa.vtt").read_text().startswith("WEBVTT")
    asr_only = json.loads((out / "tmp-evil-passwd.report.json").read_text())
    assert (asr_only["mode"], asr_only["transcript"]["found_by"]) == ("asr-only", "none")
    assert asr_only["language"] == "sv"  # the subtitles' text: Whisper's Swedish
    feed = read_feed(str(out / "podcast-transcripts.xml"))
    links = {e.guid: [t.url for t in e.transcripts] for e in feed.entries}
    assert set(links) == {"guid-halsa", "guid-vaccin", "guid-evil", "guid-linked"}
    assert "https://cdn.example.org/subs/halsa.vtt" in links["guid-halsa"]
    item = ET.parse(out / "halsa.podcast.xml").getroot()
    assert item.findtext("guid") == "guid-halsa"
    tags = item.findall(f"{{{PODCAST_NS}}}transcript")
    assert {t.get("type") for t in tags} == {"text/vtt", "application/x-subrip", "application/json"}
    summary = json.loads((out / "run-summary.json").read_text())
    assert summary["counts"] == {"done": 0, "skipped": 4, "failed": 4}  # the second run's
    linked = json.loads((out / "kost.report.json").read_text())["transcript"]
    assert linked["found_by"] == "feed" and linked["source"].endswith("/t/kost.txt")


@pytest.mark.slow
def test_second_run_does_nothing_new(feed_runs: FeedRuns) -> None:
    second = _outcomes(feed_runs.second)
    for key in ("guid-halsa", "guid-vaccin", "guid-evil", "guid-linked"):
        assert second[key] == ("skipped", "done before, unchanged")
    assert feed_runs.second.count("done") == 0
    assert feed_runs.second.count("failed") == 4  # failures are retried, and fail again
    before, after = feed_runs.server_hits_after_first, feed_runs.server_hits_after_second
    for path in ("/m/halsa.mp3", "/m/vaccin.mp3", "/m/kost.mp3", "/m/kost2.mp3", "/t/kost.txt"):
        assert after[path] == before[path], f"{path} fetched again"
    archive = (feed_runs.out_dir / "download-archive.txt").read_text().split("\n")
    assert sorted(filter(None, archive)) == [
        "generic halsa", "generic kost", "generic kost2", "generic vaccin",
    ]  # fmt: skip


def test_malformed_feed_is_a_one_line_error(
    loopback: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = loopback.add("feed.xml", Route(b"<rss><channel><item><title>A</ti", "application/xml"))
    assert _cli(["batch", url, "--out", str(tmp_path / "out")]) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"podalign: error: {url}: malformed feed XML at line 1, column 28")


def test_archived_items_and_broken_links_need_no_model(
    loopback: LoopbackServer, spoken_episodes: dict[str, SpokenEpisode], tmp_path: Path
) -> None:
    """yt-dlp's archive convention: a listed item is skipped before its media is fetched."""
    audio = spoken_episodes["halsa"].audio_bytes
    items = [
        FeedItem("I arkivet", loopback.add("halsa.mp3", Route(audio, "audio/mpeg")), guid="a"),
        FeedItem("Bruten länk", loopback.add("b.mp3", Route(audio, "audio/mpeg")), guid="b",
                 transcripts=((loopback.url("gone.txt"), "text/plain"),)),
        FeedItem("Utan ljud", None, guid="c"),
    ]  # fmt: skip
    feed = loopback.add("feed.xml", Route(rss_feed("P", items), "application/rss+xml"))
    archive = tmp_path / "my-archive.txt"
    archive.write_text("generic halsa\n")
    options = BatchOptions(feed, tmp_path / "out", _align_options(), archive_file=archive)
    outcomes = _outcomes(run_batch(options))
    assert outcomes["a"] == ("skipped", "in the download archive")
    assert loopback.hits["/halsa.mp3"] == 1  # yt-dlp looked, but never downloaded
    assert outcomes["b"][0] == "failed" and outcomes["b"][1].endswith(
        "gone.txt: HTTP 404 Not Found"
    )
    assert loopback.hits["/b.mp3"] == 0  # the small transcript is fetched, and fails, first
    assert outcomes["c"] == ("failed", "the feed item has no audio enclosure")
    assert archive.read_text() == "generic halsa\n"


def test_run_refuses_a_missing_episode_cleanly(
    loopback: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _cli(["run", loopback.url("nope.mp3"), "-o", str(out), "--retries", "0"]) == EXIT_ERROR
    assert capsys.readouterr().err.strip().endswith("nope.mp3: HTTP 404 Not Found")
    assert list(out.iterdir()) == []  # no lock, no scratch folder


@pytest.mark.slow
def test_run_fetches_one_url_and_aligns_it(
    loopback: LoopbackServer,
    spoken_episodes: dict[str, SpokenEpisode],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    episode = spoken_episodes["vaccin"]
    url = loopback.add("ep/vaccin.mp3", Route(episode.audio_bytes, "audio/mpeg"))
    out = tmp_path / "out"
    argv = ["run", url, "-t", str(episode.transcript), "-o", str(out), "--audio-lang", "sv"]
    assert _cli(argv) == EXIT_OK
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == ["vaccin.json", "vaccin.srt", "vaccin.vtt"]
    report = json.loads((out / "vaccin.report.json").read_text())
    assert report["transcript"]["found_by"] == "given"
    assert sorted(p.name for p in out.iterdir()) == [
        "vaccin.json", "vaccin.report.json", "vaccin.srt", "vaccin.vtt",
    ]  # fmt: skip


def _podalign(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.mark.slow
def test_run_leaves_nothing_but_its_outputs_wherever_it_writes(
    loopback: LoopbackServer, spoken_episodes: dict[str, SpokenEpisode], tmp_path: Path
) -> None:
    """-o relative to the current folder, and no -o at all (the current folder)."""
    episode = spoken_episodes["halsa"]
    url = loopback.add("ep/halsa.mp3", Route(episode.audio_bytes, "audio/mpeg"))
    transcript = str(episode.transcript)
    relative = _podalign("run", url, "-t", transcript, "-o", "runout", "--lang", "sv",
                         cwd=tmp_path)  # fmt: skip
    assert relative.returncode == EXIT_OK, relative.stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "runout", "runout/halsa.json", "runout/halsa.report.json", "runout/halsa.srt",
        "runout/halsa.vtt",
    ]  # fmt: skip
    here = tmp_path / "here"
    here.mkdir()
    beside = _podalign("run", url, "-t", transcript, "--lang", "SV", "--format", "vtt",
                       "--preview", cwd=here)  # fmt: skip
    assert beside.returncode == EXIT_OK, beside.stderr
    assert beside.stdout.split() == [str(here / "halsa.vtt"), str(here / "halsa.preview.html")]
    # the page plays the downloaded audio, kept beside it
    assert sorted(p.name for p in here.iterdir()) == [
        "halsa.mp3", "halsa.preview.html", "halsa.report.json", "halsa.vtt",
    ]  # fmt: skip
    assert 'src="halsa.mp3"' in (here / "halsa.preview.html").read_text()


@pytest.mark.parametrize("case", ["not a feed", "feed 404", "no transcripts folder"])
def test_a_batch_that_cannot_start_leaves_no_output_folder(
    case: str, loopback: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = loopback.add("page.html", Route(b"<html><body>Hej</body></html>", "text/html"))
    feed = loopback.add("feed.xml", Route(rss_feed("P", []), "application/rss+xml"))
    argv = {
        "not a feed": [page],
        "feed 404": [loopback.url("gone.xml")],
        "no transcripts folder": [feed, "--transcripts", str(tmp_path / "missing")],
    }[case]
    out = tmp_path / "out"
    assert _cli(["batch", *argv, "-o", str(out)]) == EXIT_ERROR
    assert capsys.readouterr().err.startswith("podalign: error: ")
    assert not out.exists()


# --- kill -9 and resume ------------------------------------------------------------------


def _statuses(out_dir: Path) -> dict[str, str]:
    db = out_dir / ".podalign" / "state.sqlite"
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return dict(conn.execute("SELECT key, status FROM episodes").fetchall())
    except sqlite3.Error:
        return {}  # mid-creation: ask again


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _batch_cmd(feed_url: str, transcripts: Path, out_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "pipeline", "batch", feed_url, "--transcripts", str(transcripts),
        "--out", str(out_dir), "--jobs", "1", "--audio-lang", "sv", "--retries", "0",
    ]  # fmt: skip


@pytest.mark.slow
def test_killed_mid_episode_then_rerun_loses_and_redoes_nothing(
    loopback: LoopbackServer, spoken_episodes: dict[str, SpokenEpisode], tmp_path: Path
) -> None:
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    items = []
    for name in ("halsa", "vaccin"):
        episode = spoken_episodes[name]
        (transcripts / f"{name}.txt").write_bytes(episode.transcript.read_bytes())
        url = loopback.add(f"{name}.mp3", Route(episode.audio_bytes, "audio/mpeg"))
        items.append(FeedItem(name, url, guid=name))
    feed_url = loopback.add("feed.xml", Route(rss_feed("P", items), "application/rss+xml"))
    out = tmp_path / "out"
    cmd = _batch_cmd(feed_url, transcripts, out)
    log = tmp_path / "batch.log"
    with log.open("wb") as log_file:
        batch = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        deadline = time.monotonic() + 240

        def wait_for(condition: Callable[[dict[str, str]], bool]) -> dict[str, str]:
            while not condition(statuses := _statuses(out)):
                assert batch.poll() is None, f"batch ended early: {statuses}\n{log.read_text()}"
                assert time.monotonic() < deadline, f"stuck at {statuses}\n{log.read_text()}"
                time.sleep(0.02)
            return statuses

        wait_for(bool)  # state rows exist only while the batch holds the folder's lock
        rival = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert rival.returncode == EXIT_ERROR
        assert (
            "another batch" in rival.stderr and "is running on this output folder" in rival.stderr
        )
        statuses = wait_for(lambda s: sorted(s.values()) == ["aligning", "done"])
        workers = _children(batch.pid)
        batch.send_signal(signal.SIGKILL)
        batch.wait(timeout=30)
    finally:
        if batch.poll() is None:
            batch.kill()
            batch.wait(timeout=30)
    # Downloads race, so either episode may be the one finished first.
    finished = next(key for key, status in statuses.items() if status == "done")
    killed = next(key for key, status in statuses.items() if status == "aligning")
    finished_vtt = (out / f"{finished}.vtt").stat()
    for worker in workers:  # workers die with the batch: no orphan writes into out/
        for _ in range(100):
            if not Path(f"/proc/{worker}").exists() or "Z" in _proc_state(worker):
                break
            time.sleep(0.05)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail(f"worker {worker} outlived the killed batch")
    for path in out.iterdir():  # whatever is visible is whole
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".vtt":
            assert path.read_text().startswith("WEBVTT")
    hits_before = Counter(loopback.hits)

    rerun = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == EXIT_OK, rerun.stderr[-2000:]
    assert _statuses(out) == {"halsa": "done", "vaccin": "done"}
    assert (out / f"{finished}.vtt").stat().st_mtime_ns == finished_vtt.st_mtime_ns  # not redone
    assert loopback.hits[f"/{finished}.mp3"] == hits_before[f"/{finished}.mp3"]
    assert loopback.hits[f"/{killed}.mp3"] > hits_before[f"/{killed}.mp3"]
    assert (out / f"{killed}.vtt").read_text().startswith("WEBVTT")
    assert not list(out.rglob("*.part"))
    lines = rerun.stdout.splitlines()
    assert any(line.split()[:2] == ["skipped", finished] for line in lines)
    assert any(line.split()[:2] == ["done", killed] for line in lines)
    # The summary table once, on stdout; stderr logs progress, not the table again.
    assert rerun.stdout.count("transcript by guid") == 1
    assert "transcript by guid" not in rerun.stderr and "STATUS" not in rerun.stderr


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"
