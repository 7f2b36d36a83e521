"""Speech cut into *units* for the cross-lingual aligner: stretches of speech between
which a sentence may start.

Speech regions are cleaned (a wordless intro or outro, short wordless noises dropped), cut
at the pauses the voice-change candidates saw and at the ASR's sentence ends, then halved
at ASR word starts until every sentence has room, so that a start no pause reveals is
still reachable.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.records import Transcription
from pipeline.signal.speakers import Candidate
from pipeline.spans import merged

SHORT_REGION = 0.6  # seconds: shorter regions without ASR words are not speech
JINGLE_PAUSE = 1.0  # seconds of pause after a wordless intro (or before an outro)
JINGLE_MAX = 30.0  # seconds: no longer intro/outro is dropped
UNITS_PER_SENTENCE = 2  # at least: halving long units adds the starts pauses miss
MIN_REGION = 1e-3  # seconds: a shorter span (a zero-length ASR segment) cuts into empty units
WORD_REACH = 0.3  # seconds: Whisper's word times wander this far from the speech they cover
WORD_PAD = 0.2  # seconds: an ASR word this close to a short region makes it speech
FULL_BREAK_GAP = 0.6  # seconds: a silent gap this long between ASR words is a full break
MIN_BREAK_STRENGTH = 0.25  # a shorter gap (under 0.15 s) is word-time jitter, not a pause
CUT_MARGIN = 0.2  # seconds: no cut this close to a region's edge or another cut
CHANGE_REACH = 0.05  # seconds: a voice-change candidate this close to a unit's start is its
HALVINGS_PER_SENTENCE = 4  # bounds the halving loop, so hours of audio stay quick


@dataclass(frozen=True)
class Units:
    """Consecutive stretches of speech; sentences are made of runs of them."""

    start: np.ndarray  # (m,)
    end: np.ndarray  # (m,)
    pause: np.ndarray  # (m,) seconds of silence before each unit (first: its start time)
    punct: np.ndarray  # (m,) 1.0 where the ASR ended a sentence just before the unit
    change: np.ndarray  # (m,) standardised voice-change score of the pause before the unit

    @property
    def cum_speech(self) -> np.ndarray:
        """cum_speech[j] = seconds of speech in units before j (length m + 1)."""
        return np.concatenate([[0.0], np.cumsum(self.end - self.start)])


def merged_spans(spans: Sequence[tuple[float, float]], duration: float) -> list[list[float]]:
    """Spans clipped to [0, duration], sorted, overlaps merged, empty ones dropped."""
    clipped = [(max(0.0, a), min(duration, b)) for a, b in spans]
    return [[a, b] for a, b in merged([(a, b) for a, b in clipped if b - a >= MIN_REGION])]


def clean_regions(
    speech: Sequence[tuple[float, float]], asr: Transcription, duration: float
) -> list[tuple[float, float]]:
    """Sorted, non-overlapping regions inside [0, duration], without a wordless intro or
    outro (music is loud but has no words) or short wordless noises; the ASR's segments or
    the whole file when nothing is left."""
    regions = merged_spans(speech, duration)
    real = [w for w in asr.words if any(ch.isalnum() for ch in w.text)]  # not "..." on music
    words = [(w.start + w.end) / 2 for w in real]
    if words:
        heard = [any(a - WORD_REACH <= t <= b + WORD_REACH for t in words) for a, b in regions]
        first = leading_jingle(regions, heard)
        last = len(regions) - leading_jingle(regions[first:][::-1], heard[first:][::-1])
        regions = regions[first:last]
        # A short wordless region inside is a click, breath or room noise before a clip.
        spoken = [(w.start - WORD_PAD, w.end + WORD_PAD) for w in real]
        regions = [
            [a, b]
            for a, b in regions
            if b - a >= SHORT_REGION or any(x < b and a < y for x, y in spoken)
        ]
    if not regions:  # no usable speech regions: the ASR's segments, else the whole file
        spans = [(g.start, g.end) for g in asr.segments]
        regions = merged_spans(spans, duration) or [[0.0, duration]]
    return [(a, b) for a, b in regions]


def leading_jingle(regions: list[list[float]], heard: list[bool]) -> int:
    """How many leading regions to drop as a jingle: wordless ones up to the first pause of
    at least JINGLE_PAUSE s within the first JINGLE_MAX s (works on reversed lists too).

    Whisper often skips the first seconds of real speech too, so wordlessness alone is not
    enough: a jingle also ends in a clear pause before the talking starts.
    """
    for c in range(1, len(regions)):
        if heard[c - 1] or abs(regions[c - 1][1] - regions[0][0]) > JINGLE_MAX:
            return 0
        if abs(regions[c][0] - regions[c - 1][1]) >= JINGLE_PAUSE:
            return c
    return 0


def ends_sentence(word: str) -> bool:
    """Whether Whisper ended a sentence with this ASR word (.?!)."""
    return word.strip().endswith((".", "?", "!"))


def asr_breaks(asr: Transcription) -> list[tuple[float, float]]:
    """(time, strength 0..1) where the ASR suggests a sentence may start: the start of the
    word after a sentence end (.?!: strength 1) or after a silent gap in its word times
    (strength grows with the gap, full at FULL_BREAK_GAP), which still shows pauses that the speech
    regions merged over."""
    out = []
    for w, nxt in itertools.pairwise(asr.words):
        gap = nxt.start - w.end
        if gap < 0:
            continue
        full_stop = ends_sentence(w.text)
        strength = 1.0 if full_stop else min(1.0, gap / FULL_BREAK_GAP)
        if strength >= MIN_BREAK_STRENGTH:
            out.append((nxt.start, strength))
    return out


def region_cuts(
    a: float, b: float, breaks: list[tuple[float, float]], boundaries: Sequence[Candidate]
) -> list[tuple[float, float, float]]:
    """(time, half pause, punct) where to cut the region [a, b]: pauses the speech regions
    merged over (from the candidates) and the ASR's sentence ends, at least CUT_MARGIN apart."""
    cuts: list[tuple[float, float, float]] = []
    for c in sorted(boundaries, key=lambda c: c.time):  # pauses first: they are surer
        if c.pause_length <= 0:
            continue  # a point of voice change only, no pause to cut at
        t, half = c.time, c.pause_length / 2
        if a + CUT_MARGIN + half < t < b - CUT_MARGIN - half and (
            not cuts or t - half > cuts[-1][0] + cuts[-1][1] + CUT_MARGIN
        ):
            cuts.append((t, half, 0.0))
    for t, strength in breaks:  # the ASR's: on a pause it marks it, else a cut of its own
        near = [k for k, (u, half, _) in enumerate(cuts) if abs(t - u) <= half + WORD_REACH]
        if near:
            k = near[0]
            cuts[k] = (*cuts[k][:2], max(cuts[k][2], strength))
        elif a + CUT_MARGIN < t < b - CUT_MARGIN:
            cuts.append((t, 0.0, strength))
            cuts.sort()
    return cuts


def halved(piece: tuple[float, float, float], word_starts: np.ndarray) -> list:
    """The piece cut in two at the ASR word start nearest its middle (else the middle)."""
    a, b, punct = piece
    inside = word_starts[(word_starts > a + WORD_REACH) & (word_starts < b - WORD_REACH)]
    mid = (a + b) / 2
    t = float(inside[np.argmin(np.abs(inside - mid))]) if len(inside) else mid
    return [(a, t, punct), (t, b, 0.0)]


def build_units(
    regions: list[tuple[float, float]],
    asr: Transcription,
    boundaries: Sequence[Candidate],
    n_sentences: int,
) -> Units:
    """Regions cut at pauses and the ASR's breaks, then halved (longest first) until there
    are UNITS_PER_SENTENCE units per sentence and none longer than a mean sentence, so that
    sentence starts the pauses miss stay reachable; pauses, ASR breaks and change scores."""
    breaks = asr_breaks(asr)
    pieces: list[tuple[float, float, float]] = []  # start, end, punct before
    for a, b in regions:
        cuts = region_cuts(a, b, breaks, boundaries)
        lefts = [a, *(t + half for t, half, _ in cuts)]
        rights = [*(t - half for t, half, _ in cuts), b]
        puncts = [0.0, *(punct for _, _, punct in cuts)]
        pieces += list(zip(lefts, rights, puncts, strict=True))
    word_starts = np.array([w.start for w in asr.words])
    # Also no unit longer than a mean sentence: where Whisper heard nothing for 30 s, the
    # starts hidden there must stay reachable. Bounded, so hours of audio stay quick.
    mean_sentence = sum(b - a for a, b, _ in pieces) / max(n_sentences, 1)
    for _ in range(HALVINGS_PER_SENTENCE * n_sentences + 10):
        k = max(range(len(pieces)), key=lambda i: pieces[i][1] - pieces[i][0])
        if len(pieces) >= UNITS_PER_SENTENCE * n_sentences and (
            pieces[k][1] - pieces[k][0] <= mean_sentence
        ):
            break
        pieces[k : k + 1] = halved(pieces[k], word_starts)
    start = np.array([p[0] for p in pieces])
    end = np.array([p[1] for p in pieces])
    pause = start - np.concatenate([[0.0], end[:-1]])
    scores = np.array([c.change_score for c in boundaries]) if boundaries else np.zeros(1)
    z = (scores - scores.mean()) / (scores.std() + 1e-9)
    change = np.zeros(len(pieces))
    for c, zc in zip(boundaries, z, strict=False):
        k = int(np.searchsorted(start, c.time))  # the unit that starts after this pause
        if 0 < k < len(pieces) and end[k - 1] - CHANGE_REACH <= c.time <= start[k] + CHANGE_REACH:
            change[k] = max(change[k], zc) if change[k] else zc
    punct = np.array([p[2] for p in pieces])
    return Units(start, end, pause, punct, change)
