"""Same-language alignment: reference sentences timed from per-word acoustic timings.

Pure functions over records: the word timings come from `pipeline.align.forced` (or any other
source), speech regions from `pipeline.signal.speakers.speech_regions`. Testable without audio.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import numpy as np

from pipeline.records import AlignedSentence, AlignedWord, Alignment, Reference, Word
from pipeline.signal.restarts import RESTART_MAX_PAUSE, RESTART_MAX_SECONDS
from pipeline.spans import numbered_ranges, time_range

# Whisper's word edges wander by a tenth of a second or two; the speech-region edge
# (where the energy rises out of the pause) is sharper, so sentence edges snap to it.
SNAP_SECONDS = 0.35
# How far back into its last word a sentence's end may snap, unless the word is stretched
# over the pause after it: a stop closure inside a long final word ends a speech region
# too (Finnish "kk", "tt"). Snapping into the whole word put Finnish ends 0.3-0.6 s early
# (conversation tuning layouts: conv-fi end p90 0.42 s; 0.27 s with 0.6 of the word; 0.7
# gave 0.37 s; conv-sv 0.22 s either way). Read-speech real-sv's last sentence, whose last
# word runs 0.5 s into the silence after it, keeps that tail.
END_SNAP_SHARE = 0.6
# A start within this of a fine onset (after even a short pause, `onsets`) takes that
# onset: under noise the coarse speech regions merge a blip or a breath into the speech
# and start 0.2-0.3 s early, where Whisper's first word and the fine onset agree (the long
# fixture's noisy sections: start p90 0.15-0.19 s, 0.07 s with this). 0.15 s is the best
# on the conversation tuning layouts (conv-fi start p90 0.137 -> 0.130 s, conv-sv same);
# taking the nearest of all fine onsets made them worse (0.32 s).
FINE_SNAP = 0.15
# An onset this far into a stretched first word is speech after a pause inside it, which
# the snapping finds (one at the word's very start is its own).
STRETCH_ONSET_LEAD = 0.1
# How many first words may hold the one stretched back over sound the text lacks: two
# unheard words squeezed onto an aside's start come before it ("Du vågar | inte", conv-sv
# 13). Conversation layouts 1-29, 3-5, 35-39: 3 (from 2) put six conv-sv starts within
# 0.5 s of the truth (1.4-2.9 s off before), none worse; conv-fi one start 0.30 -> 0.54 s;
# 4 moved nothing more; read speech and the long episode unchanged.
STRETCHED_HEAD_WORDS = 3
# Marks after which a speaker pauses or draws the word out ("Nej, ...", "Akta", jag ...).
SET_APART_MARKS = (",", ":", ";", "!", "?")
# Mean token probability below this: the words were placed, but not heard.
UNHEARD_PROBABILITY = 0.05
# How the warnings below begin and say "not heard": pipeline.episode reports unheard text
# itself, with the true range, and drops these.
UNTIMED_WARNING = "the audio ended before the transcript"
UNHEARD_WARNING = "were placed but not heard clearly"
# Mean token probability at which a sentence counts as fully heard (confidence 1).
HEARD_PROBABILITY = 0.3
# Whisper stretches a sentence's first word back over a preceding pause or music, and its
# last word into the following pause; spoken words are rarely longer than this.
MAX_EDGE_WORD_SECONDS = 1.2
# A word longer than this (per character, plus a syllable's worth) was stretched by the
# time warping over speech the transcript lacks: a false start, an aside, a jingle, a
# breath. Slow real voices measure up to ~0.09 s per character on a stressed word.
STRETCHED_SECONDS_PER_CHAR = 0.11
STRETCHED_BASE_SECONDS = 0.2
# Words said faster than this per character were squeezed onto the edge of a stretch
# (real voices: 0.05-0.09 s per character).
SQUEEZED_SECONDS_PER_CHAR = 0.04
# A sentence timed at more than this factor faster or slower than the episode's median
# rate (characters per second) was crowded next to speech the transcript lacks, or
# stretched over it (real voices in one episode stay within a factor 1.7 of the median).
IMPLAUSIBLE_RATE_FACTOR = 2.0
RATE_CHECK_CHARS = 15  # shorter sentences ("Ja!") vary too much to judge
UNSURE_CONFIDENCE = 0.3  # below LOW_CONFIDENCE: the page marks the cue
# How many words at a sentence's edge may be spread over speech it does not hold: a short
# aside the next turn cuts into can take four squeezed words before the stretched one
# ("Vem fick sätta på i fredags?": "i" spans the aside's end). Conversation tuning layouts:
# 3 -> 5 put conv-sv seed 8's sentence within 0.5 s (aside words 5 -> 2), nothing else moved
# on them, on the held-out and fresh layouts or on read speech.
EDGE_WORDS = 5
# The shortest pause between a false start (or an aside) and the sentence that is still
# seen in the fine speech regions; the sentence then starts at the speech after it.
MIN_CUT_PAUSE = 0.06
# A false start (a fraction of a second of another utterance, which the transcript cleans
# away) is taken by the time warping for the sentence's first word, which then spans it,
# the short pause after it and the word's real speech. Such a word is recognised by an
# onset inside it, at least FALSE_START_SECONDS after it starts, with room after the onset
# for most of the word (FALSE_START_ROOM of its characters at the sentence's own pace),
# and by the whole span lasting FALSE_START_EXCESS times what the sentence's pace gives
# its words (the room and the excess count the letters of every word moved). Tuned on the
# conversation tuning layouts (conv-fi and conv-sv seeds 1, 2, 6-9: start p90 0.44 ->
# 0.19 s in Finnish, 0.38 -> 0.34 s in Swedish; no start made worse); a stop closure
# inside a real word (Finnish "kk", "tt") leaves too little room, and counting only the
# straddling word's letters moved espeak's "Eila" off its start in synthetic-sv.
FALSE_START_SECONDS = 0.2
FALSE_START_ROOM = 0.6
# Where Whisper did not hear one of the first words (probability under
# UNHEARD_PROBABILITY), the time warping squeezed the real first words into the next one,
# whose end then leaves no room after the onset: where no onset fits the usual way, the
# room is measured, and the words moved, this many words further. Conversation tuning
# layouts: conv-sv within 0.5 s 97.3 -> 97.7 %, conv-fi 96.6 -> 97.0 %; read speech unchanged
# (a room share of 0.2 over the same words instead moved "Eila Linnanmäki" in synthetic-sv).
FALSE_START_UNHEARD_REACH = 1
FALSE_START_EXCESS = 1.4
FALSE_START_PAUSE = 0.05  # seconds: the pause after a false start can be this short
FALSE_START_WORDS = 2  # the first word, or the second after a first squeezed onto the start
# The pace the false-start test judges by is at most this many seconds a letter (about 15
# letters a second, ordinary conversation): a short sentence's inner words include the very
# word stretched over the false start ("Jag har en sak att uträtta.": 0.127 s a letter), and
# that pace found no room for it after the onset. Conversation tuning layouts: conv-sv p90
# 0.221 -> 0.169 s, within 0.5 s 95.5 -> 97.0 %; conv-fi p90 0.138 -> 0.130 s.
FALSE_START_MAX_PACE = 0.065
# A restart lies at most a broken-off try and its pause after a sentence's start.
RESTART_REACH = RESTART_MAX_SECONDS + RESTART_MAX_PAUSE
# The time warping stretches the word after the try over the pause into the words said
# again (conv-sv: "man" 0.32 s past the onset, "jordgubbe." 0.2 and 0.8 s). Where the words
# end at the pause they were said there: espeak's "Och kan | också" sounds like a restart
# ("Och ka"), and so do many bursts under noise (the two-hour episode: 65 in all).
RESTART_STRADDLE = 0.1
# Untranscribed speech between two turns (an aside, an ad read) makes the time warping
# squeeze the next words onto its start and stretch one word over the rest of it. A run
# of at least SQUEEZED_RUN_WORDS words taking under SQUEEZED_RUN_SHARE of the time the
# episode's pace gives them, right before a stretched word in the same speech region, is
# moved to the end of that word at the episode's pace.
# Conversation tuning layouts: reference words on the asides 12 -> 0 (conv-fi seed 1) and
# 5 -> 2 (conv-sv seed 8), no start made worse.
SQUEEZED_RUN_WORDS = 2
SQUEEZED_RUN_SHARE = 0.5
SQUEEZED_RUN_LETTERS = 12  # "Det är nog" is said in a breath: a run must hold more
RUN_STRETCH_SECONDS = 0.8  # beyond `stretched`: the word spans most of an aside, not a pause
# Where the run would go must be speech: read speech squeezes a sentence's words and
# stretches its last one over the pause after it (real-sv: "kvällen." 2.4 s long).
RUN_SPEECH_SHARE = 0.4
_MAX_RUN_WORDS = 60  # a lookback longer than any turn squeezed onto an aside's start
# Nobody pauses this long inside a sentence: its words on either side were placed by a
# window loop that found the text again after untranscribed speech (the long fixture's
# three minutes missing from the transcript: a sentence's first three words were left at
# the passage's start, 187 s before the rest).
MAX_INNER_PAUSE = 5.0
# Silero is given this much audio before a stretched last word (it needs context to hear
# speech) and after it (to hear that the voice stopped).
VOICE_LEAD_SECONDS = 0.5
VOICE_TAIL_SECONDS = 0.2


def reference_words(reference: Reference) -> list[tuple[int, str]]:
    """(sentence index, word) for every word of the reference, in order."""
    return [(s.index, w) for s in reference.sentences for w in s.text.split()]


def align_same_language(
    reference: Reference,
    timings: Sequence[Word | None],
    speech: Sequence[tuple[float, float]],
    duration: float,
    *,
    audio_language: str | None = None,
    first_speech: float = 0.0,
    onsets: Sequence[float] = (),
    restarts: Sequence[float] = (),
) -> Alignment:
    """Every reference word gets a time; times never go backwards; sentences never overlap;
    none starts before `first_speech` (the end of a jingle the speech starts over), or
    before the words Whisper clearly heard under the jingle (`heard_floor`).
    `onsets` are speech onsets after even short pauses (`FALSE_START_PAUSE`), where a
    sentence may really start after a false start; `restarts` the onsets where a speaker
    said again what they had just broken off (pipeline.signal.restarts)."""
    words = reference_words(reference)
    if len(timings) != len(words):
        raise ValueError(f"{len(timings)} timings for {len(words)} reference words")
    onsets = sorted(onsets)
    speech_onsets = sorted([*(a for a, _ in speech), *onsets])
    placed = monotonic_words(timings, [w for _, w in words], duration)
    placed, split = rejoined(placed, [index for index, _ in words])
    placed, moved = unsqueezed(placed, speech)
    by_length = {words[i][0] for i in moved | split}  # sentences timed by length alone
    sentences: list[AlignedSentence] = []
    by_sentence: dict[int, list[AlignedWord]] = {}
    for (index, _), p in zip(words, placed, strict=True):
        by_sentence.setdefault(index, []).append(p)
    for ref in reference.sentences:
        own = by_sentence[ref.index]
        confidence = min(1.0, sum(w.confidence for w in own) / len(own) / HEARD_PROBABILITY)
        if ref.index in by_length:
            confidence = min(confidence, UNSURE_CONFIDENCE)  # placed by length alone
        if (
            not sentences
            or own[0].confidence < UNHEARD_PROBABILITY
            or stretched_without_onset(own, speech_onsets)
        ):
            own = first_words_at_pace(own)
        own = [_with_times(w, w.start, w.end, confidence) for w in _edges_trimmed(own)]
        sentences.append(
            AlignedSentence(ref.index, ref.turn, ref.speaker, ref.text, tuple(own), confidence)
        )
    snapped = snapped_to_speech(sentences, speech, duration, onsets)
    # by_sentence still holds Whisper's own word probabilities; the sentences hold theirs
    restarts = sorted(restarts)
    restarted = [
        after_false_start(
            after_restart(unstretched(s, speech, onsets), restarts),
            onsets,
            _start_unheard(by_sentence[s.index]),
        )
        for s in snapped
    ]
    sentences = ordered(restarted, heard_floor(first_speech, by_sentence))
    sentences, doubts = rate_checked(sentences)
    moved_off = run_warnings(
        [s for s in sentences if s.index in by_length],
        "were squeezed against speech the transcript lacks (an aside, an ad) and are timed "
        "by their length alone: check them",
    )  # fmt: skip
    return Alignment(
        tuple(sentences),
        duration,
        "same-language",
        audio_language=audio_language,
        text_language=reference.language,
        warnings=(*alignment_warnings(sentences, timings, words), *moved_off, *doubts),
    )


def monotonic_words(
    timings: Sequence[Word | None], texts: Sequence[str], duration: float
) -> list[AlignedWord]:
    """Aligned words in order: untimed words (the audio ran out) sit at the end, unheard."""
    out: list[AlignedWord] = []
    floor = 0.0
    for timing, text in zip(timings, texts, strict=True):
        if timing is None:
            start = end = max(floor, duration)
            confidence = 0.0
        else:
            start = min(max(timing.start, floor), duration)
            end = min(max(timing.end, start), duration)
            confidence = max(0.0, min(1.0, timing.probability))
        out.append(AlignedWord(text, start, end, confidence))
        floor = start
    return out


def snapped_to_speech(
    sentences: Sequence[AlignedSentence],
    speech: Sequence[tuple[float, float]],
    duration: float,
    onsets: Sequence[float] = (),
) -> list[AlignedSentence]:
    """Move each sentence's first start and last end to the nearest speech edge close by;
    a start within FINE_SNAP of one of `onsets` (sorted) goes to that onset instead."""
    starts = sorted(s for s, _ in speech)
    ends = sorted(e for _, e in speech)
    out: list[AlignedSentence] = []
    for i, sentence in enumerate(sentences):
        floor = out[-1].end if out else 0.0
        ceiling = sentences[i + 1].words[0].start if i + 1 < len(sentences) else duration
        words = list(sentence.words)
        # A speech onset inside the first word is where it really starts (the word was
        # stretched back over a pause); likewise an offset inside the last word.
        first, last = words[0], words[-1]
        new_start = _nearest(starts, first.start, floor, first.end, ahead=first.end - first.start)
        near = [o for o in _between(onsets, first.start - FINE_SNAP, first.start + FINE_SNAP)
                if floor <= o < first.end]  # fmt: skip
        if near:
            new_start = min(near, key=lambda o: abs(o - first.start))
        share = 1.0 if stretched(last) else END_SNAP_SHARE
        behind = share * (last.end - last.start)
        new_end = _nearest(ends, last.end, max(last.start, new_start), ceiling, behind=behind)
        words[0] = _with_times(words[0], new_start, max(words[0].end, new_start))
        words[-1] = _with_times(words[-1], min(words[-1].start, new_end), new_end)
        out.append(_replace_words(sentence, _clamped(words, floor, ceiling)))
    return out


_PUNCTUATION = ".,!?\"'"


def stretched(word: AlignedWord) -> bool:
    """Whether a word lasts longer than any voice says it: it spans speech it lacks."""
    return word.end - word.start > _stretch_limit(word)


def _stretch_limit(word: AlignedWord) -> float:
    return STRETCHED_BASE_SECONDS + STRETCHED_SECONDS_PER_CHAR * len(word.text.strip(".,!?"))


def unstretched(
    sentence: AlignedSentence, speech: Sequence[tuple[float, float]], onsets: Sequence[float] = ()
) -> AlignedSentence:
    """The sentence with its first (last) words moved off untranscribed speech before
    (after) it.

    The time warping squeezes the first words onto a false start or an aside and stretches
    the next one over the pause to the real speech: where one of the EDGE_WORDS first words
    is stretched, the words before it are squeezed and a speech region starts inside it
    after a pause, those words are spread over the speech from the last such onset (conv-sv
    tuning seed 8: the first one was a pause inside the aside, 0.45 s before the sentence).
    Likewise at the end, up to the first speech offset inside a stretched last word, or
    where no pause holds one, the first of `onsets` (sorted) inside it that leaves the
    words their time: the next speech cut in there (conv-sv and conv-fi layouts 10-29:
    reference words on the asides 29 -> 27 and 20 -> 18, end p90 0.245 -> 0.242 and
    0.279 -> 0.266 s; tuning layouts 1, 2, 6-9 unchanged).
    """
    words = list(sentence.words)
    n = len(words)
    k = next((i for i in range(min(EDGE_WORDS, max(n - 1, 1))) if stretched(words[i])), None)
    if k is not None and squeezed(words[:k]):
        w = words[k]
        onsets = [a for (_, b), (a, _) in itertools.pairwise(speech)
                  if a - b >= MIN_CUT_PAUSE and w.start < a < w.end]  # fmt: skip
        if onsets:
            words = _spread_from(words, k, onsets[-1])  # an aside has pauses of its own
    first = max(n - EDGE_WORDS, 1 if n > 1 else 0)
    k = next((i for i in range(n - 1, first - 1, -1) if stretched(words[i])), None)
    if k is not None and squeezed(words[k + 1 :]):
        w = words[k]
        offsets = [b for (_, b), (a, _) in itertools.pairwise(speech)
                   if a - b >= MIN_CUT_PAUSE and w.start + 0.1 < b < w.end]  # fmt: skip
        if not offsets:  # no pause long enough: new speech cut in (an aside, the next turn)
            floor = w.start + SQUEEZED_SECONDS_PER_CHAR * _chars(words[k:])
            offsets = list(_between(onsets, floor, w.end))
        if offsets:
            words[k:] = _spread(words[k:], words[k].start, offsets[0])
    return _replace_words(sentence, words)


def _spread_from(words: list[AlignedWord], k: int, onset: float) -> list[AlignedWord]:
    """The words with the first k + 1 spread from `onset` to the end of word k, or of as
    many more words as it takes to leave them the time any voice needs (the ones after
    would otherwise start before the moved ones end)."""
    for j in range(k, len(words)):
        if words[j].end >= onset + SQUEEZED_SECONDS_PER_CHAR * _chars(words[: j + 1]):
            return [*_spread(words[: j + 1], onset, words[j].end), *words[j + 1 :]]
    end = onset + SQUEEZED_SECONDS_PER_CHAR * _chars(words)
    return _spread(words, onset, end)


def rejoined(
    words: Sequence[AlignedWord], sentence_of: Sequence[int]
) -> tuple[list[AlignedWord], set[int]]:
    """The words with each sentence torn apart by a pause over MAX_INNER_PAUSE put back
    together: its smaller side (in letters) moves, unspoken, onto the edge of the larger
    one, where `unsqueezed` can spread it. Also the indices of the words moved."""
    out, moved = list(words), set()
    for _, group in itertools.groupby(range(len(words)), key=lambda i: sentence_of[i]):
        own = list(group)
        gaps = [(out[b].start - out[a].end, k) for k, (a, b) in enumerate(itertools.pairwise(own))]
        pause, k = max(gaps, default=(0.0, 0))
        if pause <= MAX_INNER_PAUSE:
            continue
        head, tail = own[: k + 1], own[k + 1 :]
        if sum(_letters(out[i]) for i in head) <= sum(_letters(out[i]) for i in tail):
            at, side = out[tail[0]].start, head
        else:
            at, side = out[head[-1]].end, tail
        for i in side:
            out[i] = _with_times(out[i], at, at)
        moved |= set(side)
    return out, moved


def unsqueezed(
    words: Sequence[AlignedWord], speech: Sequence[tuple[float, float]]
) -> tuple[list[AlignedWord], set[int]]:
    """The words with each run squeezed before a stretched word moved to that word's end
    (see SQUEEZED_RUN_SHARE), and the indices of the words moved.

    Only runs before the stretch: the mirror case (a run squeezed after a stretched word,
    moved to its start) changed nothing on the conversation layouts, and on the long
    fixture it moved the first words of two sentences back onto the one before them."""
    timed = [w for w in words if w.end > w.start]
    if not timed:
        return list(words), set()
    pace = float(np.median([_seconds_per_char(w) for w in timed]))
    out, moved = list(words), set()
    for i, w in enumerate(out):
        if w.end - w.start < _stretch_limit(w) + RUN_STRETCH_SECONDS:
            continue
        region_start = next((a for a, b in speech if a <= w.start < b), w.start)
        first = _squeezed_run_start(out, i, region_start, pace)
        if first is None:
            continue
        block = out[first : i + 1]
        start = max(w.end - pace * sum(map(_letters, block)), block[0].start)
        if _speech_share(speech, start, w.end) < RUN_SPEECH_SHARE:
            continue  # the stretch is a pause after the run's speech, not an aside before it
        out[first : i + 1] = _spread(block, start, w.end)
        moved |= set(range(first, i + 1))
    return out, moved


def _speech_share(speech: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """The share of [start, end] inside speech regions."""
    inside = sum(max(0.0, min(b, end) - max(a, start)) for a, b in speech)
    return inside / (end - start) if end > start else 0.0


def _squeezed_run_start(
    words: Sequence[AlignedWord], stretched_at: int, region_start: float, pace: float
) -> int | None:
    """The first word of the longest run squeezed before words[stretched_at], from inside
    its speech region; None when there is none."""
    end = words[stretched_at].start
    first = None
    for j in range(stretched_at - 1, max(stretched_at - _MAX_RUN_WORDS, 0) - 1, -1):
        if words[j].end < region_start:
            break  # ends before the region: spoken before the untranscribed speech
        run = words[j:stretched_at]
        letters = sum(map(_letters, run))
        if (
            len(run) >= SQUEEZED_RUN_WORDS
            and letters >= SQUEEZED_RUN_LETTERS
            and end - run[0].start < (SQUEEZED_RUN_SHARE * pace * letters)
        ):
            first = j
    return first


def after_false_start(
    sentence: AlignedSentence, onsets: Sequence[float], unheard: bool = False
) -> AlignedSentence:
    """The sentence starting at the speech after a false start its first words were put on
    (`onsets` sorted).

    The latest onset that fits is taken: a false start can hold a pause of its own.
    `unheard`: Whisper did not hear one of its first words; where no onset fits, the room
    is then measured one word further (FALSE_START_UNHEARD_REACH).
    """
    words = list(sentence.words)
    if len(words) < 2:
        return sentence
    # A two-word sentence has no inner word to measure its own pace by: ordinary
    # conversation's is used ("Ja, verkligen.": "Ja," spanned a false start, 1.0 s).
    pace = min(_pace(words), FALSE_START_MAX_PACE) if len(words) > 2 else FALSE_START_MAX_PACE
    start = words[0].start
    inside = [t for t in _between(onsets, start + FALSE_START_SECONDS, words[1].end)
              if t < words[1].end]  # fmt: skip
    for reach in (0, FALSE_START_UNHEARD_REACH) if unheard else (0,):
        restarted = _restarted(words, inside, pace, reach)
        if restarted is not None:
            return _replace_words(sentence, restarted)
    return sentence


def after_restart(sentence: AlignedSentence, restarts: Sequence[float]) -> AlignedSentence:
    """The sentence starting where its speaker said it again (`restarts`, sorted), when
    that is within RESTART_REACH s after its start and leaves its words their time: its
    first words were put on the try that was broken off."""
    words = list(sentence.words)
    start, end = words[0].start, words[-1].end
    room = SQUEEZED_SECONDS_PER_CHAR * _chars(words)
    fits = [t for t in _between(restarts, start, start + RESTART_REACH) if start < t <= end - room]
    if not fits:
        return sentence
    onset = fits[-1]
    k = max(i for i, w in enumerate(words) if w.start < onset)
    if words[k].end < onset + RESTART_STRADDLE:
        return sentence  # the words end at the pause: they were said there
    return _replace_words(sentence, _spread_from(words, k, onset))


def _start_unheard(words: Sequence[AlignedWord]) -> bool:
    """Whether Whisper did not hear one of the words a false start can sit under."""
    return any(w.confidence < UNHEARD_PROBABILITY for w in words[:FALSE_START_WORDS])


def _restarted(
    words: list[AlignedWord], inside: Sequence[float], pace: float, reach: int
) -> list[AlignedWord] | None:
    """The words with the first ones spread from the latest onset of `inside` that fits
    (`after_false_start`), the room judged over `reach` more words; None if none fits."""
    start = words[0].start
    for onset in reversed(inside):
        for k in range(FALSE_START_WORDS):
            w = words[k]
            spans_it = w.start <= onset - FALSE_START_SECONDS
            letters = sum(map(_letters, words[: k + 1]))
            excess = w.end - start >= FALSE_START_EXCESS * letters * pace
            moved = words[: k + 1 + reach]
            end = moved[-1].end
            room = end - onset >= FALSE_START_ROOM * sum(map(_letters, moved)) * pace
            if spans_it and room and excess:
                return [*_spread(moved, onset, end), *words[len(moved) :]]
    return None


def first_words_at_pace(words: list[AlignedWord]) -> list[AlignedWord]:
    """The words with a stretched head word (one of the first STRETCHED_HEAD_WORDS) cut to the
    sentence's own pace, for the episode's first sentence, one whose first word Whisper did
    not hear and one with no onset inside the stretch (`stretched_without_onset`); the words
    before the stretched one are spread over what is left.

    The time warping stretches such a word back over sound the text lacks: the jingle
    under the opening words, which neither the voice detector nor the energy tells from
    speech (conversation tuning seed 9: "Jag", 1.2 s long, from 1.1 s before the speech),
    or the end of an aside the next speaker cuts into, with no pause to snap to (seed 2:
    "Vill" heard with probability 0.00, then "du" 1.28 s long over the aside's end).
    """
    k = _stretched_head(words)
    if k is None:
        return words  # no inner word to measure the pace by, or nothing to cut
    head, end = words[: k + 1], words[k].end
    pace = max(_pace(words[k:]), SQUEEZED_SECONDS_PER_CHAR)  # inner words squeezed to nothing
    start = max(head[0].start, end - sum(map(_letters, head)) * pace)
    return [*_spread(head, start, end), *words[k + 1 :]]


def _stretched_head(words: Sequence[AlignedWord]) -> int | None:
    """The index of the stretched one of a sentence's first STRETCHED_HEAD_WORDS words,
    where it has an inner word after it to measure its pace by; None if there is none."""
    heads = range(min(STRETCHED_HEAD_WORDS, len(words) - 2))
    return next((i for i in heads if stretched(words[i])), None)


def stretched_without_onset(words: Sequence[AlignedWord], onsets: Sequence[float]) -> bool:
    """Whether a head word (`_stretched_head`) is stretched with no onset (`onsets`, sorted)
    inside it, where neither the snapping nor the false-start repair can tell where the
    sentence starts: over an aside its speaker runs on from (conv-sv 36: "Så" 1.0 s long
    over the aside's last second) or over a pause with no speech edge in it (real-sv-uneven:
    "Det" 2 s long). A word the text sets apart ("Nej, hem till Los Angeles.") may be drawn
    out: it stays."""
    k = _stretched_head(words)
    if k is None or any(set_apart(w.text) for w in words[: k + 1]):
        return False
    return not _between(onsets, words[0].start + STRETCH_ONSET_LEAD, words[k].end)


def set_apart(word: str) -> bool:
    """Whether the text sets a word apart from the next with a mark a speaker pauses at."""
    return word.strip("\"'").endswith(SET_APART_MARKS)


def _pace(words: Sequence[AlignedWord]) -> float:
    """A sentence's own seconds per letter: the median over its inner words (the edge
    words are the ones the time warping stretches)."""
    return float(np.median([_seconds_per_char(w) for w in words[1:-1]]))


def voice_window(sentence: AlignedSentence) -> tuple[float, float] | None:
    """Where to listen for the end of the sentence's voice: around a stretched last word
    (the energy ended the sentence at a breath or a mouth noise after its speech; real
    Common Voice clips end with up to a second of it). None for any other sentence."""
    last = sentence.words[-1]
    if not stretched(last):
        return None
    return last.start - VOICE_LEAD_SECONDS, last.end + VOICE_TAIL_SECONDS


def end_at_voice(
    sentence: AlignedSentence, voice: Sequence[tuple[float, float]]
) -> AlignedSentence:
    """The sentence ending where the voice heard around its stretched last word stops
    (`voice`: speech segments from `voice_window`), when that is inside the word and leaves
    the word time to be said."""
    last = sentence.words[-1]
    floor = last.start + SQUEEZED_SECONDS_PER_CHAR * len(last.text)
    end = next((b for _, b in voice if b >= floor), None)
    if end is None or end >= last.end:
        return sentence
    return _replace_words(sentence, [*sentence.words[:-1], _with_times(last, last.start, end)])


def _between(times: Sequence[float], low: float, high: float) -> Sequence[float]:
    """The sorted times in [low, high]."""
    return times[bisect.bisect_left(times, low) : bisect.bisect_right(times, high)]


def _letters(word: AlignedWord) -> int:
    return max(len(word.text.strip(_PUNCTUATION)), 1)


def _seconds_per_char(word: AlignedWord) -> float:
    return (word.end - word.start) / _letters(word)


def _chars(words: Sequence[AlignedWord]) -> int:
    return sum(len(w.text) for w in words)


def squeezed(words: Sequence[AlignedWord]) -> bool:
    """Whether words take less time than any voice says them in (none: vacuously)."""
    return not words or words[-1].end - words[0].start < SQUEEZED_SECONDS_PER_CHAR * _chars(words)


def _spread(words: list[AlignedWord], start: float, end: float) -> list[AlignedWord]:
    """The words over [start, end], each in proportion to its characters."""
    weights = [len(w.text) + 1 for w in words]
    total, out, at = sum(weights), [], start
    for w, weight in zip(words, weights, strict=True):
        step = (end - start) * weight / total
        out.append(_with_times(w, at, at + step))
        at += step
    out[-1] = _with_times(out[-1], out[-1].start, end)  # exactly: no rounding past the edge
    return out


def _edges_trimmed(words: list[AlignedWord]) -> list[AlignedWord]:
    first, last = words[0], words[-1]
    limit = MAX_EDGE_WORD_SECONDS
    words = list(words)
    if first.end - first.start > limit:
        words[0] = _with_times(first, first.end - limit, first.end)
    last = words[-1]
    if last.end - last.start > limit and len(words) > 1:
        words[-1] = _with_times(last, last.start, last.start + limit)
    return words


def heard_floor(first_speech: float, by_sentence: dict[int, list[AlignedWord]]) -> float:
    """first_speech, or earlier where Whisper clearly heard a word before it, less room
    for the words of its sentence before it (at conversation's pace).

    Silero misses a short first sentence under a jingle ("Som han sa.", 0.7 s, heard from
    its second sentence 1.2 s later), where Whisper hears its words; a sentence's first
    word is not taken as heard: it is the one stretched back over the jingle.
    `by_sentence`: Whisper's words (with its probabilities) per sentence, in order."""
    for words in by_sentence.values():
        for k, w in enumerate(words[1:], 1):
            if w.start >= first_speech:
                return first_speech
            if w.confidence >= HEARD_PROBABILITY:
                lead = sum(map(_letters, words[:k])) * FALSE_START_MAX_PACE
                return max(0.0, min(first_speech, w.start - lead))
    return first_speech


def ordered(sentences: Sequence[AlignedSentence], floor: float = 0.0) -> list[AlignedSentence]:
    """The guarantee, whatever the evidence did: words never go backwards, none starts
    before `floor` and a sentence starts no earlier than the previous one ended."""
    out: list[AlignedSentence] = []
    for sentence in sentences:
        words = []
        for w in sentence.words:
            start = max(w.start, floor)
            words.append(_with_times(w, start, max(w.end, start)))
            floor = start
        out.append(_replace_words(sentence, words))
        floor = words[-1].end
    return out


def _nearest(
    edges: Sequence[float],
    t: float,
    low: float,
    high: float,
    ahead: float = 0.0,
    behind: float = 0.0,
) -> float:
    """The edge nearest t within SNAP_SECONDS (or `ahead` after / `behind` before t) and
    [low, high], else t itself."""
    lo = max(low, t - max(SNAP_SECONDS, behind))
    hi = min(high, t + max(SNAP_SECONDS, ahead))
    near = edges[bisect.bisect_left(edges, lo) : bisect.bisect_right(edges, hi)]
    return min(near, key=lambda e: abs(e - t)) if near else t


def _clamped(words: list[AlignedWord], floor: float, ceiling: float) -> list[AlignedWord]:
    out: list[AlignedWord] = []
    for w in words:
        start = min(max(w.start, floor, out[-1].start if out else floor), ceiling)
        out.append(_with_times(w, start, min(max(w.end, start), ceiling)))
    return out


def _with_times(
    word: AlignedWord, start: float, end: float, confidence: float | None = None
) -> AlignedWord:
    return AlignedWord(word.text, start, end, word.confidence if confidence is None else confidence)


def _replace_words(sentence: AlignedSentence, words: list[AlignedWord]) -> AlignedSentence:
    return AlignedSentence(
        sentence.index, sentence.turn, sentence.speaker, sentence.text, tuple(words),
        sentence.confidence,
    )  # fmt: skip


def rate_checked(
    sentences: Sequence[AlignedSentence],
) -> tuple[list[AlignedSentence], list[str]]:
    """Sentences timed IMPLAUSIBLE_RATE_FACTOR faster or slower than the episode's median
    get UNSURE_CONFIDENCE, words too, so that their cues are marked; one warning per run
    of them, with times."""
    rates = [len(s.text) / max(s.end - s.start, 1e-3) for s in sentences]
    median = float(np.median(rates)) if rates else 0.0
    out, unsure = [], []
    for s, rate in zip(sentences, rates, strict=True):
        judged = len(s.text) >= RATE_CHECK_CHARS and s.confidence > UNSURE_CONFIDENCE
        if (
            judged
            and not median / IMPLAUSIBLE_RATE_FACTOR <= rate <= median * IMPLAUSIBLE_RATE_FACTOR
        ):
            words = [_with_times(w, w.start, w.end, min(w.confidence, UNSURE_CONFIDENCE))
                     for w in s.words]  # fmt: skip
            s = AlignedSentence(s.index, s.turn, s.speaker, s.text, tuple(words), UNSURE_CONFIDENCE)
            unsure.append(s)
        out.append(s)
    return out, run_warnings(
        unsure, "are timed at a rate no voice speaks: next to speech the transcript lacks "
        "(an aside, an ad)? check them",
    )  # fmt: skip


def run_warnings(sentences: Sequence[AlignedSentence], saying: str) -> list[str]:
    """One warning per run of consecutive sentences: their numbers, times and `saying`."""
    runs: list[list[AlignedSentence]] = []
    for s in sentences:
        if runs and runs[-1][-1].index + 1 == s.index:
            runs[-1].append(s)
        else:
            runs.append([s])
    return [
        f"sentences {numbered_ranges([s.index for s in r])} "
        f"({time_range(r[0].start, r[-1].end)}) {saying}"
        for r in runs
    ]


def alignment_warnings(
    sentences: Sequence[AlignedSentence],
    timings: Sequence[Word | None],
    words: Sequence[tuple[int, str]],
) -> list[str]:
    """Say what was not heard, rather than inventing a timing silently."""
    warnings = []
    untimed = sorted({index for (index, _), t in zip(words, timings, strict=True) if t is None})
    if untimed:
        warnings.append(
            f"{UNTIMED_WARNING}: sentences {numbered_ranges(untimed)} are placed at the end, "
            "unheard"
        )
    unheard = [
        s.index for s in sentences if s.confidence < UNHEARD_PROBABILITY and s.index not in untimed
    ]
    if unheard:
        warnings.append(
            f"sentences {numbered_ranges(unheard)} {UNHEARD_WARNING} "
            "(missing from the audio, or said differently); check them"
        )
    return warnings
