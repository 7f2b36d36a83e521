"""`podalign align` end to end: the real model on the bundled sample, and every kind of bad
input giving one clear line, a non-zero exit and no partial output."""

from __future__ import annotations

import argparse
import json
import os
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
    assert "Processing audio with duration" not in proc.stderr  # faster-whisper's own log
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
    from pipeline.whisper.models import embedded_model_path

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


# --- issue 12: the command line as a new user meets it ------------------------------------


def _cues_ms(path: Path) -> list[tuple[float, float]]:
    return [(_seconds(c.start), _seconds(c.end)) for c in webvtt.read(str(path))]


@pytest.mark.parametrize(
    "option", [("--lang", "xx"), ("--audio-lang", "klingon"), ("--text-lang", "XX")]
)
def test_an_unknown_language_is_one_line_before_any_work(option: tuple[str, str],
                                                         tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "x.vtt"
    proc = podalign("align", tmp_path / "missing.mp3", "-t", tmp_path / "missing.txt", *option,
                    "-o", out)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    line = error_line(proc)
    assert option[0] in line and "unknown language" in line and "sv" in line and "suomi" in line
    assert "Traceback" not in proc.stderr and "missing" not in line  # checked first
    assert not out.exists()


@pytest.mark.slow
def test_language_names_and_codes_in_any_case_and_suffixes_in_any_case(tmp_path: Path) -> None:
    """--lang SV, -o up.SRT (SRT, not up.SRT.vtt), --format JSON, -q after the subcommand."""
    out = tmp_path / "up.SRT"
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SAMPLE / "transcript.txt",
                    "--lang", "SV", "-o", out, "--format", "JSON", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(out), str(tmp_path / "up.json")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["up.SRT", "up.json"]
    assert out.read_text().startswith("1\n00:00:")  # SRT, not WebVTT
    assert "same-language" not in proc.stderr  # -q after the subcommand: no info lines


@pytest.mark.slow
def test_an_existing_folder_as_output_is_written_into(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SAMPLE / "transcript.txt",
                    "--audio-lang", "svenska", "-o", folder, "--preview")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(folder / "episode.vtt"),
                                   str(folder / "episode.preview.html")]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]
    assert len(webvtt.read(str(folder / "episode.vtt"))) > 3


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [(["sub.txt"], "'.txt' is not a subtitle suffix"), (["ep.sv"], "'.sv' is not a subtitle"),
     (["a.vtt", "b.srt"], "-o given 2 times (a.vtt, b.srt)")],
)  # fmt: skip
def test_an_output_podalign_cannot_name_is_an_error_before_any_work(
    outputs: list[str], expected: str, tmp_path: Path
) -> None:
    args = [a for name in outputs for a in ("-o", tmp_path / name)]
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SAMPLE / "transcript.txt", *args)
    assert proc.returncode == 2, proc.stderr
    assert expected in error_line(proc).replace(f"{tmp_path}/", "")
    assert list(tmp_path.iterdir()) == []


def test_a_model_path_that_does_not_exist_is_no_such_folder(tmp_path: Path) -> None:
    model = tmp_path / "nonexistent" / "dir"
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SAMPLE / "transcript.txt",
                    "--model", model, "-o", tmp_path / "x.vtt")  # fmt: skip
    assert proc.returncode == 2
    line = error_line(proc)
    assert "no such model folder" in line and "internet" not in line


@pytest.mark.slow
@pytest.mark.parametrize("keep", [False, True])
def test_text_the_audio_lacks_is_reported_with_its_true_range(keep: bool, tmp_path: Path) -> None:
    from pipeline.inputs.transcript import read_reference

    heard = len(read_reference(SAMPLE / "transcript.txt").sentences)  # the seed's opening
    total = len(read_reference(SEED).sentences)
    out = tmp_path / "long.vtt"
    proc = podalign("align", SAMPLE / "episode.mp3", "-t", SEED, "--lang", "sv", "-o", out,
                    *(["--keep-unheard"] if keep else []))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"sentences {heard + 1}-{total} (1:0" in proc.stderr
    assert ("kept in the subtitles, marked unsure" if keep else "left out") in proc.stderr
    assert "the audio ended before the transcript" not in proc.stderr  # superseded
    cues = _cues_ms(out)
    assert all(end - start >= 1.0 - 1e-9 for start, end in cues)  # the cue rules' minimum
    words = " ".join(c.text for c in webvtt.read(str(out))).split()
    kept = read_reference(SEED).sentences if keep else read_reference(SEED).sentences[:heard]
    assert words == [w for s in kept for w in s.text.split()]
    if not keep:
        assert cues[-1][1] <= 64.3  # nothing crowded past the audio's end


@pytest.mark.slow
def test_an_unsure_language_guess_warns_and_lowers_the_confidence(tmp_path: Path) -> None:
    """ASR-only on the sample's first 12 s: Whisper base guesses with p 0.3 (not Swedish)."""
    clip = tmp_path / "clip.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", SAMPLE / "episode.mp3", "-t", "12", "-c",
                    "copy", clip], check=True)  # fmt: skip
    proc = podalign("align", clip, "-o", tmp_path / "asr.vtt", "--cache-dir", tmp_path / "c")
    assert proc.returncode == 0, proc.stderr
    guess = r"the audio language is a guess: (\w+) with probability (0\.\d\d) \(top candidates: "
    guessed = re.search(guess + r"([^)]*)\); give it with --lang", proc.stderr)
    assert guessed, proc.stderr
    language, probability = guessed.group(1), float(guessed.group(2))
    assert probability < 0.5 and guessed.group(3).startswith(f"{language} {probability:.2f}, ")
    if language not in ("sv", "fi"):
        assert f"tested on sv and fi only, not on {language}" in proc.stderr
    confidence = float(re.search(r"confidence (\d\.\d\d)", proc.stderr).group(1))
    assert confidence <= probability
    assert "Processing audio with duration" not in proc.stderr  # faster-whisper's own log

    # English text on it: not heard, so the same guess picks the aligner; it is said and
    # the confidence stays at most the guess's (it was 0.95)
    english = _write(tmp_path / "en.txt", "Customer participation means that the client "
                     "takes part in planning and evaluating the services.\n")  # fmt: skip
    proc = podalign("align", clip, "-t", english, "-o", tmp_path / "en.vtt", "--cache-dir",
                    tmp_path / "c")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"the audio language is a guess: {language} with probability" in proc.stderr
    assert re.search(r"tested on sv and fi only, not on .*\ben\b", proc.stderr), proc.stderr
    confidence = float(re.search(r"confidence (\d\.\d\d)", proc.stderr).group(1))
    assert confidence <= min(probability, 0.5)


@pytest.mark.slow
def test_align_fetches_a_url_as_run_does(loopback, tmp_path: Path) -> None:
    from loopback import Route

    url = loopback.add("good.mp3", Route((SAMPLE / "episode.mp3").read_bytes(), "audio/mpeg"))
    out = tmp_path / "out"
    proc = podalign("align", url, "-t", SAMPLE / "transcript.txt", "--lang", "sv", "-o",
                    f"{out}/")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(out / "good.vtt")]
    assert sorted(p.name for p in out.iterdir()) == ["good.vtt"]  # no download left behind
    assert loopback.hits["/good.mp3"] >= 1


def _file_size_limit(limit: int):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_the_formats_of_one_run_are_published_together(
    aligned_sample: Path, tmp_path: Path
) -> None:
    """The JSON (one segment per word) is the largest file: with a file size limit that the
    .vtt and .srt fit under but the .json does not, nothing may change, not even the .vtt."""
    sizes = [aligned_sample.stat().st_size, aligned_sample.with_suffix(".json").stat().st_size]
    assert sizes[1] > 3 * sizes[0]
    old = {fmt: _write(tmp_path / f"ep.{fmt}", f"old {fmt}\n") for fmt in ("vtt", "srt", "json")}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "align", str(SAMPLE / "episode.mp3"), "-t",
         str(SAMPLE / "transcript.txt"), "--lang", "sv", "-o", str(old["vtt"]), "--format",
         "srt", "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        preexec_fn=_file_size_limit(2 * sizes[0]),
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "no output was changed" in error_line(proc)
    assert {fmt: p.read_text() for fmt, p in old.items()} == {f: f"old {f}\n" for f in old}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.json", "ep.srt", "ep.vtt"]


def test_every_option_of_every_subcommand_states_its_default() -> None:
    from pipeline.cli.commands import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) >= {"align", "run", "batch", "models", "preview"}
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.option_strings and action.dest != "help":
                said = "(required)" if action.required else "default"
                assert said in (action.help or ""), f"{name} {action.option_strings}"
        assert "exit status:" in command.format_help(), name
        assert "  3    batch only" in command.format_help(), name


@pytest.mark.parametrize("command", ["align", "run", "batch"])
def test_one_grammar_for_the_aligning_commands(command: str) -> None:
    text = podalign(command, "--help").stdout
    for option in ("--format FORMAT", "--lang LANG", "--vad", "--keep-unheard", "-q", "-v"):
        assert option in text, (command, option)
    assert "--formats" not in text
    assert ("--preview" in text) == (command != "batch")


def test_quiet_and_verbose_go_after_the_subcommand_too() -> None:
    proc = podalign("models", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("base\t")


def test_batch_help_says_how_transcripts_are_found() -> None:
    text = podalign("batch", "--help").stdout
    for part in ("mapping.csv", "mapping.json", "GUID", "slugs like the item's title",
                 "<podcast:transcript>", "(default: 1)", "(default: 3)",
                 "OUT/.podalign/cache"):  # fmt: skip
        assert part in text, part


def test_a_command_line_error_is_one_line() -> None:
    proc = podalign("align", "--format", "txt", "x.mp3")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "'txt' is not a subtitle format" in error_line(proc)


def test_preview_of_a_batch_folder_writes_an_index_of_its_episodes(tmp_path: Path) -> None:
    from episode_pages import sample_cues

    from pipeline.formats import write_subtitles

    folder = tmp_path / "out"
    folder.mkdir()
    shutil.copyfile(SAMPLE / "episode.mp3", folder / "halsa.mp3")
    for stem in ("halsa", "vaccin"):
        write_subtitles(sample_cues(), folder / f"{stem}.vtt", title=stem.title())
    enclosure = "https://cdn.example.org/m/vaccin.mp3"  # a batch keeps no audio: its report says
    _write(folder / "vaccin.report.json", json.dumps({"episode": {"enclosure": enclosure}}))
    proc = podalign("preview", folder)
    assert proc.returncode == 0, proc.stderr
    pages = [folder / "index.html", folder / "halsa.preview.html", folder / "vaccin.preview.html"]
    assert proc.stdout.split() == [str(p) for p in pages]
    index = pages[0].read_text()
    assert 'href="halsa.preview.html">Halsa<' in index and 'href="vaccin.preview.html"' in index
    assert 'src="halsa.mp3"' in pages[1].read_text()
    vaccin = pages[2].read_text()
    assert f'src="{enclosure}"' in vaccin and "media-src https://cdn.example.org " in vaccin
