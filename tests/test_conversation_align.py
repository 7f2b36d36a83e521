"""Conversation cases of the same-language aligner: false starts, a jingle under the first
words, sentences crowded next to speech the transcript lacks."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.align.refine import (
    STRETCHED_HEAD_WORDS,
    UNSURE_CONFIDENCE,
    after_false_start,
    align_same_language,
    end_at_voice,
    first_words_at_pace,
    heard_floor,
    rate_checked,
    reference_words,
    rejoined,
    snapped_to_speech,
    stretched_without_onset,
    unsqueezed,
    unstretched,
    voice_window,
)
from pipeline.inputs.audio import SAMPLE_RATE, load_audio
from pipeline.records import AlignedSentence, AlignedWord, Reference, Turn, Word
from pipeline.signal.speakers import (
    VAD_EARLY_SLACK,
    first_speech,
    uncovered_speech,
    voice_segments,
)
from pipeline.subtitles.preview import PreviewInputs, write_preview

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-sv"


def sentence(words: list[tuple[str, float, float]], index: int = 0) -> AlignedSentence:
    aligned = tuple(AlignedWord(t, a, b, 0.9) for t, a, b in words)
    return AlignedSentence(index, 0, None, " ".join(t for t, _, _ in words), aligned, 0.9)


def test_a_false_start_under_the_first_word_is_left_uncovered() -> None:
    # "Jag" squeezed onto a false start at 25.84-26.14, "har" stretched over the pause to the
    # real speech at 26.35 (conversation fixture conv-sv seed 2, sentence 14).
    s = sentence([("Jag", 25.84, 25.92), ("har", 25.92, 26.68), ("en", 26.68, 26.9)])
    speech = [(24.78, 25.52), (25.84, 26.14), (26.35, 27.55)]
    out = unstretched(s, speech)
    assert out.start == pytest.approx(26.35)
    assert [w.text for w in out.words] == ["Jag", "har", "en"]
    assert all(a.start <= b.start for a, b in itertools.pairwise(out.words))
    assert out.words[1].end == pytest.approx(26.68)


def test_four_words_squeezed_onto_a_short_aside_move_to_the_speech_after_it() -> None:
    # conv-sv tuning seed 8, sentence 40: the aside ends at 75.74, the sentence starts at
    # 75.86; "i" was stretched over the aside's end and the speech after it.
    s = sentence([("Vem", 74.57, 74.64), ("fick", 74.64, 75.0), ("sätta", 75.0, 75.0),
                  ("på", 75.0, 75.0), ("i", 75.0, 76.18), ("fredags?", 76.18, 77.29)])  # fmt: skip
    out = unstretched(s, [(74.57, 75.26), (75.41, 75.7), (75.88, 77.29)])
    assert out.start == pytest.approx(75.88)  # not 75.41: a pause inside the aside
    # "i" alone leaves the five words too little time: "fredags?" is spread with them
    assert out.words[5].end == pytest.approx(77.29)
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(out.words))


def test_unheard_first_words_squeezed_into_the_next_one_move_after_the_false_start() -> None:
    # conv-sv fresh layout 12, sentence 9: a false start at 18.56-19.07, the sentence at
    # 19.22; Whisper heard "har" with probability 0.00 and ended it 0.09 s after the onset.
    s = sentence([("Jag", 18.54, 18.92), ("har", 18.92, 19.34), ("ringt", 19.34, 19.88),
                  ("dig.", 19.88, 20.01)])  # fmt: skip
    onsets = [18.59, 18.85, 19.25, 20.35]
    assert after_false_start(s, onsets) == s  # heard: "har" leaves no room after 19.25
    out = after_false_start(s, onsets, unheard=True)
    assert out.start == pytest.approx(19.25)
    assert [w.text for w in out.words] == ["Jag", "har", "ringt", "dig."]
    assert out.words[2].end == pytest.approx(19.88)
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(out.words))


def test_a_slow_first_word_without_a_pause_inside_stays() -> None:
    s = sentence([("Kattungen", 9.36, 10.3), ("föll", 10.3, 11.12), ("ner", 11.12, 11.32)])
    assert unstretched(s, [(0.0, 10.47), (10.92, 13.4)]) == s  # "Kattungen" is not squeezed


def test_a_stretched_last_word_ends_at_the_speech_before_the_next_false_start() -> None:
    s = sentence([("Jag", 20.21, 20.4), ("gillar", 20.4, 20.88), ("det.", 20.88, 21.61)])
    out = unstretched(s, [(20.21, 21.1), (21.27, 21.57)])
    assert out.end == pytest.approx(21.1)
    assert out.start == pytest.approx(20.21)


def test_a_stretched_last_word_ends_where_an_aside_cuts_in_without_a_pause() -> None:
    # conv-sv layout 4, sentence 36 ("För vår hälsa!", said 69.42-70.29): an aside cuts in
    # at 70.06 and Whisper did not transcribe it, so "hälsa!" spans it, with no pause for
    # the speech regions to end at; the fine onsets hold the one where the aside's voice rose.
    s = sentence([("För", 69.44, 69.5), ("vår", 69.5, 69.8), ("hälsa!", 69.8, 71.12)])
    speech = [(69.44, 72.73)]
    assert unstretched(s, speech) == s
    out = unstretched(s, speech, onsets=[69.44, 69.85, 70.17, 71.07])
    assert out.end == pytest.approx(70.17)  # 69.85 leaves "hälsa!" no time to be said
    assert out.start == pytest.approx(69.44)


def test_a_first_word_spanning_a_false_start_starts_at_the_speech_after_it() -> None:
    # conv-fi tuning seed 8, sentence 24: a 0.4 s false start at 84.96, a pause, then
    # "Kukapa" at 85.36; the time warping gave "Kukapa" all of it.
    s = sentence([("Kukapa", 84.96, 85.64), ("ei", 85.64, 85.76), ("antaisi", 85.76, 86.2),
                  ("kaikkeaan", 86.2, 86.8)])  # fmt: skip
    out = after_false_start(s, [83.0, 85.36, 88.0])
    assert out.start == pytest.approx(85.36)
    assert out.words[0].end == pytest.approx(85.64)
    assert out.words[1:] == s.words[1:]


def test_words_whisper_heard_before_the_vad_onset_lower_the_floor() -> None:
    # conv-sv seed 23: "Som han sa." at 4.73 under the jingle; Silero heard speech only from
    # the next sentence (floor 5.88). Whisper heard "han" (0.55) at 4.88.
    first = [AlignedWord("Som", 0.0, 4.88, 0.10), AlignedWord("han", 4.88, 5.08, 0.55),
             AlignedWord("sa.", 5.08, 5.70, 0.52)]  # fmt: skip
    after = [AlignedWord("När", 5.90, 6.02, 0.48), AlignedWord("jag", 6.02, 6.14, 0.98)]
    floor = heard_floor(5.88, {0: first, 1: after})
    assert floor == pytest.approx(4.88 - 3 * 0.065)  # room for "Som" at conversation's pace
    # a first word alone is no evidence: it is the one stretched back over the jingle
    only_first = [
        AlignedWord("Som", 0.0, 4.88, 0.9),
        *(replace(w, confidence=0.1) for w in first[1:]),
    ]
    assert heard_floor(5.88, {0: only_first}) == 5.88
    # unheard words leave Silero's floor, and so does speech heard only after it
    unheard = [AlignedWord(w.text, w.start, w.end, 0.1) for w in first]
    assert heard_floor(5.88, {0: unheard, 1: after}) == 5.88
    assert heard_floor(4.0, {0: first}) == 4.0


def test_a_two_word_sentence_after_a_false_start_starts_at_its_speech() -> None:
    # conv-sv seed 16, sentence 6: a false start at 15.37-15.92, "Ja, verkligen." at 16.03;
    # "Ja," spanned both. With no inner word, conversation's pace judges the room.
    s = sentence([("Ja,", 15.36, 16.36), ("verkligen.", 16.36, 16.78)])
    out = after_false_start(s, [15.36, 16.03, 16.81])
    assert out.start == pytest.approx(16.03)
    assert out.words[1] == s.words[1]
    # a two-word sentence spoken whole, its pause inside, stays
    spoken = sentence([("Ja,", 15.36, 15.56), ("verkligen.", 15.8, 16.4)])
    assert after_false_start(spoken, [15.36, 15.8]) == spoken


def test_a_false_start_under_the_first_word_moves_the_second_word_too() -> None:
    # conv-fi tuning seed 2, sentence 42: "He" squeezed onto the false start, "olivat"
    # stretched over the pause to the real speech at 142.17.
    s = sentence([("He", 141.58, 141.67), ("olivat", 141.67, 142.59),
                  ("saaneet", 142.59, 143.07), ("minut", 143.07, 143.4),
                  ("kiinni", 143.4, 143.8)])  # fmt: skip
    out = after_false_start(s, [142.17])
    assert out.start == pytest.approx(142.17)
    assert [w.text for w in out.words] == ["He", "olivat", "saaneet", "minut", "kiinni"]
    assert out.words[1].end == pytest.approx(142.59)


def test_a_short_sentence_is_judged_at_a_conversational_pace_not_its_stretched_own() -> None:
    # conv-sv tuning seed 6, sentence 11: a false start at 23.53-23.91, the real "Jag har"
    # at 24.15. "har" is stretched over both, and, being an inner word of a six-word
    # sentence, it makes the sentence's own pace 0.127 s a letter: by that pace "Jag har"
    # found no room after the onset at 24.23 and the start stayed on the false start.
    s = sentence([("Jag", 23.64, 23.78), ("har", 23.78, 24.6), ("en", 24.6, 24.78),
                  ("sak", 24.78, 25.14), ("att", 25.14, 25.54),
                  ("uträtta.", 25.54, 26.35)])  # fmt: skip
    assert after_false_start(s, [23.64, 24.23]).start == pytest.approx(24.23)
    # An onset too late to leave room for "Jag har" after it still moves nothing.
    assert after_false_start(s, [24.45]) == s


def test_a_stop_closure_inside_a_real_first_word_is_not_a_false_start() -> None:
    # conv-fi tuning seed 7, sentence 34: "ratkaisu" has a pause at its "tk" (106.35); the
    # word after it is too short for the whole word, so the start stays.
    s = sentence([("Sellainen", 105.7, 106.0), ("ratkaisu,", 106.0, 106.88),
                  ("ettei", 106.88, 107.18), ("kukaan", 107.18, 107.9)])  # fmt: skip
    assert after_false_start(s, [106.35]) == s
    # A word said at the sentence's own pace has no excess to lose either.
    even = sentence([("Hetken", 17.92, 18.28), ("on", 18.28, 18.42), ("hiljaista.", 18.42, 18.92)])
    assert after_false_start(even, [18.12]) == even


def test_a_turn_squeezed_onto_an_aside_moves_to_its_speech() -> None:
    # conv-fi tuning seed 1: an untranscribed aside at 32.24-37.18 before sentences 12-14;
    # their first words were squeezed onto its start and "pääsemme" stretched to 42.9.
    texts = "Tulin saliin ennen paronia. Siksi vastasinkin myöntävästi. Kaikki tehtävät ovat"
    squeezed_words = texts.split()
    at = [32.37 + 0.12 * i for i in range(len(squeezed_words))]
    words = [AlignedWord(t, a, a + 0.12, 0.9) for t, a in zip(squeezed_words, at, strict=True)]
    words += [AlignedWord("pääsemme", words[-1].end, 42.9, 0.9),
              AlignedWord("strategian", 42.9, 43.5, 0.9)]  # fmt: skip
    # The turn before, at a Finnish voice's pace (0.07 s a letter), ending in its own region.
    before = [AlignedWord("sanat", 29.0 + 0.3 * i, 29.3 + 0.3 * i, 0.9) for i in range(8)]
    before.append(AlignedWord("tyhjää.", 31.6, 32.11, 0.9))
    n = len(before)
    out, moved = unsqueezed([*before, *words], [(28.9, 32.11), (32.37, 40.09), (40.3, 45.0)])
    assert moved == set(range(n, n + len(words) - 1))  # the squeezed run, the stretched word
    assert out[:n] == before  # in the speech region before: not part of the run
    assert 36.0 < out[n].start < 38.5  # the turn's speech starts at 37.05
    assert out[-2].end == pytest.approx(42.9)
    assert out[-1] == words[-1]
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(out))


def test_a_sentence_moved_off_an_aside_is_unsure() -> None:
    ref = Reference(
        (Turn("A", ("Orden sägs här i lugn och ro nu.",)),
         Turn("B", ("Sedan kommer alla dessa ord på en gång.", "Sist en mening till."))),
        "sv",
    )  # fmt: skip
    words = [w for _, w in reference_words(ref)]
    timings = [Word(w, 1.0 + 0.4 * i, 1.4 + 0.4 * i, 0.8) for i, w in enumerate(words[:8])]
    timings += [Word(w, 4.5 + 0.01 * i, 4.51 + 0.01 * i, 0.8) for i, w in enumerate(words[8:15])]
    timings += [Word(words[15], 4.6, 12.0, 0.8)]  # "gång." stretched over an aside
    timings += [Word(w, 12.0 + 0.4 * i, 12.4 + 0.4 * i, 0.8) for i, w in enumerate(words[16:])]
    alignment = align_same_language(ref, timings, [(1.0, 4.2), (4.5, 14.0)], duration=20.0)
    first, moved, last = alignment.sentences
    assert moved.confidence == UNSURE_CONFIDENCE
    assert first.confidence == last.confidence == 1.0
    assert moved.start > 8.0  # at the speech's pace before "gång." ends, not on the aside
    said = [w for w in alignment.warnings if "timed by their length alone" in w]
    assert len(said) == 1 and said[0].startswith("sentences 2 (0:")


def test_a_sentence_torn_across_untranscribed_speech_is_rejoined() -> None:
    # The long fixture's passage missing from the transcript: three words of sentence 43
    # were left at the passage's start, the rest 187 s later.
    head = [AlignedWord(t, 337.9 + 0.6 * i, 338.5 + 0.6 * i, 0.1)
            for i, t in enumerate(["Experterna", "upplever", "säkert"])]  # fmt: skip
    said = ["många", "gånger", "en", "sådan", "kund", "eller", "dennes"]
    tail = [AlignedWord(t, 526.2 + 0.5 * i, 526.7 + 0.5 * i, 0.6) for i, t in enumerate(said)]
    before = [AlignedWord("slut.", 336.0, 336.5, 0.9)]
    out, moved = rejoined([*before, *head, *tail], [42] + [43] * 10)
    assert moved == {1, 2, 3}
    assert out[0] == before[0] and out[4:] == tail
    assert all(w.start == w.end == pytest.approx(526.2) for w in out[1:4])
    # The smaller side moves: here the tail, onto the end of the head.
    out, moved = rejoined([*head, *tail[:1]], [1, 1, 1, 1])
    assert moved == {3} and out[3].start == pytest.approx(head[-1].end)
    # A sentence with ordinary pauses is left alone.
    assert rejoined(tail, [0] * len(tail)) == (tail, set())


def test_a_quick_phrase_is_not_a_squeezed_run() -> None:
    # "Det är nog han." is said in a breath after a long word: nothing moves.
    words = [AlignedWord("skitsnack!", 10.0, 11.2, 0.9)] + [
        AlignedWord(t, 11.2 + 0.06 * i, 11.26 + 0.06 * i, 0.9)
        for i, t in enumerate(["Det", "är", "nog", "han."])
    ]
    assert unsqueezed(words, [(10.0, 12.0)]) == (words, set())


@given(
    st.lists(st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 0.5)), min_size=1, max_size=30),
    st.lists(st.floats(0.0, 40.0), max_size=8),
)
def test_the_conversation_repairs_keep_every_word_in_order(
    spans: list[tuple[float, float]], edges: list[float]
) -> None:
    words, at = [], 0.0
    for i, (length, pause) in enumerate(spans):
        at += pause
        words.append(AlignedWord(f"ord{i}", at, at + length, 0.5))
        at += length
    speech = [(a, a + 1.0) for a in sorted(edges)]
    out, moved = unsqueezed(words, speech)
    assert [w.text for w in out] == [w.text for w in words]
    assert all(a.start <= b.start + 1e-9 and w.start <= w.end for a, b in itertools.pairwise(out)
               for w in (a, b))  # fmt: skip
    assert all(out[i] == words[i] for i in set(range(len(words))) - moved)
    s = AlignedSentence(0, 0, None, " ".join(w.text for w in words), tuple(words), 0.5)
    fixed = after_false_start(s, sorted(edges))
    assert fixed.end == s.end and [w.text for w in fixed.words] == [w.text for w in s.words]
    assert fixed.start >= s.start
    assert all(a.start <= b.start + 1e-9 for a, b in itertools.pairwise(fixed.words))
    cut = first_words_at_pace(words)
    head = STRETCHED_HEAD_WORDS
    assert cut[head:] == words[head:] and words[0].start <= cut[0].start <= cut[0].end
    assert any(a.end == b.end for a, b in zip(cut[:head], words[:head], strict=True))
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(cut[: head + 1]))
    unstuck = unstretched(s, speech)
    assert [w.text for w in unstuck.words] == [w.text for w in s.words]
    assert unstuck.start >= s.start
    assert all(a.start <= b.start + 1e-9 and w.start <= w.end
               for a, b in itertools.pairwise(unstuck.words) for w in (a, b))  # fmt: skip


def test_a_first_word_stretched_back_over_the_jingle_or_unheard_keeps_its_pace() -> None:
    # conv-sv tuning seed 9: "Jag" placed 1.91-3.10 over the chord intro, the speech starts
    # at 2.98. Later sentences are cut where Whisper did not hear the first word (an
    # aside's end, which the next speaker cuts into) or where no onset lies inside it; a
    # heard one with an onset inside is left to the snapping.
    text = "Jag känner igen honom."
    ref = Reference(tuple(Turn(who, (text,)) for who in "ABC"), "sv")
    times = [(1.91, 3.10), (3.10, 3.20), (3.20, 3.50), (3.50, 3.98)]
    texts = [w for _, w in reference_words(ref)[:4]]

    def timed(shift: float, first_probability: float) -> list[Word]:
        return [Word(w, a + shift, b + shift, first_probability if k == 0 else 0.8)
                for k, (w, (a, b)) in enumerate(zip(texts, times, strict=True))]  # fmt: skip

    timings = [*timed(0.0, 0.35), *timed(10.0, 0.35), *timed(20.0, 0.01)]
    first, heard, unheard = align_same_language(ref, timings, [], duration=30.0).sentences
    pace = (0.10 / 6 + 0.30 / 4) / 2  # the inner words' median seconds per letter
    assert first.start == pytest.approx(3.10 - 3 * pace)  # 2.96: the speech is at 2.98
    assert unheard.start == pytest.approx(23.10 - 3 * pace)
    assert heard.start == pytest.approx(13.10 - 3 * pace)  # no onset inside: cut too
    onset = 12.4  # heard, and speech starts inside it after a pause: the repairs find it
    again = align_same_language(ref, timings, [], duration=30.0, onsets=[onset]).sentences
    assert again[1].start == pytest.approx(onset)
    assert [t for w in first.words[1:] for t in (w.start, w.end)] == pytest.approx(
        [t for span in times[1:] for t in span]
    )
    said = [AlignedWord(w, a, b, 0.01) for w, a, b in
            [("Jag", 2.9, 3.1), ("känner", 3.1, 3.4), ("igen", 3.4, 3.7)]]  # fmt: skip
    assert first_words_at_pace(said) == said  # a first word of its own length stays


def test_a_stretched_first_word_without_an_onset_inside_is_cut_unless_set_apart() -> None:
    # conv-sv 36: "Så" 1.0 s long over the last second of an aside that runs into the
    # sentence (heard, probability 0.22); the true start is 74.97.
    said = [("Så", 74.10, 75.10), ("här", 75.10, 75.32), ("marknadsför", 75.32, 75.96),
            ("vi", 75.96, 76.12), ("det.", 76.12, 76.26)]  # fmt: skip
    words = [AlignedWord(t, a, b, 0.5) for t, a, b in said]
    assert stretched_without_onset(words, [74.12])  # the aside's own onset, at its start
    assert not stretched_without_onset(words, [74.12, 74.9])  # speech after a pause in it
    drawn = [AlignedWord("Nej,", 74.10, 75.10, 0.5), *words[1:]]
    assert not stretched_without_onset(drawn, [74.12])  # said alone, maybe drawn out
    assert not stretched_without_onset(words[:2], [])  # no inner word to measure by
    ordinary = [AlignedWord("Så", 74.90, 75.10, 0.5), *words[1:]]
    assert not stretched_without_onset(ordinary, [])
    cut = first_words_at_pace(words)
    assert abs(cut[0].start - 74.97) < 0.1 and cut[1:] == words[1:]
    # conv-sv 13: "Du vågar" unheard and squeezed onto an aside's start, "inte" stretched
    # over the rest of it; the sentence starts at 38.54.
    third = [("Du", 37.12, 37.24), ("vågar", 37.24, 37.24), ("inte", 37.24, 39.02),
             ("ens", 39.02, 39.26), ("gifta", 39.26, 39.58), ("dig!", 39.58, 40.02)]  # fmt: skip
    words = [AlignedWord(t, a, b, 0.1) for t, a, b in third]
    assert stretched_without_onset(words, [37.14, 39.51])
    cut = first_words_at_pace(words)
    assert abs(cut[0].start - 38.54) < 0.35 and cut[3:] == words[3:]
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(cut))


def test_words_before_a_second_word_stretched_over_an_aside_keep_the_sentence_pace() -> None:
    # conv-sv tuning seed 2, sentence 20: an aside ends at 42.55, the sentence cuts in at
    # 42.50 with no pause; "Vill" (probability 0.00) sat on the aside, "du" spanned its end.
    said = [("Vill", 41.24, 41.46), ("du", 41.46, 42.74), ("stirra", 42.74, 43.02),
            ("på", 43.02, 43.2), ("en", 43.2, 43.32), ("mörk", 43.32, 43.66),
            ("skärm?", 43.66, 44.18)]  # fmt: skip
    words = [AlignedWord(t, a, b, 0.0 if k == 0 else 0.8) for k, (t, a, b) in enumerate(said)]
    out = first_words_at_pace(words)
    pace = (0.12 / 2 + 0.34 / 4) / 2  # the median of the words after "du" but the last
    assert out[0].start == pytest.approx(42.74 - 6 * pace)  # 42.30; the speech is at 42.50
    assert out[1].end == pytest.approx(42.74) and out[2:] == words[2:]
    assert out[0].end == pytest.approx(out[1].start) and out[0].end > out[0].start
    short = [AlignedWord(t, a, b, 0.0) for t, a, b in said[:3]]
    assert first_words_at_pace(short) == short  # no inner word after "du" to measure by


def test_a_stretched_last_word_ends_where_the_voice_stops_not_at_the_breath() -> None:
    # real-sv sentence 44: the clip's speech ends at 176.59, its breath at 177.78, where the
    # energy ended "nu." (2 letters, 1.47 s); Silero hears the voice until 176.6.
    s = sentence([("med", 175.93, 176.03), ("Lee", 176.03, 176.31), ("nu.", 176.31, 177.78)])
    window = voice_window(s)
    assert window is not None and window[0] < 176.31 and window[1] > 177.78
    assert end_at_voice(s, [(174.59, 176.6)]).end == pytest.approx(176.6)
    assert end_at_voice(s, [(174.59, 176.6)]).words[:-1] == s.words[:-1]
    # A voice end too soon for the word to be said is not its end; nor one past the word.
    assert end_at_voice(s, [(174.59, 176.32), (176.4, 176.9)]).end == pytest.approx(176.9)
    assert end_at_voice(s, [(174.59, 178.2)]) == s
    assert end_at_voice(s, []) == s
    said = sentence([("med", 175.93, 176.03), ("Lee", 176.03, 176.31), ("nu.", 176.31, 176.6)])
    assert voice_window(said) is None  # a last word of its own length is not listened to


@given(st.floats(0.0, 3.0), st.lists(st.floats(0.0, 6.0), max_size=6))
def test_a_voice_end_only_ever_shortens_the_last_word(length: float, edges: list[float]) -> None:
    s = sentence([("Jag", 1.0, 1.2), ("kommer", 1.2, 1.5), ("nu.", 1.5, 1.5 + length)])
    times = sorted(edges)
    out = end_at_voice(s, list(zip(times[::2], times[1::2], strict=False)))
    assert out.words[:-1] == s.words[:-1] and out.words[-1].start == s.words[-1].start
    assert s.words[-1].start <= out.end <= s.end


def test_silero_hears_where_the_first_sentence_s_voice_stops() -> None:
    """The demo episode: tones, then a sentence at 6.315-14.155 s, the next at 14.89 s."""
    samples = load_audio(SAMPLE / "episode.mp3")
    (first, second) = voice_segments(samples, SAMPLE_RATE, 0.0, 16.0)
    assert 6.315 - 0.1 <= first[0] <= 6.315 + 0.3  # the tones are not speech
    assert 14.155 - 0.1 <= first[1] <= 14.155 + 0.2 and 14.89 - 0.2 <= second[0] <= 14.89 + 0.1
    assert voice_segments(samples, SAMPLE_RATE, 0.0, 4.0) == []


def test_an_end_snaps_into_its_last_word_only_past_the_word_s_middle() -> None:
    # conv-fi: "lähteä." 63.84-64.64 has a closure at 64.1 that ends a speech region; the
    # sentence ends with the word, not at its closure.
    s = sentence([("Minä", 63.47, 63.7), ("aloin", 63.7, 64.0), ("lähteä.", 64.0, 64.8)])
    assert snapped_to_speech([s], [(63.47, 64.1)], 70.0)[0].end == pytest.approx(64.8)
    assert snapped_to_speech([s], [(63.47, 64.6)], 70.0)[0].end == pytest.approx(64.6)


def test_a_start_takes_a_fine_onset_next_to_whisper_s_over_an_early_region_start() -> None:
    # The long fixture under 15 dB noise, sentence 898: the coarse region starts 0.2 s
    # early (a noise blip merged in), Whisper and the fine onset agree on 6520.88.
    s = sentence([("Men", 6520.81, 6521.05), ("sedan", 6521.05, 6521.39), ("kom", 6521.39, 6521.7)])
    speech = [(6520.69, 6523.0)]
    assert snapped_to_speech([s], speech, 7000.0)[0].start == pytest.approx(6520.69)
    fine = snapped_to_speech([s], speech, 7000.0, onsets=[6520.0, 6520.88, 6521.58])
    assert fine[0].start == pytest.approx(6520.88)
    assert fine[0].words[1:] == s.words[1:]


@pytest.mark.parametrize("probability", [0.1, 0.8])
def test_no_sentence_starts_before_the_first_speech_whisper_did_not_hear(
    probability: float,
) -> None:
    ref = Reference((Turn("A", ("Hej och välkommen.", "Vad betyder det?")),), "sv")
    words = [w for _, w in reference_words(ref)]
    timings = [Word(w, 1.0 + 0.4 * i, 1.3 + 0.4 * i, probability) for i, w in enumerate(words)]
    alignment = align_same_language(ref, timings, [], duration=10.0, first_speech=2.0)
    # heard clearly, "och" at 1.4 s lowers the floor to leave room for "Hej" before it
    floor = 2.0 if probability < 0.3 else 1.4 - 3 * 0.065
    assert all(w.start >= floor - 1e-9 for s in alignment.sentences for w in s.words)
    assert alignment.sentences[0].start == pytest.approx(max(floor, 1.0))
    assert [w.text for s in alignment.sentences for w in s.words] == words


def test_silero_first_speech_is_at_the_speech_not_the_intro_tones() -> None:
    """The demo episode opens with tones; its first sentence starts at 6.315 s."""
    samples = load_audio(SAMPLE / "episode.mp3")
    floor = first_speech(samples, SAMPLE_RATE)
    assert 6.315 - 1.0 <= floor <= 6.315
    assert floor + VAD_EARLY_SLACK > 5.0  # the tones are not speech


def test_a_sentence_crowded_next_to_an_aside_is_unsure_and_warned() -> None:
    normal = [
        sentence(
            [(f"ordet{i}", 10.0 * i, 10.0 * i + 1.0), ("sägs nu", 10.0 * i + 1, 10.0 * i + 2)], i
        )
        for i in range(5)
    ]
    crowded = sentence([("ordet5 med", 50.0, 50.2), ("många ord", 50.2, 50.4)], 5)
    out, warnings = rate_checked([*normal, crowded])
    assert out[5].confidence == UNSURE_CONFIDENCE
    assert all(w.confidence <= UNSURE_CONFIDENCE for w in out[5].words)
    assert [s.confidence for s in out[:5]] == [0.9] * 5
    assert len(warnings) == 1 and "sentences 6 (0:50.0–0:50.4)" in warnings[0]


@given(st.lists(st.tuples(st.floats(0.05, 5.0), st.floats(0.0, 2.0)), min_size=1, max_size=12))
def test_rate_check_only_lowers_confidence(spans: list[tuple[float, float]]) -> None:
    sentences, at = [], 0.0
    for i, (length, pause) in enumerate(spans):
        at += pause
        sentences.append(
            sentence(
                [("ett ord", at, at + length / 2), ("till här", at + length / 2, at + length)], i
            )
        )
        at += length
    out, warnings = rate_checked(sentences)
    assert [(s.start, s.end, s.text) for s in out] == [(s.start, s.end, s.text) for s in sentences]
    assert all(a.confidence <= b.confidence for a, b in zip(out, sentences, strict=True))
    assert bool(warnings) == any(
        a.confidence < b.confidence for a, b in zip(out, sentences, strict=True)
    )


def test_speech_between_subtitles_is_listed_where_it_lasts() -> None:
    speech = [(0.0, 3.0), (3.2, 9.0), (9.5, 10.0), (12.0, 12.4)]
    cues = [(0.0, 3.0), (9.4, 10.1)]
    # 3.2-9.0 is 5.8 s of speech no cue covers; 12.0-12.4 is too short to list.
    assert uncovered_speech(speech, cues) == [(3.2, 9.0)]


@given(
    st.lists(st.tuples(st.floats(0, 100), st.floats(0.01, 5)), max_size=8),
    st.lists(st.tuples(st.floats(0, 100), st.floats(0.01, 5)), max_size=8),
)
def test_uncovered_stretches_hold_speech_and_no_cue(
    speech: list[tuple[float, float]], cues: list[tuple[float, float]]
) -> None:
    regions, spans = disjoint(speech), disjoint(cues)
    found = uncovered_speech(regions, spans)
    for a, b in found:
        assert all(b <= x or a >= y for x, y in spans)
        inside = sum(max(0.0, min(b, y) - max(a, x)) for x, y in regions)
        assert inside >= 1.5 - 1e-9
    if not spans:  # nothing covered: listed exactly when there is enough speech at all
        assert bool(found) == (sum(b - a for a, b in regions) >= 1.5)


def disjoint(starts_and_lengths: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted spans, each dropped if it overlaps one kept before it."""
    out: list[tuple[float, float]] = []
    for a, b in sorted((a, a + d) for a, d in starts_and_lengths):
        if not out or a >= out[-1][1]:
            out.append((a, b))
    return out


def test_preview_page_lists_speech_without_subtitles(tmp_path: Path) -> None:
    vtt = tmp_path / "ep.vtt"
    vtt.write_text("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nHej.\n", encoding="utf-8")
    (tmp_path / "ep.mp3").write_bytes(b"ID3 stand-in: the page never decodes it")
    page = write_preview(PreviewInputs(vtt, tmp_path / "ep.mp3"), uncovered=[(32.25, 37.5)])
    text = page.read_text(encoding="utf-8")
    assert '"uncovered": [[32.25, 37.5]]' in text
    assert "speech without subtitles" in text
