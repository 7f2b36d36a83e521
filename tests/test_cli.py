"""`podalign align` end to end: the real model on the bundled sample, and every kind of bad
input giving one clear line, a non-zero exit and no partial output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import webvtt

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample-sv"
SEED = ROOT / "samples" / "seed-sv.txt"


def podalign(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    errors = [line for line in proc.stderr.splitlines() if line.startswith("podalign: error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


@pytest.fixture(scope="module")
def aligned_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "episode.sv.vtt"
    proc = podalign("align", SAMPLE / "episode.mp3", "--transcript", SAMPLE / "transcript.txt",
                    "--lang", "auto", "-o", out, "--format", "vtt", "--format", "json",
                    "--preview")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    page = out.with_suffix(".preview.html")
    assert proc.stdout.split() == [str(out), str(out.with_suffix(".json")), str(page)]
    assert "same-language" in proc.stderr
    return out


@pytest.mark.slow
def test_sample_sentences_start_where_the_truth_says(aligned_sample: Path) -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    cues = webvtt.read(str(aligned_sample))
    assert all(c.voice == "Lehtinen" for c in cues)
    starts = [_seconds(c.start) for c in cues]
    errors = [min(abs(s["start"] - t) for t in starts) for s in truth["sentences"]]
    assert np.median(errors) < 0.08, errors
    assert max(errors) < 0.3, errors
    words = [w for s in truth["sentences"] for w in s["text"].split()]
    segments = json.loads(aligned_sample.with_suffix(".json").read_text())["segments"]
    assert [s["body"].strip() for s in segments] == words
    times = [s["startTime"] for s in segments]
    assert times == sorted(times)


@pytest.mark.slow
def test_the_preview_page_carries_every_cue_s_confidence(aligned_sample: Path) -> None:
    page = aligned_sample.with_suffix(".preview.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page,
                                re.S).group(1))  # fmt: skip
    cues = webvtt.read(str(aligned_sample))
    assert sorted(data["confidence"], key=int) == [c.identifier for c in cues]
    assert all(0.0 <= v <= 1.0 for v in data["confidence"].values())


def test_preview_without_webvtt_fails_before_any_work(tmp_path: Path) -> None:
    proc = podalign("align", tmp_path / "missing.mp3", "-o", tmp_path / "x.srt", "--preview")
    assert proc.returncode == 2
    assert "--format vtt" in error_line(proc)


@pytest.mark.slow
def test_a_transcript_longer_than_the_audio_is_aligned_with_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "long.vtt"
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SEED, "--lang", "sv", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "much longer than the speech" in proc.stderr
    assert "audio ended before the transcript" in proc.stderr
    assert len(webvtt.read(str(out))) > 100  # every sentence is still in the file


def _silence(path: Path, seconds: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
                    "-t", str(seconds), str(path)], check=True)  # fmt: skip
    return path


def _truncated(path: Path) -> Path:
    data = (SAMPLE / "episode.mp3").read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


BAD_AUDIO = {
    "missing": (lambda d: d / "nope.mp3", "no such audio file"),
    "not audio": (lambda d: _write(d / "page.mp3", "<html>404</html>"), "not an audio file"),
    "zero length": (lambda d: _write(d / "empty.mp3", ""), "empty"),
    "truncated": (_truncated, "truncated"),
    "silence": (lambda d: _silence(d / "silence.wav", 5), "silent"),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", sorted(BAD_AUDIO))
def test_bad_audio_fails_in_one_line_and_keeps_the_good_file(case: str, tmp_path: Path) -> None:
    make, expected = BAD_AUDIO[case]
    audio = make(tmp_path) if case != "truncated" else make(tmp_path / "cut.mp3")
    out = tmp_path / "episode.vtt"
    out.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\ngood\n")
    proc = podalign("align", audio, "-t", SAMPLE / "transcript.txt", "-o", out)
    assert proc.returncode == 2
    line = error_line(proc)
    assert expected in line and str(audio) in line
    assert out.read_text().endswith("good\n")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_empty_transcript_fails_before_any_work(tmp_path: Path) -> None:
    transcript = _write(tmp_path / "t.txt", "  \n\n")
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", transcript, "-o", tmp_path / "x.vtt")
    assert proc.returncode == 2
    assert "no transcript text" in error_line(proc)
    assert not (tmp_path / "x.vtt").exists()


def test_unwritable_output_fails_before_any_work(tmp_path: Path) -> None:
    blocker = _write(tmp_path / "file", "")
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SAMPLE / "transcript.txt",
                    "-o", blocker / "out.vtt")  # fmt: skip
    assert proc.returncode == 2
    assert "not a writable folder" in error_line(proc)


def test_models_lists_the_embedded_model() -> None:
    proc = podalign("models")
    assert proc.returncode == 0
    assert proc.stdout.startswith("base\t")


def test_an_unknown_hub_model_gives_one_clear_line(tmp_path: Path) -> None:
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SAMPLE / "transcript.txt",
                    "--model", "large-v3", "-o", tmp_path / "x.vtt")  # fmt: skip
    assert proc.returncode == 2
    line = error_line(proc)
    assert "large-v3" in line and "--model" in line


def test_a_local_model_folder_loads(tmp_path: Path) -> None:
    from pipeline.models import embedded_model_path

    local = tmp_path / "my-model"
    shutil.copytree(embedded_model_path(), local)
    out = tmp_path / "x.vtt"
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SAMPLE / "transcript.txt",
                    "--model", local, "--lang", "sv", "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(webvtt.read(str(out))) > 3


@pytest.mark.slow
def test_a_swedish_transcript_on_finnish_speech_is_aligned_cross_lingually(
    tmp_path: Path,
) -> None:
    from samples.make_episodes import build

    truth = json.loads(build("synthetic-fi", tmp_path / "fi", limit_seconds=40).read_text())
    out = tmp_path / "episode.sv.vtt"
    proc = podalign("align", tmp_path / "fi" / "episode.mp3", "--transcript",
                    tmp_path / "fi" / "transcript.txt", "--lang", "auto", "-o", out,
                    "--cache-dir", tmp_path / "cache")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "the transcript is in sv but the audio in" in proc.stderr  # warned, then aligned
    cues = webvtt.read(str(out))
    text = " ".join(c.text.replace("\n", " ") for c in cues)
    assert text == " ".join(s["text"] for s in truth["sentences"])
    assert {c.voice for c in cues} == {s["speaker"] for s in truth["sentences"]}
    starts = [_seconds(c.start) for c in cues]
    assert starts == sorted(starts)
