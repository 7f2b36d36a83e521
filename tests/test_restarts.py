"""Restarts (pipeline.signal.restarts): a short try said again after a pause, on real voices."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.align.refine import RESTART_REACH, after_restart
from pipeline.records import AlignedSentence, AlignedWord
from pipeline.signal.restarts import restart_onsets, warped_distance
from pipeline.signal.speakers import regions_from_activity, speech_activity
from tests.test_speakers import SR, real_clips

TRY = 0.4  # seconds of the utterance said before breaking off
PAUSE_AFTER_TRY = 0.15


def laid_out(parts: list[tuple[np.ndarray, float]]) -> tuple[np.ndarray, list[float]]:
    """The clips one after another, each after its pause; and where each starts."""
    audio, starts = [np.zeros(0, dtype=np.float32)], []
    at = 0
    for clip, pause in parts:
        audio.append(np.zeros(round(pause * SR), dtype=np.float32))
        at += round(pause * SR)
        starts.append(at / SR)
        audio.append(clip.astype(np.float32))
        at += len(clip)
    noise = np.random.default_rng(3).normal(0, 1e-3, at).astype(np.float32)
    return np.concatenate(audio) + noise, starts


def test_an_utterance_broken_off_and_said_again_is_a_restart_and_another_is_not(
    request: pytest.FixtureRequest,
) -> None:
    cache = request.config.cache.mkdir("speakers-clips")
    clips = real_clips("fi", {"S01"}, cache)["S01"]
    first, said, other = clips[0], clips[1], clips[2]
    cut = round(TRY * SR)
    audio, starts = laid_out([
        (first, 0.5),
        (said[:cut], 0.6), (said, PAUSE_AFTER_TRY),  # a restart
        (other[:cut], 0.6), (first, PAUSE_AFTER_TRY),  # a false start of other words
    ])  # fmt: skip
    regions = regions_from_activity(speech_activity(audio, SR), min_pause=0.05, min_speech=0.05)
    found = restart_onsets(audio, SR, regions)
    assert len(found) == 1 and found[0] == pytest.approx(starts[2], abs=0.06)


def test_no_short_region_means_no_restart() -> None:
    assert restart_onsets(np.zeros(SR, dtype=np.float32), SR, [(0.1, 0.9)]) == []


@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 2**16))
def test_warping_a_sequence_onto_itself_costs_nothing_and_the_distance_is_symmetric(
    n: int, m: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
    assert warped_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert warped_distance(a, b) == pytest.approx(warped_distance(b, a))
    assert warped_distance(a, b) > 0


def sentence(words: list[tuple[str, float, float]]) -> AlignedSentence:
    aligned = tuple(AlignedWord(t, a, b, 0.9) for t, a, b in words)
    return AlignedSentence(0, 0, None, " ".join(t for t, _, _ in words), aligned, 0.9)


def test_a_sentence_put_on_the_broken_off_try_starts_where_it_is_said_again() -> None:
    # conv-sv tuning layout 18, sentence 38: "Här kan" was said at 71.30-71.70, broken off,
    # and the whole sentence said from 71.86; the time warping put "Här kan" on the try.
    s = sentence([("Här", 71.30, 71.40), ("kan", 71.40, 71.54), ("man", 71.54, 72.20),
                  ("bygga", 72.20, 72.48), ("en", 72.48, 72.62),
                  ("veranda.", 72.62, 73.02)])  # fmt: skip
    out = after_restart(s, [40.0, 71.86, 90.0])
    assert out.start == pytest.approx(71.86)
    assert out.end == pytest.approx(73.02)
    assert [w.text for w in out.words] == [w.text for w in s.words]
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(out.words))
    assert after_restart(s, [71.30 + RESTART_REACH + 0.1]) == s  # too far to be its try
    assert after_restart(s, [72.9]) == s  # leaves the words no time


def test_words_that_end_at_the_pause_were_said_there() -> None:
    # espeak's "Och kan, också": "Och kan" before a pause sounds like the start of "också",
    # but no word runs on over the pause into it.
    rest = [("så", 222.3, 222.45), ("att", 222.45, 222.6), ("säga", 222.6, 223.0)]
    s = sentence([("Och", 221.28, 221.45), ("kan", 221.45, 221.70), ("också,", 221.80, 222.3),
                  *rest])  # fmt: skip
    assert after_restart(s, [221.80]) == s
    stretched = sentence([("Och", 221.28, 221.45), ("kan", 221.45, 222.1), ("också,", 222.1, 222.3),
                          *rest])  # fmt: skip
    assert after_restart(stretched, [221.80]).start == pytest.approx(221.80)


def test_a_restart_before_the_sentence_or_at_its_start_changes_nothing() -> None:
    s = sentence([("Kolla", 77.73, 78.0), ("en", 78.0, 78.1), ("jordgubbe.", 78.1, 78.9)])
    assert after_restart(s, [77.0, 77.73]) == s
