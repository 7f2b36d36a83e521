"""Text the audio lacks, decided per episode from what the aligners report (pure records)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.episode import KEPT_UNHEARD_CONFIDENCE, heard_only, unheard_positions
from pipeline.records import AlignedSentence, AlignedWord, Alignment


def _sentence(index: int, text: str, start: float, end: float, conf: float) -> AlignedSentence:
    words = text.split()
    step = (end - start) / len(words)
    timed = tuple(
        AlignedWord(w, start + i * step, start + (i + 1) * step, conf) for i, w in enumerate(words)
    )
    return AlignedSentence(index, 0, None, text, timed, conf)


HEARD = "Det här är en mening som hörs tydligt."  # 38 characters


def test_squeezed_and_untimed_sentences_are_left_out_with_their_true_range() -> None:
    sentences = (
        _sentence(0, HEARD, 0.0, 3.0, 1.0),
        _sentence(1, HEARD, 3.0, 3.1, 0.5),  # squeezed into 0.1 s: not heard, whatever p
        _sentence(2, HEARD, 3.1, 3.1, 0.0),  # untimed: the audio ran out
    )
    superseded = ("the audio ended before the transcript: sentences 3 are placed",)
    aligned = Alignment(sentences, 3.1, "same-language", "sv", "sv", superseded)
    out = heard_only(aligned)
    assert [s.index for s in out.sentences] == [0]
    assert out.warnings == (
        "sentences 2-3 (0:03.0–0:03.1) were not heard in the audio: left out of the subtitles "
        "(--keep-unheard keeps them, marked unsure)",
    )
    kept = heard_only(aligned, keep=True)
    assert [s.confidence for s in kept.sentences] == [1.0, 0.0, 0.0]
    assert "kept in the subtitles, marked unsure" in kept.warnings[0]


def test_asr_only_text_is_always_heard() -> None:
    aligned = Alignment((_sentence(0, HEARD, 0.0, 0.1, 0.0),), 1.0, "asr-only")
    assert heard_only(aligned) == aligned


@st.composite
def alignments(draw: st.DrawFn) -> Alignment:
    t, sentences = 0.0, []
    for index in range(draw(st.integers(1, 12))):
        length = draw(st.sampled_from([0.0, 0.1, 1.0, 3.0]))
        conf = draw(st.sampled_from([0.0, 0.03, 0.5, 1.0]))
        sentences.append(_sentence(index, HEARD, t, t + length, conf))
        t += length
    mode = draw(st.sampled_from(["same-language", "cross-lingual"]))
    return Alignment(tuple(sentences), t, mode)


@settings(max_examples=100, deadline=None)
@given(alignments(), st.booleans())
def test_every_unheard_sentence_is_named_once_and_the_rest_kept(
    aligned: Alignment, keep: bool
) -> None:
    unheard = {aligned.sentences[i].index for i in unheard_positions(aligned)}
    out = heard_only(aligned, keep=keep)
    named: set[int] = set()
    for warning in out.warnings:
        first, _, last = re.match(r"sentences (\d+)(-(\d+))?", warning).groups()
        run = set(range(int(first) - 1, int(last or first)))
        assert not run & named
        named |= run
    assert named == unheard
    if keep:
        assert [s.index for s in out.sentences] == [s.index for s in aligned.sentences]
        assert all(s.confidence == KEPT_UNHEARD_CONFIDENCE for s in out.sentences
                   if s.index in unheard)  # fmt: skip
    else:
        assert [s.index for s in out.sentences] == [
            s.index for s in aligned.sentences if s.index not in unheard
        ]
