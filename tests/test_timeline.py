"""The speech-only timeline (`pipeline.signal.timeline`): pure, so checked for any
speech regions."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.records import Word
from pipeline.signal.timeline import PAD_SECONDS, condensed_samples, speech_timeline

RATE = 100  # samples per second: small arrays, same arithmetic as 16 kHz


@st.composite
def episodes(draw) -> tuple[list[tuple[float, float]], int]:
    """Sorted, disjoint speech regions (seconds, on the 10 ms grid) inside an episode."""
    cuts = sorted(draw(st.lists(st.integers(0, 6000), min_size=0, max_size=30, unique=True)))
    n_samples = draw(st.integers(max(cuts, default=0) + 1, 6100))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return [(a / RATE, b / RATE) for a, b in pairs if b > a], n_samples


@given(episodes())
def test_pieces_keep_all_speech_in_order_and_only_cut_long_pauses(episode) -> None:
    speech, n_samples = episode
    timeline = speech_timeline(speech, n_samples, RATE)
    starts, lengths = timeline.episode_starts / RATE, timeline.lengths / RATE
    ends = starts + lengths
    assert (lengths > 0).all()
    assert (starts[1:] > ends[:-1]).all()  # ordered, disjoint, a real cut between pieces
    assert starts[0] >= 0 and ends[-1] <= n_samples / RATE + 1e-9
    for a, b in speech:  # every region lies inside one piece, padded where there was room
        i = int(np.searchsorted(starts, a, side="right")) - 1
        assert starts[i] <= max(a - PAD_SECONDS, 0) + 1e-9
        assert ends[i] >= min(b + PAD_SECONDS, n_samples / RATE) - 1e-9
    assert len(condensed_samples(np.zeros(n_samples), timeline)) == round(
        timeline.condensed_duration * RATE
    )


@given(episodes(), st.lists(st.floats(0, 70, allow_nan=False), min_size=1, max_size=20))
def test_times_map_back_in_order_and_round_trip_inside_pieces(episode, times) -> None:
    speech, n_samples = episode
    timeline = speech_timeline(speech, n_samples, RATE)
    times = sorted(times)
    mapped = [timeline.episode_time(t) for t in times]
    assert mapped == sorted(mapped)
    for episode_start, condensed_start, length in zip(
        timeline.episode_starts, timeline.condensed_starts, timeline.lengths, strict=True
    ):
        middle = (condensed_start + length // 2) / RATE
        assert timeline.episode_time(middle) == (episode_start + length // 2) / RATE


def test_samples_and_words_follow_the_cuts() -> None:
    audio = np.arange(1000, dtype=float)  # 10 s at 100 Hz: a sample's value is its index
    timeline = speech_timeline([(1.0, 2.0), (6.0, 7.0)], len(audio), RATE)
    kept = condensed_samples(audio, timeline)
    assert list(kept[:3]) == [70, 71, 72] and kept[160] == 570  # 0.7-2.3 s, then 5.7-7.3 s
    assert timeline.condensed_duration == 3.2
    starting = timeline.episode_word(Word("start", 1.6, 1.8, 0.5))  # starts on the cut
    assert starting == Word("start", 5.7, 5.9, 0.5)
    ending = timeline.episode_word(Word("slut", 1.2, 1.6, 0.5))  # ends on it
    assert (ending.start, ending.end) == (1.9, 2.3)
    # A word placed across the cut spans the silence cut out; pipeline.align.refine trims it.
    assert timeline.episode_word(Word("a", 1.45, 1.65, 0.5)) == Word("a", 2.15, 5.75, 0.5)
    assert timeline.episode_word(None) is None


def test_a_time_a_rounding_step_from_a_cut_maps_beside_it_not_across_the_pause() -> None:
    # Whisper's times (window offset + 20 ms steps) and the cuts (whole samples) can differ
    # by one float rounding step; the silence cut out must not open between them.
    timeline = speech_timeline([(1.0, 2.0), (6.0, 7.0)], 1000, RATE)
    just_before = np.nextafter(1.6, 0.0)
    assert timeline.episode_time(just_before) == timeline.episode_time(1.6) == 5.7


def test_no_speech_keeps_the_whole_episode() -> None:
    timeline = speech_timeline([], 500, RATE)
    assert timeline.condensed_duration == 5.0
    assert timeline.episode_time(3.2) == 3.2
