"""How much of an episode is well aligned, and where it is not (pure functions over records).

An aligner that loses the thread still writes a file: its cues crowd together where the
text ran ahead of the audio, and the speech after it gets none. Both are visible without
knowing the truth: speech with no subtitle for a minute or more, and runs of sentences
shown faster than anyone speaks. They are warnings naming their times, and `--strict`
fails the episode on them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.align.refine import UNHEARD_PROBABILITY
from pipeline.records import AlignedSentence, Coverage, Reference
from pipeline.spans import merged, time_range

# Speech without a subtitle for this long is reported: longer than an ad read or a jingle
# with talk over it, as long as the aligner takes to find its thread again.
UNSUBTITLED_SECONDS = 60.0
# Uncovered speech this close together counts as one stretch (pauses, music beds).
_STRETCH_GAP = 10.0
# A subtitle shows its speech from a little before to a little after (cue padding).
_COVER_MARGIN = 0.5
# No word takes longer to say, even drawn out; a word timed longer was stretched by the
# aligner over speech the transcript lacks.
_LONGEST_WORD = 2.0
# Read speech runs 10-20 characters a second, fast talk 25; above this nobody speaks.
CRAMMED_CPS = 40.0
# Read speech runs about 10-20 characters a second; far outside this the transcript and the
# audio are not the same episode, or one of them is incomplete.
PLAUSIBLE_CPS = (4.0, 35.0)
# A run of this many sentences that fast is reported: one short sentence snapped tight
# between two pauses can reach it honestly.
CRAMMED_RUN = 3


def crammed_runs(sentences: Sequence[AlignedSentence]) -> list[tuple[int, int]]:
    """(first, last) sentence positions of each run of at least CRAMMED_RUN consecutive
    sentences shown faster than CRAMMED_CPS, over the run as a whole."""
    fast = [_cps(len(s.text), s.start, s.end) > CRAMMED_CPS for s in sentences]
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        if not fast[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(sentences) and fast[j + 1]:
            j += 1
        chars = sum(len(s.text) for s in sentences[i : j + 1])
        if (
            j - i + 1 >= CRAMMED_RUN
            and _cps(chars, sentences[i].start, sentences[j].end) > CRAMMED_CPS
        ):
            runs.append((i, j))
        i = j + 1
    return runs


def _cps(chars: int, start: float, end: float) -> float:
    return chars / max(end - start, 1e-3)


def unsubtitled_stretches(
    speech: Sequence[tuple[float, float]], shown: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """(start, end) of each stretch holding UNSUBTITLED_SECONDS or more of speech that no
    shown span covers; uncovered pieces less than _STRETCH_GAP apart are one stretch."""
    uncovered = _uncovered(speech, merged(shown, pad=_COVER_MARGIN))
    stretches: list[list[float]] = []
    for a, b in uncovered:
        if stretches and a - stretches[-1][1] < _STRETCH_GAP:
            stretches[-1][1] = b
            stretches[-1][2] += b - a
        else:
            stretches.append([a, b, b - a])
    return [(a, b) for a, b, said in stretches if said >= UNSUBTITLED_SECONDS]


def _uncovered(
    speech: Sequence[tuple[float, float]], cover: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The parts of the speech regions outside the (sorted, disjoint) cover."""
    starts = np.array([a for a, _ in cover])
    out = []
    for a, b in speech:
        i = max(int(np.searchsorted(starts, a, side="right")) - 1, 0)
        t = a
        while i < len(cover) and cover[i][0] < b:
            if cover[i][1] > t:
                if cover[i][0] > t:
                    out.append((t, cover[i][0]))
                t = max(t, cover[i][1])
            i += 1
        if t < b:
            out.append((t, b))
    return out


def coverage(
    sentences: Sequence[AlignedSentence], speech: Sequence[tuple[float, float]]
) -> Coverage:
    """The episode's coverage: well aligned are the sentences heard (confidence at least
    UNHEARD_PROBABILITY) and not in a crammed run."""
    runs = crammed_runs(sentences)
    crammed = {k for i, j in runs for k in range(i, j + 1)}
    good = [
        s
        for k, s in enumerate(sentences)
        if k not in crammed and s.confidence >= UNHEARD_PROBABILITY
    ]
    speech_seconds = sum(b - a for a, b in speech)
    well = speech_seconds - sum(
        b - a for a, b in _uncovered(speech, merged(_spans(good), pad=_COVER_MARGIN))
    )
    problems = [
        (a, f"{time_range(a, b)}: speech with no subtitle")
        for a, b in unsubtitled_stretches(speech, _spans(sentences))
    ]
    for i, j in runs:
        first, last = sentences[i], sentences[j]
        problems.append((first.start,
            f"{time_range(first.start, last.end)}: {j - i + 1} sentences crammed into "
            f"{last.end - first.start:.1f} s, faster than anyone speaks (text missing from "
            "the audio, or misaligned)"
        ))  # fmt: skip
    return Coverage(
        speech_seconds, well, sum(len(s.words) for s in sentences),
        sum(len(s.words) for s in good), tuple(p for _, p in sorted(problems)),
    )  # fmt: skip


def _spans(sentences: Sequence[AlignedSentence]) -> list[tuple[float, float]]:
    """What the sentences' words show, each word at most _LONGEST_WORD long: a sentence
    whose last word an aligner stretched over a minute of untranscribed talk covers its own
    words, not that minute."""
    return [(w.start, min(w.end, w.start + _LONGEST_WORD)) for s in sentences for w in s.words]


def length_warnings(reference: Reference, speech: Sequence[tuple[float, float]]) -> list[str]:
    """A transcript far too long or too short for the speech, said once, for every mode."""
    chars = sum(len(s.text) for s in reference.sentences)
    speaking = sum(e - s for s, e in speech)
    rate = chars / max(speaking, 1e-6)
    low, high = PLAUSIBLE_CPS
    if rate > high:
        return [f"the transcript is much longer than the speech ({rate:.0f} characters per "
                "second of speech): same episode? audio complete?"]  # fmt: skip
    if rate < low:
        return [f"the transcript is much shorter than the speech ({rate:.1f} characters per "
                "second of speech): part of the episode will have no subtitles"]  # fmt: skip
    return []
