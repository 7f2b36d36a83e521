"""Conversation cases of the same-language aligner: false starts, a jingle under the first
words, sentences crowded next to speech the transcript lacks."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.align.refine import (
    UNSURE_CONFIDENCE,
    align_same_language,
    rate_checked,
    reference_words,
    unstretched,
)
from pipeline.inputs.audio import SAMPLE_RATE, load_audio
from pipeline.records import AlignedSentence, AlignedWord, Reference, Turn, Word
from pipeline.signal.speakers import VAD_EARLY_SLACK, first_speech, uncovered_speech
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


def test_a_slow_first_word_without_a_pause_inside_stays() -> None:
    s = sentence([("Kattungen", 9.36, 10.3), ("föll", 10.3, 11.12), ("ner", 11.12, 11.32)])
    assert unstretched(s, [(0.0, 10.47), (10.92, 13.4)]) == s  # "Kattungen" is not squeezed


def test_a_stretched_last_word_ends_at_the_speech_before_the_next_false_start() -> None:
    s = sentence([("Jag", 20.21, 20.4), ("gillar", 20.4, 20.88), ("det.", 20.88, 21.61)])
    out = unstretched(s, [(20.21, 21.1), (21.27, 21.57)])
    assert out.end == pytest.approx(21.1)
    assert out.start == pytest.approx(20.21)


def test_no_sentence_starts_before_the_first_speech() -> None:
    ref = Reference((Turn("A", ("Hej och välkommen.", "Vad betyder det?")),), "sv")
    words = [w for _, w in reference_words(ref)]
    timings = [Word(w, 1.0 + 0.4 * i, 1.3 + 0.4 * i, 0.8) for i, w in enumerate(words)]
    alignment = align_same_language(ref, timings, [], duration=10.0, first_speech=2.0)
    assert all(w.start >= 2.0 for s in alignment.sentences for w in s.words)
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
