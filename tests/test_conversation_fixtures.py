"""The conversation fixtures: their truth agrees with their audio, transcript and layout."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.inputs.transcript import read_reference
from samples import conversation as conv
from samples.make_episodes import RATE, decode, frame_db, highpassed


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("conv")
    # Seed 2 has false starts; conv-fi-sv shares conv-fi's audio for the same seed.
    return {
        kind: conv.build(kind, 2, root / kind).parent
        for kind in ("conv-sv", "conv-fi", "conv-fi-sv")
    }


def truth_of(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def level_db(x: np.ndarray, start: float, end: float) -> float:
    piece = x[int(start * RATE) : int(end * RATE)].astype(np.float64)
    return float(10 * np.log10(np.mean(piece**2) + 1e-12))


def test_seed_splits_are_disjoint_and_both_have_false_starts() -> None:
    assert not set(conv.TUNING_SEEDS) & set(conv.HELD_OUT_SEEDS)
    for split in (conv.TUNING_SEEDS, conv.HELD_OUT_SEEDS):
        assert any(conv.has_false_starts(s) for s in split)
        assert not all(conv.has_false_starts(s) for s in split)


@pytest.mark.parametrize("kind", ["conv-sv", "conv-fi", "conv-fi-sv"])
def test_transcript_reads_back_as_the_truth(fixtures: dict[str, Path], kind: str) -> None:
    truth = truth_of(fixtures[kind])
    reference = read_reference(fixtures[kind] / "transcript.txt")
    said = truth["sentences"]
    assert [s.text for s in reference.sentences] == [s["text"] for s in said]
    assert [s.speaker for s in reference.sentences] == [s["speaker"] for s in said]
    assert truth["split"] == "tuning"
    assert all(
        a["text"] not in (fixtures[kind] / "transcript.txt").read_text() for a in truth["asides"]
    )


def test_gaps_are_conversational(fixtures: dict[str, Path]) -> None:
    truth = truth_of(fixtures["conv-sv"])
    events = sorted(
        [*truth["sentences"], *truth["asides"], *truth["false_starts"]], key=lambda e: e["start"]
    )
    for a, b in pairwise(events):
        gap = b["start"] - a["end"]
        # Within a turn 0.02-0.3 s (a false start: 0.08-0.25 s to its sentence), between
        # turns -0.35..+0.35 s; ms rounding of the layout.
        assert -0.351 <= gap <= 0.351, (a, b)
    turns = truth["turns"]
    gaps = [b["start"] - a["end"] for a, b in pairwise(turns)]
    assert min(gaps) < 0, "no overlapping turn in the layout"
    assert len(truth["false_starts"]) >= len(truth["sentences"]) // 5
    assert all(f["end"] - f["start"] <= 0.61 for f in truth["false_starts"])


def test_audio_has_speech_where_the_truth_says(fixtures: dict[str, Path]) -> None:
    truth = truth_of(fixtures["conv-sv"])
    x = decode(fixtures["conv-sv"] / "episode.mp3")
    assert abs(len(x) / RATE - truth["duration"]) < 0.1
    speech = [level_db(x, s["start"], s["end"]) for s in truth["sentences"]]
    # The quietest voice is 9 dB under the loudest; the mix stays well above the noise.
    spread = np.percentile(speech, 95) - np.percentile(speech, 5)
    assert 4.0 < spread < 16.0
    (aside,) = truth["asides"]
    assert level_db(x, aside["start"], aside["end"]) > min(speech) - 3
    # The jingle is still playing under the first seconds of speech.
    intro = truth["intro"]
    assert intro["end"] - truth["speech_start"] >= 1.9
    assert (
        level_db(x, 0.3, truth["speech_start"] - 0.2)
        > level_db(x, truth["duration"] - 0.8, truth["duration"]) + 15
    )


def test_mp3_keeps_the_layout_timing(fixtures: dict[str, Path]) -> None:
    """pydub's export must not shift the audio (a LAME header lost in a pipe shifts ~70 ms)."""
    audio, _, _ = conv.rendered("sv", 2)
    made = conv.as_float(audio)
    x = decode(fixtures["conv-sv"] / "episode.mp3")[: len(made)]
    a, b = made[5 * RATE : 15 * RATE], x[5 * RATE : 15 * RATE]
    lags = range(-400, 401, 4)
    best = max(lags, key=lambda k: float(np.dot(a[400:-400], b[400 + k : len(b) - 400 + k])))
    assert abs(best) <= 8  # samples: half a millisecond


def test_cross_lingual_reference_joins_a_third(fixtures: dict[str, Path]) -> None:
    fi, sv = truth_of(fixtures["conv-fi"]), truth_of(fixtures["conv-fi-sv"])
    assert (fixtures["conv-fi"] / "episode.mp3").read_bytes() == (
        fixtures["conv-fi-sv"] / "episode.mp3"
    ).read_bytes()
    pairs = [s for s in sv["sentences"] if len(s["clips"]) == 2]
    assert 0.25 <= len(pairs) / len(sv["sentences"]) <= 0.4
    assert [c for s in sv["sentences"] for c in s["clips"]] == [
        c for s in fi["sentences"] for c in s["clips"]
    ]
    by_clip = {s["clips"][0]: s for s in fi["sentences"]}
    for s in pairs:
        first, second = by_clip[s["clips"][0]], by_clip[s["clips"][1]]
        assert (s["start"], s["end"], s["turn"]) == (first["start"], second["end"], second["turn"])


@pytest.mark.parametrize("language", ["sv", "fi"])
def test_clip_edges_hold_the_speech(language: str) -> None:
    """Checked on a seeded sample of clips' energy profiles: nothing as loud as speech lies
    outside the edges, and the clip's loudest syllables lie inside."""
    for clip in random.Random(language).sample(conv.clips_of(language), 16):
        onset, offset = conv.speech_edges(clip.path)
        db = frame_db(highpassed(conv.as_float(conv.clip_audio(clip.path))))
        smooth = np.convolve(db, np.ones(5) / 5, mode="same")
        peak = np.percentile(db, 99)
        on, off = onset // 10, offset // 10
        assert 0 <= on < off <= len(db)
        outside = np.concatenate([smooth[: max(on - 3, 0)], smooth[off + 3 :]])
        assert not len(outside) or outside.max() < peak - 6, clip.path.name
        assert on <= int(np.argmax(smooth)) < off, clip.path.name


@given(st.lists(st.booleans(), max_size=60))
def test_past_pause_lands_after_the_last_long_pause(speech: list[bool]) -> None:
    skip = conv.past_pause(np.array(speech, dtype=bool))
    rest = speech[skip:]
    assert 0 <= skip <= len(speech)
    # What remains has no pause as long as PAUSE_FRAMES, and starts with speech if skipped.
    longest = max((len(r) for r in "".join("q" if not s else " " for s in rest).split()), default=0)
    assert longest < conv.PAUSE_FRAMES
    if 0 < skip < len(speech):
        assert rest[0]
