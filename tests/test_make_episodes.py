"""The fixture builder's ground truth agrees with its own audio and transcript."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from pipeline.inputs.transcript import read_reference
from samples.make_episodes import (
    RATE,
    as_one_sentence,
    build,
    decode,
    highpassed,
    read_tsv,
    realspeech_dir,
    schedule,
    seed_fi_rows,
    translations,
)

needs_realspeech = pytest.mark.skipif(
    not (realspeech_dir() / "fi" / "transcripts.tsv").is_file(),
    reason="shared/realspeech is not beside the repository",
)


@pytest.fixture(scope="module")
def synthetic_sv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("synthetic-sv", tmp_path_factory.mktemp("ssv"), limit_seconds=20)


@pytest.fixture(scope="module")
def real_fi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (realspeech_dir() / "fi" / "transcripts.tsv").is_file():
        pytest.skip("shared/realspeech is not beside the repository")
    # The first turn has four clips: 25 s reaches into the second speaker's turn.
    return build("real-fi", tmp_path_factory.mktemp("rfi"), limit_seconds=25)


def load(truth_path: Path) -> dict:
    return json.loads(truth_path.read_text(encoding="utf-8"))


def rms(x: np.ndarray, start: float, end: float) -> float:
    piece = x[int(start * RATE) : int(end * RATE)].astype(np.float64)
    return float(np.sqrt(np.mean(piece**2)))


def check_consistent(truth_path: Path) -> dict:
    truth = load(truth_path)
    sentences = truth["sentences"]
    assert sentences, "no sentences"
    assert [s["index"] for s in sentences] == list(range(len(sentences)))
    for s in sentences:
        assert 0 <= s["start"] < s["end"] <= truth["duration"]
    for a, b in pairwise(sentences):
        assert a["end"] < b["start"], f"sentences {a['index']} and {b['index']} overlap"
    audio = decode(truth_path.parent / truth["audio"])
    # Decoders must see the exact samples: an encoder delay left in would shift all truth.
    assert abs(len(audio) / RATE - truth["duration"]) < 0.005
    audio = highpassed(audio)  # the speech band: some clips thump or hum below 120 Hz
    for a, b in pairwise(sentences):
        gap = rms(audio, a["end"] + 0.05, b["start"] - 0.05)
        assert rms(audio, a["start"], a["end"]) > 4 * gap, f"sentence {a['index']} vs its gap"
        assert rms(audio, b["start"], b["end"]) > 4 * gap, f"sentence {b['index']} vs its gap"
    return truth


def check_transcript(truth: dict, transcript: Path) -> None:
    """Reading transcript.txt back gives the truth's sentences, speakers and turns."""
    ref = read_reference(transcript).sentences
    got = [(s.text, s.speaker, s.turn) for s in ref]
    want = [(s["text"], s["speaker"], s["turn"]) for s in truth["sentences"]]
    assert got == want
    turn_speakers = {s["turn"]: s["speaker"] for s in truth["sentences"]}
    assert [t["speaker"] for t in truth["turns"]] == list(turn_speakers.values())


def test_synthetic_sv_truth_is_consistent(synthetic_sv: Path) -> None:
    truth = check_consistent(synthetic_sv)
    assert truth["audio_language"] == truth["text_language"] == "sv"
    assert truth["sentences"][0]["start"] > 5, "the intro music is not speech"
    assert truth["sentences"][-1]["end"] >= 20 > truth["sentences"][-2]["end"]
    check_transcript(truth, synthetic_sv.parent / "transcript.txt")


def test_synthetic_sv_is_deterministic(synthetic_sv: Path, tmp_path: Path) -> None:
    again = build("synthetic-sv", tmp_path, limit_seconds=20)
    assert again.read_bytes() == synthetic_sv.read_bytes()
    assert (tmp_path / "episode.mp3").read_bytes() == (
        synthetic_sv.parent / "episode.mp3"
    ).read_bytes()


@needs_realspeech
def test_real_fi_truth_is_consistent(real_fi: Path) -> None:
    truth = check_consistent(real_fi)
    assert truth["audio_language"] == truth["text_language"] == "fi"
    assert len(truth["turns"]) >= 2
    assert truth["turns"][0]["speaker"] != truth["turns"][1]["speaker"]
    check_transcript(truth, real_fi.parent / "transcript.txt")


def test_synthetic_fi_speaks_finnish_under_the_swedish_text(tmp_path: Path) -> None:
    truth = check_consistent(build("synthetic-fi", tmp_path, limit_seconds=15))
    assert (truth["audio_language"], truth["text_language"]) == ("fi", "sv")
    seed = read_reference(Path(__file__).parents[1] / "samples" / "seed-sv.txt").sentences
    assert [s["text"] for s in truth["sentences"]] == [s.text for s in seed][
        : len(truth["sentences"])
    ]
    check_transcript(truth, tmp_path / "transcript.txt")


@needs_realspeech
def test_real_fi_sv_is_real_fi_with_swedish_text(real_fi: Path, tmp_path: Path) -> None:
    truth = load(build("real-fi-sv", tmp_path, limit_seconds=25))
    finnish = load(real_fi)
    assert (truth["audio_language"], truth["text_language"]) == ("fi", "sv")
    timing = [(s["start"], s["end"], s["turn"]) for s in truth["sentences"]]
    assert timing == [(s["start"], s["end"], s["turn"]) for s in finnish["sentences"]]
    assert (tmp_path / "episode.mp3").read_bytes() == (real_fi.parent / "episode.mp3").read_bytes()
    check_transcript(truth, tmp_path / "transcript.txt")


@needs_realspeech
def test_real_sv_uneven_is_real_sv_with_every_other_voice_12_db_down(tmp_path: Path) -> None:
    even, uneven = tmp_path / "even", tmp_path / "uneven"
    build("real-sv", even, limit_seconds=50)
    truth = load(build("real-sv-uneven", uneven, limit_seconds=50))
    assert truth["sentences"] == load(even / "truth.json")["sentences"]
    a, b = decode(even / "episode.mp3"), decode(uneven / "episode.mp3")
    assert {(ord(s["speaker"][-1]) - ord("A")) % 2 for s in truth["sentences"]} == {0, 1}
    for s in truth["sentences"]:
        drop = 20 * np.log10(rms(a, s["start"], s["end"]) / rms(b, s["start"], s["end"]))
        expected = 12.0 if (ord(s["speaker"][-1]) - ord("A")) % 2 else 0.0  # Talare B, D, ...
        assert abs(drop - expected) < 1.0, (s["speaker"], drop)


@needs_realspeech
def test_swedish_translation_covers_every_finnish_clip() -> None:
    clips = read_tsv(realspeech_dir() / "fi" / "transcripts.tsv")
    swedish = translations(clips)  # raises on a missing clip or a changed prompt
    assert all(sv.strip() for sv in swedish)


def test_seed_fi_covers_every_seed_sentence() -> None:
    rows = seed_fi_rows()  # raises on any drift from the parsed seed
    seed = read_reference(Path(__file__).parents[1] / "samples" / "seed-sv.txt").sentences
    assert len(rows) == len(seed)
    assert all(r["fi"].strip() and r["fi"] != r["sv"] for r in rows)


def test_committed_seed_copy_is_exact() -> None:
    shared = realspeech_dir().parent / "seeds" / "000_7a72ba570e7071f8.txt"
    if not shared.is_file():
        pytest.skip("shared/seeds is not beside the repository")
    assert (
        Path(__file__).parents[1] / "samples" / "seed-sv.txt"
    ).read_bytes() == shared.read_bytes()


def test_committed_sample_matches_its_files() -> None:
    sample = Path(__file__).parents[1] / "samples" / "sample-sv"
    truth = load(sample / "truth.json")
    assert (sample / "episode.mp3").stat().st_size < 1_000_000
    check_transcript(truth, sample / "transcript.txt")


def test_prompts_become_single_sentences() -> None:
    assert as_one_sentence("Mitä kuuluu") == "Mitä kuuluu."
    assert as_one_sentence("Siksi vastasinkin myöntävästi:") == "Siksi vastasinkin myöntävästi."
    assert as_one_sentence('Vesi on lämmintä!"') == 'Vesi on lämmintä!"'
    assert as_one_sentence("Ei… Miten nyt?") == "Ei, miten nyt?"


def test_schedule_alternates_speakers_and_uses_every_clip() -> None:
    speakers = ["A"] * 20 + ["B"] * 5 + ["C"] * 3 + ["D"]
    turns = schedule(speakers, random.Random(1))
    assert sorted(i for t in turns for i in t) == list(range(len(speakers)))
    for a, b in pairwise(turns):
        assert speakers[a[0]] != speakers[b[0]]
    assert all(len({speakers[i] for i in t}) == 1 for t in turns)
