"""Transcripts through the command line: `podalign transcript`, the sample episode aligned
from every file form (the `Talare 1:` regression among them), unreadable files refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import webvtt

from samples import render_transcripts as render
from tests.test_cli import SAMPLE, error_line, podalign

# The sample's first three sentences end by 27.13 s and the fourth starts at 27.57 s: the
# episode cut here holds exactly them, given to two speakers in three turns.
CUT_SECONDS = 27.35
SENTENCES = 3
SPEAKERS = ("Lehtinen", "Linnanmäki", "Lehtinen")
# Each file form with a label form of its own; `Talare 1:` in plain text is the issue's
# failure (labels read as words, sentences merged across turns, speakers wrong).
FORM_CASES = {
    ".txt": "talare",
    ".pdf": "title",
    ".docx": "bracket time",
    ".json": "plain",
    ".html": "affiliation",
    ".vtt": "plain",
    ".srt": "speaker_00",
}


@pytest.fixture(scope="module")
def truth() -> list[dict]:
    sentences = json.loads((SAMPLE / "truth.json").read_text())["sentences"][:SENTENCES]
    assert sentences[-1]["end"] < CUT_SECONDS
    return sentences


@pytest.fixture(scope="module")
def cut_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("episode") / "episode.wav"
    command = ["ffmpeg", "-v", "error", "-i", str(SAMPLE / "episode.mp3"), "-t",
               str(CUT_SECONDS), "-ac", "1", "-ar", "16000", str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    return path


@pytest.fixture(scope="module")
def turns(truth: list[dict]) -> list[tuple[str, tuple[str, ...]]]:
    return [(speaker, (s["text"],)) for speaker, s in zip(SPEAKERS, truth, strict=True)]


def test_transcript_prints_the_turns_without_audio(tmp_path: Path) -> None:
    turns = [("Lehtinen", ("Hej och välkommen.", "Idag talar vi.")), ("Linnanmäki", ("Tack.",))]
    path = render.write_text(turns, tmp_path / "t.txt", "bracket time")
    proc = podalign("transcript", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "Lehtinen [00:00:00]:\n    Hej och välkommen.\n    Idag talar vi.\n\n"
        "Linnanmäki [00:00:37]:\n    Tack.\n\n"
    )
    assert "read as plain text: 2 speakers (Lehtinen, Linnanmäki), 2 turns, 3 sentences" in (
        proc.stderr
    )
    assert "1 header, 1 link" in proc.stderr


def test_transcript_warns_about_labels_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "dashes.txt"
    path.write_text("Lehtinen - Hej på dig.\n\nLinnanmäki - Hej.\n", encoding="utf-8")
    proc = podalign("transcript", path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("(no speaker named):\n")
    assert "could not be read" in proc.stderr and "Lehtinen - Hej på dig." in proc.stderr


@pytest.fixture(scope="module")
def unreadable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    turns = [("Lehtinen", ("Hej och välkommen.",))]
    return render.render_unreadable(turns, tmp_path_factory.mktemp("unreadable"))


@pytest.mark.parametrize(
    "case", ["encrypted pdf", "scanned pdf", "docx not a document", "json not a transcript"]
)
def test_unreadable_transcripts_fail_in_one_line_with_no_output(
    case: str, unreadable: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "episode.vtt"
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", unreadable[case], "-o", out)
    assert proc.returncode == 2
    line = error_line(proc)
    assert str(unreadable[case]) in line and ("; save" in line or "; run" in line
                                              or "; give" in line)  # fmt: skip
    assert not out.exists() and list(tmp_path.iterdir()) == []
    proc = podalign("transcript", unreadable[case])
    assert proc.returncode == 2 and proc.stdout == ""
    assert error_line(proc) == line


@pytest.mark.slow
@pytest.mark.parametrize("suffix", sorted(FORM_CASES))
def test_the_sample_aligns_from_every_form_with_every_cue_s_speaker_right(
    suffix: str,
    cut_episode: Path,
    turns: list[tuple[str, tuple[str, ...]]],
    truth: list[dict],
    tmp_path: Path,
) -> None:
    form = FORM_CASES[suffix]
    transcript = render.FILE_FORMS[suffix](turns, tmp_path / f"transcript{suffix}", form)
    out = tmp_path / "episode.vtt"
    proc = podalign("align", cut_episode, "-t", transcript, "--lang", "sv", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "3 turns, 3 sentences" in proc.stderr
    voices = [voice for voice, _ in render.expected_turns(turns, form)]
    cues = webvtt.read(str(out))
    assert " ".join(c.text.replace("\n", " ") for c in cues) == " ".join(s["text"] for s in truth)
    for cue in cues:
        middle = (cue.start_in_seconds + cue.end_in_seconds) / 2
        spoken = min(range(SENTENCES), key=lambda i: _distance(truth[i], middle))
        assert cue.voice == voices[spoken], (cue.start, cue.text)


def _distance(sentence: dict, time: float) -> float:
    return max(sentence["start"] - time, time - sentence["end"], 0.0)
