"""Subtitle cues from aligned sentences: where to break, how to lay out lines, when to show.

A cue never spans two sentences (so never two speakers). Inside a long sentence the
breaks are chosen by dynamic programming over word positions: every cue must fit
``max_lines`` lines of ``max_line`` characters (a word longer than a line stays whole,
on a line of its own) and last at most ``max_ms`` (unless it is one long word); among
those splits the cheapest wins, where breaking after ``, ; : –`` is free, before a
conjunction is cheap, anywhere else is dear, and full two-line cues cost more than
two lighter ones (the "prefer more cues over cramming" convention).

Times: a cue runs from its first word's start to its last word's end, then is
stretched to ``min_ms`` and towards ``max_cps`` reading speed, never past the next
cue's start or the end of the audio. No cue is shorter than ``min_ms``: a cue whose words
come sooner than that after the previous cue's start waits for it, and cues crowded
against the audio's end start earlier; only when the audio is too short to hold them all
do they run past its end. The exception is a speaker change: the next speaker's cue waits
only until the previous speaker's words end (at least ``CUT_IN_MIN_MS``), so in crosstalk
each cue is on screen while its own speaker talks. Cue.confidence is the *minimum* of its
words' confidences: one guessed word is enough to make the cue's timing doubtful.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

from pipeline.errors import PodalignError
from pipeline.records import LOW_CONFIDENCE, AlignedWord, Alignment, Cue

log = logging.getLogger(__name__)

CLAUSE_ENDINGS = (",", ";", ":", "–", "—")
# sv, then fi: a break just before one of these reads as a clause boundary
SV_CONJUNCTIONS = ("och", "men", "att", "som", "eller", "så", "eftersom", "när", "där", "vilket")
FI_CONJUNCTIONS = ("ja", "mutta", "että", "kun", "tai", "koska", "jos", "vaan", "sekä")
CONJUNCTIONS = frozenset(SV_CONJUNCTIONS + FI_CONJUNCTIONS)

CUE_COST = 8.0  # every extra cue costs this much: splits must earn it
CRAM_WEIGHT = 30.0  # times (fill of the cue)², so two half-full cues beat one full
TINY_CHARS = 15  # a fragment shorter than this, split off a sentence, reads badly
CPS_WEIGHT = 1.5  # per character/second over max_cps
BREAK_COST = {"clause": 0.0, "dash": 1.0, "punct": 2.0, "conjunction": 5.0, "word": 12.0}
LINE_COMMA_BONUS = 150.0  # in squared characters: a comma within ~8 chars of the middle wins
LINE_DANGLING_COST = 80.0  # a line ending in "och"/"ja" reads as cut off
# When the next speaker cuts in, holding a short cue to min_ms kept it on screen over the
# other speaker's words and held their cue back as long; shorter than this it flickers.
CUT_IN_MIN_MS = 500


@dataclass(frozen=True)
class _Draft:
    """A cue before timing: its words and their cleaned times in ms."""

    words: tuple[AlignedWord, ...]
    texts: tuple[str, ...]
    start_ms: int
    end_ms: int
    speaker: str | None


def cues_from_alignment(
    alignment: Alignment,
    *,
    max_line: int = 42,
    max_lines: int = 2,
    min_ms: int = 1000,
    max_ms: int = 7000,
    max_cps: float = 17.0,
    low_confidence: float = LOW_CONFIDENCE,
) -> list[Cue]:
    """Subtitle cues for every word of every sentence, in order, timed without overlaps."""
    _check_settings(max_line, max_lines, min_ms, max_ms, max_cps)
    drafts: list[_Draft] = []
    previous_ms = 0
    for sentence in alignment.sentences:
        if not sentence.words:
            log.warning("sentence %d has no words; it gets no cue", sentence.index)
            continue
        times = _monotone_ms(sentence.words, previous_ms)
        previous_ms = times[-1][0]
        texts = [" ".join(w.text.split()) for w in sentence.words]
        for i, j in _sentence_chunks(texts, times, max_line, max_lines, max_ms, max_cps):
            drafts.append(
                _Draft(
                    sentence.words[i:j],
                    tuple(texts[i:j]),
                    times[i][0],
                    times[j - 1][1],
                    sentence.speaker,
                )
            )
    audio_ms = round(alignment.duration * 1000) if alignment.duration > 0 else None
    spans = _timed_spans(drafts, audio_ms, min_ms, max_ms, max_cps)
    cues = [
        Cue(
            start_ms=start,
            end_ms=end,
            lines=balanced_lines(d.texts, max_line, max_lines),
            speaker=d.speaker,
            confidence=min(w.confidence for w in d.words),
            words=d.words,
        )
        for d, (start, end) in zip(drafts, spans, strict=True)
    ]
    doubtful = sum(c.confidence < low_confidence for c in cues)
    if doubtful:
        log.info("%d of %d cues have confidence below %.2f", doubtful, len(cues), low_confidence)
    return cues


def _check_settings(max_line: int, max_lines: int, min_ms: int, max_ms: int, cps: float) -> None:
    if max_line < 1 or max_lines < 1:
        raise PodalignError(
            f"cue layout: max_line ({max_line}) and max_lines ({max_lines}) must be at least 1"
        )
    if not 0 < min_ms <= max_ms:
        raise PodalignError(f"cue timing: need 0 < min_ms ({min_ms}) <= max_ms ({max_ms})")
    if not cps > 0:
        raise PodalignError(f"cue timing: max_cps ({cps}) must be above 0")


def _monotone_ms(words: tuple[AlignedWord, ...], floor_ms: int) -> list[tuple[int, int]]:
    """Word (start, end) in ms, never going back in time and never ending before starting."""
    out: list[tuple[int, int]] = []
    for w in words:
        start = round(w.start * 1000) if math.isfinite(w.start) else floor_ms
        start = max(start, floor_ms)
        end = round(w.end * 1000) if math.isfinite(w.end) else start
        out.append((start, max(end, start)))
        floor_ms = start
    return out


def _break_kind(texts: list[str], j: int) -> str:
    """How natural a cue break is between word j-1 and word j."""
    before, after = texts[j - 1], texts[j]
    if before.endswith(CLAUSE_ENDINGS):
        return "clause"
    if after in ("–", "—", "-"):
        return "dash"
    if after.strip("\"'»”(").lower() in CONJUNCTIONS:
        return "conjunction"
    if before and before[-1] in ".!?)\"'»”…":
        return "punct"
    return "word"


def _sentence_chunks(
    texts: list[str],
    times: list[tuple[int, int]],
    max_line: int,
    max_lines: int,
    max_ms: int,
    max_cps: float,
) -> list[tuple[int, int]]:
    """Word index ranges [i, j) of the cheapest split of one sentence into cues."""
    n = len(texts)
    full = max_line * max_lines
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for i in range(n):
        if best[i] == math.inf:
            continue
        lines, line_len, chars = 1, 0, -1
        for j in range(i + 1, n + 1):
            width = len(texts[j - 1])
            chars += width + 1
            # greedy wrapping gives the fewest lines, so it decides whether the chunk fits
            if line_len and line_len + 1 + width > max_line:
                lines, line_len = lines + 1, width
            else:
                line_len += width + (1 if line_len else 0)
            span = times[j - 1][1] - times[i][0]
            if j > i + 1 and (lines > max_lines or span > max_ms):
                break
            room_ms = (times[j][0] if j < n else times[-1][1]) - times[i][0]
            cps = chars * 1000 / max(room_ms, 1)
            cost = CUE_COST + CRAM_WEIGHT * (chars / full) ** 2
            cost += CPS_WEIGHT * max(0.0, cps - max_cps)
            if (i, j) != (0, n) and chars < TINY_CHARS:
                cost += TINY_CHARS - chars
            if j < n:
                cost += BREAK_COST[_break_kind(texts, j)]
            if best[i] + cost < best[j]:
                best[j], back[j] = best[i] + cost, i
    chunks: list[tuple[int, int]] = []
    j = n
    while j > 0:
        chunks.append((back[j], j))
        j = back[j]
    return chunks[::-1]


def balanced_lines(
    texts: tuple[str, ...], max_line: int = 42, max_lines: int = 2
) -> tuple[str, ...]:
    """The words in the fewest lines that fit, of even length, broken at a comma near the middle."""
    words = [t for t in texts if t]
    n = len(words)
    if not n:
        return ("",)
    for count in range(1, max_lines + 1):
        layout = _lines_exactly(words, count, max_line)
        if layout is not None:
            return layout
    return _lines_exactly(words, min(n, max_lines), 10**9) or (" ".join(words),)


def _lines_exactly(words: list[str], count: int, max_line: int) -> tuple[str, ...] | None:
    """The best layout of the words in exactly `count` lines, or None if none fits."""
    n = len(words)
    if count > n:
        return None
    # cost[k][j]: best cost of words[:j] in k lines; squared lengths favour balance
    cost = [[math.inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for k in range(1, count + 1):
        for j in range(k, n + 1):
            for i in range(k - 1, j):
                if cost[k - 1][i] == math.inf:
                    continue
                line = " ".join(words[i:j])
                if len(line) > max_line and j - i > 1:
                    continue
                c = cost[k - 1][i] + len(line) ** 2
                if j < n and words[j - 1].endswith(CLAUSE_ENDINGS):
                    c -= LINE_COMMA_BONUS
                if j < n and words[j - 1].lower() in CONJUNCTIONS:
                    c += LINE_DANGLING_COST
                if c < cost[k][j]:
                    cost[k][j], back[k][j] = c, i
    if cost[count][n] == math.inf:
        return None
    lines: list[str] = []
    j = n
    for k in range(count, 0, -1):
        i = back[k][j]
        lines.append(" ".join(words[i:j]))
        j = i
    return tuple(lines[::-1])


def _hold_ms(draft: _Draft, start_ms: int, following: _Draft, min_ms: int) -> int:
    """How long the cue of draft, shown from start_ms, must stay before the following one.
    Words with no duration (text the audio lacks, kept) are no speech to follow."""
    if following.speaker == draft.speaker or draft.end_ms <= draft.start_ms:
        return min_ms
    return min(min_ms, max(CUT_IN_MIN_MS, draft.end_ms - start_ms))


def _starts_apart(drafts: list[_Draft], audio_ms: int | None, min_ms: int) -> list[int]:
    """Cue starts each held apart (see _hold_ms): each as early as its words allow after
    the one before; then, if the last would leave less than min_ms before the audio's end,
    pulled earlier one after another, as far as the audio has room for."""
    starts = [max(drafts[0].start_ms, 0)]
    holds: list[int] = []  # holds[k]: how long cue k stays before cue k + 1 (the last: the end)
    for draft, following in itertools.pairwise(drafts):
        holds.append(_hold_ms(draft, starts[-1], following, min_ms))
        starts.append(max(following.start_ms, starts[-1] + holds[-1]))
    holds.append(min_ms)
    if audio_ms is None or starts[-1] + min_ms <= audio_ms:
        return starts
    pulled = list(starts)
    ceiling = audio_ms
    for k in range(len(pulled) - 1, -1, -1):
        pulled[k] = min(pulled[k], ceiling - holds[k])
        ceiling = pulled[k]
    return pulled if pulled[0] >= 0 else starts


def _timed_spans(
    drafts: list[_Draft],
    audio_ms: int | None,
    min_ms: int,
    max_ms: int,
    max_cps: float,
) -> list[tuple[int, int]]:
    """(start_ms, end_ms) per draft: positive, sorted, non-overlapping, within the audio."""
    n = len(drafts)
    if not n:
        return []
    starts = _starts_apart(drafts, audio_ms, min_ms)
    # Cues run past the audio's end only when it has no room for them all (or the audio
    # length is unknown): a cue shorter than min_ms cannot be read.
    limit = None if audio_ms is None else max(audio_ms, starts[-1] + min_ms)
    spans: list[tuple[int, int]] = []
    for k, d in enumerate(drafts):
        start = starts[k]
        chars = sum(len(t) for t in d.texts) + len(d.texts) - 1
        wanted = start + max(min_ms, math.ceil(chars * 1000 / max_cps))
        end = max(d.end_ms, min(wanted, start + max_ms))
        ceiling = starts[k + 1] if k + 1 < n else limit
        if ceiling is not None:
            end = min(end, ceiling)
        if len(d.words) > 1:
            end = min(end, start + max_ms)
        spans.append((start, max(end, start + 1)))
    return spans
