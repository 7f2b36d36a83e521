"""The shared span helpers (pipeline.spans) and the one transcript-length rule."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.align.coverage import PLAUSIBLE_CPS, length_warnings
from pipeline.records import Reference, Turn
from pipeline.spans import clock, merged, numbered_ranges, time_range

_spans = st.lists(
    st.tuples(st.floats(0, 1e4), st.floats(0, 60)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=30,
)


@given(_spans, st.floats(0, 2))
def test_merged_spans_are_sorted_disjoint_and_cover_exactly_the_padded_input(
    spans: list[tuple[float, float]], pad: float
) -> None:
    out = merged(spans, pad)
    assert all(a <= b for a, b in out)
    assert all(b1 < a2 for (_, b1), (a2, _) in itertools.pairwise(out))
    for a, b in spans:  # every padded input span lies inside one output span
        assert any(x <= a - pad and b + pad <= y for x, y in out)
    for x, y in out:  # and every output span starts and ends at a padded input edge
        assert any(x == a - pad for a, _ in spans) and any(y == b + pad for _, b in spans)


def test_touching_spans_are_joined_and_apart_ones_kept() -> None:
    assert merged([(5.0, 6.0), (0.0, 1.0), (1.0, 2.0)]) == [(0.0, 2.0), (5.0, 6.0)]
    assert merged([(0.0, 1.0), (1.8, 2.0)], pad=0.5) == [(-0.5, 2.5)]


@pytest.mark.parametrize(
    ("seconds", "tenths", "text"),
    [(0.0, False, "0:00"), (59.6, False, "1:00"), (6730.2, False, "112:10"),
     (50.04, True, "0:50.0"), (59.96, True, "1:00.0"), (125.35, True, "2:05.4")],
)  # fmt: skip
def test_clock_reads_as_a_player_shows_time(seconds: float, tenths: bool, text: str) -> None:
    assert clock(seconds, tenths) == text


def test_time_ranges_are_to_the_tenth_only_when_short() -> None:
    assert time_range(2530.0, 3360.0) == "42:10–56:00"
    assert time_range(50.0, 50.4) == "0:50.0–0:50.4"


@given(st.sets(st.integers(0, 500), min_size=1))
def test_numbered_ranges_name_every_position_once_one_based(positions: set[int]) -> None:
    named: list[int] = []
    for part in numbered_ranges(sorted(positions)).split(", "):
        first, _, last = part.partition("-")
        named += range(int(first), int(last or first) + 1)
    assert named == [p + 1 for p in sorted(positions)]


def _reference(chars: int) -> Reference:
    return Reference((Turn("A", ("a" * chars,)),), language="sv")


@pytest.mark.parametrize(
    ("chars", "speech_seconds", "says"),
    [(400, 10.0, "much longer"), (20, 10.0, "much shorter"), (150, 10.0, None)],
)
def test_a_transcript_of_the_wrong_length_is_said_once(
    chars: int, speech_seconds: float, says: str | None
) -> None:
    halves = [(0.0, speech_seconds / 2), (5.0, speech_seconds / 2 + 5.0)]
    warnings = length_warnings(_reference(chars), halves)
    assert [says in w for w in warnings] == ([True] if says else [])
    low, high = PLAUSIBLE_CPS
    assert low < 150 / speech_seconds < high
