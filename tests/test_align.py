"""The same-language aligner as pure functions over hand-made records (no audio)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.align.refine import align_same_language, reference_words
from pipeline.records import Reference, Turn, Word


def _reference(*turns: tuple[str | None, list[str]]) -> Reference:
    return Reference(tuple(Turn(speaker, tuple(sents)) for speaker, sents in turns), "sv")


REF = _reference(
    ("Lehtinen", ["Hej och välkommen.", "Vad betyder delaktighet?"]),
    ("Linnanmäki", ["Det betyder mycket."]),
)


def _timed(words: list[str], start: float = 1.0, step: float = 0.4, p: float = 0.8) -> list[Word]:
    return [
        Word(w, start + i * step, start + i * step + step * 0.8, p) for i, w in enumerate(words)
    ]


def test_every_word_gets_its_heard_time_and_speaker() -> None:
    words = [w for _, w in reference_words(REF)]
    alignment = align_same_language(REF, _timed(words), [], duration=10.0)
    assert [w.text for s in alignment.sentences for w in s.words] == words
    assert [s.speaker for s in alignment.sentences] == ["Lehtinen", "Lehtinen", "Linnanmäki"]
    assert alignment.sentences[0].start == pytest.approx(1.0)
    assert alignment.sentences[2].start == pytest.approx(1.0 + 6 * 0.4)
    assert alignment.warnings == ()


def test_sentence_start_snaps_to_the_nearby_speech_onset_only() -> None:
    words = [w for _, w in reference_words(REF)]
    speech = [(0.85, 2.0), (2.3, 4.0), (9.0, 9.5)]
    alignment = align_same_language(REF, _timed(words), speech, duration=10.0)
    assert alignment.sentences[0].start == pytest.approx(0.85)  # 0.15 s away: snapped
    assert alignment.sentences[2].start == pytest.approx(3.4)  # nearest onset 1.1 s away: kept


def test_a_first_word_stretched_over_intro_music_is_trimmed() -> None:
    words = [w for _, w in reference_words(REF)]
    timings = _timed(words, start=5.0)
    timings[0] = Word(words[0], 0.0, 5.3, 0.8)  # DTW pinned the first word to time 0
    alignment = align_same_language(REF, timings, [(4.9, 7.0)], duration=10.0)
    assert alignment.sentences[0].start == pytest.approx(4.9)


def test_text_left_when_the_audio_ends_is_reported_not_invented() -> None:
    words = [w for _, w in reference_words(REF)]
    timings: list[Word | None] = list(_timed(words[:5]))
    timings += [None] * (len(words) - 5)
    alignment = align_same_language(REF, timings, [], duration=4.0)
    assert alignment.sentences[2].confidence == 0.0
    assert any("audio ended" in w and "3" in w for w in alignment.warnings)


def test_unheard_sentences_are_flagged() -> None:
    words = [w for _, w in reference_words(REF)]
    timings = _timed(words)
    timings[-3:] = [Word(w.text, w.start, w.end, 0.001) for w in timings[-3:]]
    alignment = align_same_language(REF, timings, [], duration=10.0)
    assert alignment.sentences[2].confidence < 0.1
    assert any("not heard" in w for w in alignment.warnings)


def test_wrong_number_of_timings_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        align_same_language(REF, [], [], duration=1.0)


sentence_text = st.lists(
    st.text(alphabet="abcåäö", min_size=1, max_size=8), min_size=1, max_size=6
).map(lambda ws: " ".join(ws) + ".")


@settings(max_examples=150, deadline=None)
@given(
    turns=st.lists(
        st.tuples(
            st.sampled_from(["Lehtinen", "Linnanmäki", None]),
            st.lists(sentence_text, min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=4,
    ),
    data=st.data(),
)
def test_any_timings_give_every_word_a_time_in_order_without_overlap(turns, data) -> None:
    reference = _reference(*turns)
    n = len(reference_words(reference))
    duration = data.draw(st.floats(1.0, 100.0))
    t = st.floats(-5.0, 120.0, allow_nan=False)
    timings = [
        None if data.draw(st.booleans()) and i > n // 2 else Word("w", a, b, p)
        for i, (a, b, p) in enumerate(data.draw(st.lists(st.tuples(t, t, st.floats(0, 1)),
                                                        min_size=n, max_size=n)))
    ]  # fmt: skip
    speech = sorted(data.draw(st.lists(st.tuples(t, t), max_size=8)))
    alignment = align_same_language(reference, timings, speech, duration)
    words = [w for s in alignment.sentences for w in s.words]
    assert [w.text for w in words] == [w for _, w in reference_words(reference)]
    for a, b in itertools.pairwise(words):
        assert a.start <= b.start
    for w in words:
        assert 0.0 <= w.start <= w.end <= max(duration, 0.0) + 1e-9
    for a, b in itertools.pairwise(alignment.sentences):
        assert a.end <= b.start + 1e-9
