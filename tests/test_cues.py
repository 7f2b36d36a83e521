from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PodalignError
from pipeline.records import AlignedSentence, AlignedWord, Alignment, Cue
from pipeline.subtitles.cues import CUT_IN_MIN_MS, balanced_lines, cues_from_alignment


def sentence(
    index: int, speaker: str | None, timed: list[tuple[str, float, float]], conf: float = 1.0
) -> AlignedSentence:
    words = tuple(AlignedWord(t, s, e, conf) for t, s, e in timed)
    return AlignedSentence(index, index, speaker, " ".join(t for t, _, _ in timed), words)


def evenly(text: str, start: float, per_word: float) -> list[tuple[str, float, float]]:
    words = text.split()
    return [(w, start + k * per_word, start + (k + 1) * per_word) for k, w in enumerate(words)]


def split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def align(*sentences: AlignedSentence, duration: float = 0.0) -> Alignment:
    return Alignment(tuple(sentences), duration, "same-language")


# --- behaviour on examples ------------------------------------------------------


def test_short_sentence_is_one_single_line_cue_timed_by_its_words() -> None:
    cues = cues_from_alignment(align(sentence(0, "Lehtinen", evenly("Hej alla.", 1.0, 0.6))))
    assert cues == [
        Cue(1000, 2200, ("Hej alla.",), "Lehtinen", 1.0, cues[0].words),
    ]


def test_long_sentence_breaks_after_the_comma_not_in_the_middle_of_a_clause() -> None:
    text = (
        "Kunddelaktighet är en mycket omfattande och flerdimensionell verksamhetsmetod, "
        "som genomförs på många olika nivåer i hela organisationen och dess tjänster."
    )
    cues = cues_from_alignment(align(sentence(0, "Linnanmäki", evenly(text, 0.0, 0.4))))
    assert len(cues) >= 2
    assert any(c.lines[-1].endswith("verksamhetsmetod,") for c in cues)
    assert " ".join(" ".join(c.lines) for c in cues) == text


def test_two_lines_break_at_a_comma_near_the_middle() -> None:
    words = split("Men sedan kunddelaktighet, eller det används så klart")
    assert balanced_lines(words) == (
        "Men sedan kunddelaktighet,",
        "eller det används så klart",
    )


def test_lines_are_balanced_rather_than_filled_greedily() -> None:
    words = split("Delaktighet förutsätter att kunden verkligen kan påverka serviceprocessen.")
    first, second = balanced_lines(words)
    assert abs(len(first) - len(second)) < 12


def test_a_line_does_not_end_on_a_conjunction() -> None:
    lines = balanced_lines(split("Så det är sist och slutligen något ganska nytt."))
    assert not lines[0].endswith(" och")


def test_over_long_word_stays_whole_on_its_own_line() -> None:
    long = "x" * 50
    cues = cues_from_alignment(align(sentence(0, None, evenly(f"ett {long} två", 0.0, 0.5))))
    lines = [line for c in cues for line in c.lines]
    assert long in lines


def test_speaker_change_always_starts_a_new_cue() -> None:
    a = sentence(0, "Lehtinen", evenly("Ja.", 0.0, 0.2))
    b = sentence(1, "Linnanmäki", evenly("Nej.", 0.2, 0.2))
    cues = cues_from_alignment(align(a, b))
    assert [(c.speaker, c.text) for c in cues] == [("Lehtinen", "Ja."), ("Linnanmäki", "Nej.")]


def test_short_cue_is_stretched_to_one_second_and_the_next_waits_for_it() -> None:
    a = sentence(0, None, [("Ja.", 1.0, 1.2)])
    b = sentence(1, None, [("Nej.", 1.5, 1.7)])
    c = sentence(2, None, [("Kanske.", 5.0, 5.3)])
    cues = cues_from_alignment(align(a, b, c))
    assert [(x.start_ms, x.end_ms) for x in cues] == [(1000, 2000), (2000, 3000), (5000, 6000)]


def test_a_cue_the_next_speaker_cuts_into_ends_with_its_words() -> None:
    a = sentence(0, "Lehtinen", [("Är", 1.0, 1.2), ("du", 1.2, 1.3), ("okej?", 1.3, 1.6)])
    b = sentence(1, "Linnanmäki", [("Jo,", 1.4, 1.8), ("tack.", 1.8, 2.6)])
    c = sentence(2, "Lehtinen", [("Bra.", 2.7, 2.9)])
    d = sentence(3, "Linnanmäki", [("Ja.", 3.0, 3.1)])
    cues = cues_from_alignment(align(a, b, c, d))
    # a's words end 0.6 s in: b, another speaker's, starts then, not a second after a;
    # c's words end 0.2 s in, so c is held to the half-second floor
    assert [(x.start_ms, x.end_ms) for x in cues] == [
        (1000, 1600),
        (1600, 2600),
        (2700, 3200),
        (3200, 4200),
    ]


def test_text_without_speech_keeps_the_full_minimum_at_a_speaker_change() -> None:
    a = sentence(0, "Lehtinen", [("Osäker.", 3.0, 3.0)])
    b = sentence(1, "Linnanmäki", [("Nej.", 3.0, 3.0)])
    cues = cues_from_alignment(align(a, b))
    assert [(x.start_ms, x.end_ms) for x in cues] == [(3000, 4000), (4000, 5000)]


def test_fast_speech_is_given_reading_time_where_the_gap_allows() -> None:
    text = "Det kan betyda mycket olika saker idag."  # 39 characters in half a second
    cues = cues_from_alignment(align(sentence(0, None, evenly(text, 2.0, 0.07))))
    (cue,) = cues
    assert cue.end_ms - cue.start_ms >= len(text) / 17.0 * 1000


def test_a_cue_at_the_audio_end_starts_earlier_to_last_the_minimum() -> None:
    cues = cues_from_alignment(align(sentence(0, None, [("Tack.", 9.8, 9.9)]), duration=10.0))
    assert (cues[0].start_ms, cues[0].end_ms) == (9000, 10000)


def test_cues_crowded_past_what_the_audio_holds_still_last_the_minimum() -> None:
    crowded = [sentence(i, None, [(f"ord{i}", 2.0, 2.0)]) for i in range(5)]
    cues = cues_from_alignment(align(*crowded, duration=3.0))
    assert [(c.start_ms, c.end_ms) for c in cues] == [(2000 + 1000 * i, 3000 + 1000 * i)
                                                       for i in range(5)]  # fmt: skip


def test_zero_duration_words_still_give_positive_cues() -> None:
    a = sentence(0, None, [("a", 3.0, 3.0)])
    b = sentence(1, None, [("b", 3.0, 3.0)])
    cues = cues_from_alignment(align(a, b, duration=3.0))
    assert all(c.start_ms < c.end_ms <= 3000 for c in cues)
    assert cues[0].end_ms <= cues[1].start_ms


def test_out_of_order_words_are_clamped_so_times_never_go_back() -> None:
    a = sentence(0, None, [("först", 5.0, 5.5)])
    b = sentence(1, None, [("sen", 4.0, 4.2)])
    cues = cues_from_alignment(align(a, b))
    assert cues[0].start_ms < cues[1].start_ms
    assert cues[0].end_ms <= cues[1].start_ms


def test_overlapping_cues_end_where_the_next_begins() -> None:
    a = sentence(0, None, [("lång", 0.0, 2.0)])
    b = sentence(1, None, [("kort", 1.5, 3.0)])
    cues = cues_from_alignment(align(a, b))
    assert (cues[0].end_ms, cues[1].start_ms) == (1500, 1500)


def test_confidence_is_the_weakest_word() -> None:
    words = (AlignedWord("bra", 0.0, 0.5, 0.9), AlignedWord("gissat", 0.5, 1.0, 0.2))
    sent = AlignedSentence(0, 0, None, "bra gissat", words)
    assert cues_from_alignment(align(sent))[0].confidence == pytest.approx(0.2)


def test_slow_sentence_is_split_to_keep_cues_under_seven_seconds() -> None:
    cues = cues_from_alignment(align(sentence(0, None, evenly("a b c d e f g h", 0.0, 2.0))))
    assert len(cues) >= 3
    assert all(c.end_ms - c.start_ms <= 7000 for c in cues)


def test_sentence_without_words_is_skipped() -> None:
    empty = AlignedSentence(0, 0, None, "", ())
    spoken = sentence(1, None, evenly("Hej.", 0, 1))
    cues = cues_from_alignment(align(empty, spoken))
    # the wordless sentence leaves no trace: the same cues as the spoken one alone
    assert cues == cues_from_alignment(align(spoken))
    assert [(c.start_ms, c.end_ms, c.lines) for c in cues] == [(0, 1000, ("Hej.",))]


@pytest.mark.parametrize(
    "kwargs", [{"max_line": 0}, {"min_ms": 8000}, {"max_cps": 0.0}, {"min_ms": 0}]
)
def test_impossible_settings_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(PodalignError, match="cue"):
        cues_from_alignment(align(), **kwargs)  # type: ignore[arg-type]


# --- invariants on random alignments ----------------------------------------------

word_text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Z", "C")), min_size=1, max_size=14),
    st.sampled_from(["och", "men,", "–", "Linnanmäki:", "att", "ja", "x" * 47, "&<-->"]),
)
speakers = st.sampled_from([None, "Linnanmäki", "Lehtinen", "Satu Lehtinen"])


@st.composite
def alignments(draw: st.DrawFn) -> Alignment:
    t = 0.0
    sents = []
    for index in range(draw(st.integers(0, 6))):
        timed = []
        for _ in range(draw(st.integers(1, 30))):
            t += draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0, 4.0]))
            length = draw(st.sampled_from([0.0, 0.1, 0.3, 0.6, 2.0, 8.0]))
            conf = draw(st.floats(0.0, 1.0))
            timed.append((draw(word_text), t, t + length, conf))
            t += length
        words = tuple(AlignedWord(w, s, e, c) for w, s, e, c in timed)
        text = " ".join(w for w, *_ in timed)
        sents.append(AlignedSentence(index, index, draw(speakers), text, words))
    duration = draw(st.sampled_from([0.0, t, t + 0.5, t + 30.0]))
    return Alignment(tuple(sents), duration, "same-language")


@settings(max_examples=150, deadline=None)
@given(alignments())
def test_cue_invariants(alignment: Alignment) -> None:
    cues = cues_from_alignment(alignment)

    # every word in exactly one cue, in order, never crossing a sentence
    assert [w for c in cues for w in c.words] == [w for s in alignment.sentences for w in s.words]
    by_sentence = iter(alignment.sentences)
    remaining: list[AlignedWord] = []
    for cue in cues:
        if not remaining:
            current = next(by_sentence)
            remaining = list(current.words)
        assert cue.speaker == current.speaker
        assert list(cue.words) == remaining[: len(cue.words)]
        remaining = remaining[len(cue.words) :]
        assert cue.text.split() == " ".join(w.text for w in cue.words).split()

    for cue, after in itertools.pairwise(cues):
        assert cue.end_ms <= after.start_ms
    for cue, after in itertools.zip_longest(cues, cues[1:]):
        assert 0 <= cue.start_ms < cue.end_ms
        assert isinstance(cue.start_ms, int) and isinstance(cue.end_ms, int)
        # the minimum cue duration, shorter only where the next speaker cuts in
        cut_in = after is not None and after.speaker != cue.speaker
        assert cue.end_ms - cue.start_ms >= (CUT_IN_MIN_MS if cut_in else 1000)
        if alignment.duration > 0 and len(cues) * 1000 <= round(alignment.duration * 1000):
            assert cue.end_ms <= round(alignment.duration * 1000)
        assert 1 <= len(cue.lines) <= 2
        for line in cue.lines:
            assert len(line) <= 42 or " " not in line
        if cue.end_ms - cue.start_ms > 7000:
            (word,) = cue.words
            assert cue.end_ms - cue.start_ms <= round(word.end * 1000) - round(word.start * 1000)
        assert cue.confidence == min(w.confidence for w in cue.words)
