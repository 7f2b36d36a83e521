"""Forced alignment of known text with Whisper's cross-attention (CTranslate2 `Whisper.align`).

Aligning a known text needs no decoding: each 20-second window is encoded once and the
reference tokens are scored and placed by dynamic time warping over the alignment heads.
The text is fed a window at a time: a window takes more words than it can hold, keeps
the ones that end well inside it and that Whisper hears, and the next window starts where
the last kept word ended. Dynamic time warping places every token it is given, so text
the window does not speak is squeezed in rather than refused; keeping it let the text run
ahead of the audio for good (a two-hour episode lost the thread at its first ad). A
window that hears none of its text is transcribed and found again in the text
(`WindowedAligner`), so a passage missing from either side stays local.
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.inputs.audio import SAMPLE_RATE, as_float
from pipeline.records import Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

    from pipeline.signal.timeline import CondensedAudio

log = logging.getLogger(__name__)

FRAMES_PER_SECOND = 100  # mel frames
_SAMPLES_PER_FRAME = SAMPLE_RATE // FRAMES_PER_SECOND
# Whisper was trained on 30-second inputs, but its encoder runs on shorter ones, and the
# cost grows faster than the length (base, int8, 2 cores: 0.59 s for 30 s, 0.22 s for
# 20 s). 20-second windows place words as well as 30-second ones on the benchmark
# episodes and encode the episode in about half the time.
WINDOW_SECONDS = 20.0
_TOKENS_PER_SECOND = 50  # alignment time steps
_MAX_TOKENS = 400  # the decoder holds 448 positions, a few go to the start sequence
_MAX_WORDS = 140  # 20 s at 5 words a second, and again as much: more than a window holds
_CANDIDATE_FACTOR = 1.5  # words offered per word expected: enough to reach past the window
_MIN_FRAMES = FRAMES_PER_SECOND // 10  # shorter audio holds no word to place
_KEEP_MARGIN = 1.0  # seconds: words ending closer than this to a window's end are redone
# A run of this many words under this mean token probability is not heard: every 8-word run
# of text on its own audio scored 0.18 or more (the hour fixture at reduced scale, tuning),
# text squeezed over other speech 0.01-0.05 for most of its length.
_HEARD_RUN = 8
_HEARD_PROBABILITY = 0.1
_TAIL_RUN = 3  # unheard words at a window's end: fewer are a mumbled word or two
# Dynamic time warping gives no time at all to text the window's audio does not hold: a
# run of _PILE_RUN words at most _PILE_SECONDS long each, inside the kept words, is such a
# pile, however well its words happen to score (conv-fi 23: 20 words piled at one instant
# after an aside, run means just over _HEARD_PROBABILITY; the next window then started past
# the three sentences they belonged to). The words leading into it that Whisper did not
# hear clearly (under _PILE_LEAD_PROBABILITY) were laid on the aside: they are redone too.
_PILE_RUN = 5
_PILE_SECONDS = 0.02
_PILE_LEAD_PROBABILITY = 0.5
# People speak 1-5 words a second once long pauses are cut (read Swedish: about 3).
_MIN_WORDS_PER_SECOND = 1.0
_MAX_WORDS_PER_SECOND = 5.0
# Where to look for a lost window's speech in the text: a little behind (words taken too
# early), far ahead (a passage of several minutes the audio lacks: 3 min at 4 words/s).
_SEARCH_BACK = 80
_SEARCH_AHEAD = 900
_SHIFT_SLACK = 3  # words Whisper drops or adds between two matching word pairs
_MIN_SUPPORT = 3  # word pairs agreeing on a placement: one or two match by chance
_MAX_HEARD_TOKENS = 200  # a 20 s window holds well under this many tokens of speech
_NO_REPEAT_NGRAM = 4  # greedy decoding of noise can loop on a phrase
_RELOCATE_LEAD = 0.3  # seconds kept before a relocated word: Whisper's edges wander
_SKIP_OVERLAP_FRAMES = 2 * FRAMES_PER_SECOND  # a skipped window's end is looked at again
_FIRST_WORDS_PER_SECOND = 4.0  # the rate guessed before any window is kept (read speech: 3)
_MIN_RATE_SECONDS = 1.0  # a rate is measured over at least this much speech
_MIN_ADVANCE_FRAMES = FRAMES_PER_SECOND // 10  # the loop always moves on, by 0.1 s at least
# Whisper's own smoothing of the cross-attention before time warping (faster-whisper's
# word timestamps use the same width).
_MEDIAN_FILTER_WIDTH = 7


class WindowedAligner:
    """Forced alignment of one text on one episode, a window at a time.

    The text's progress is held to the audio's: a window keeps only the words before the
    first run that Whisper does not hear (`heard_count`), never the ones dynamic time
    warping squeezed over speech that says something else. A window where none is heard
    has lost the thread (an ad, music, a passage missing from the text or from the audio):
    Whisper transcribes it and the transcription is looked up in the text near where the
    aligner was, which says whether to skip audio (speech the text lacks), skip text (text
    the audio lacks) or go back (words taken too early). Without this, each window took
    the words squeezed into it, the next one started further into the text than the audio
    was, and the text ran away from the audio for the rest of the episode.
    """

    def __init__(
        self,
        samples: np.ndarray | Sequence[float] | CondensedAudio,
        model: WhisperModel,
        language: str,
        words: Sequence[str],
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self.model = model
        self.words = list(words)
        self.tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
        self.word_tokens = [self.tokenizer.encode(" " + w) for w in self.words]
        self.normal_words = [normal_word(w) for w in self.words]
        self.samples = samples
        self.total_frames = len(samples) // _SAMPLES_PER_FRAME
        # Even: the encoder halves the frames with a stride-2 convolution.
        self.window_frames = round(window_seconds * FRAMES_PER_SECOND / 2) * 2
        self._first: list[tuple[float, float, float]] | None = None
        self._encoded_at: tuple[int, object] | None = None  # the last window's encoder output
        self._words_per_second = _FIRST_WORDS_PER_SECOND  # refined from each window's kept words

    def first_window_probability(self) -> float:
        """Mean probability Whisper gives the text's opening on the first window.

        High (0.4-0.7) when the audio speaks this text, 0.06-0.18 for a translation: a
        sharper test of "same language?" than language identification, which the small
        models get wrong on synthetic or accented speech.
        """
        placed = self._first_window()
        frames = min(self.window_frames, self.total_frames)
        kept = placed[: max(_kept_count(placed, frames / FRAMES_PER_SECOND), 1)]
        return float(np.mean([p for _, _, p in kept])) if kept else 0.0

    def _first_window(self) -> list[tuple[float, float, float]]:
        if self._first is None:
            self._first = self._window(0, 0)
        return self._first

    def _window(self, start_frame: int, first_word: int) -> list[tuple[float, float, float]]:
        frames = min(self.window_frames, self.total_frames - start_frame)
        if frames < _MIN_FRAMES:
            return []
        count = min(
            _candidate_count(self.word_tokens, first_word),
            expected_candidates(self._words_per_second, frames / FRAMES_PER_SECOND),
        )
        tokens = self.word_tokens[first_word : first_word + count]
        return _placed(
            self.model, self.tokenizer, self._encoded(start_frame, frames), frames, tokens
        )

    def _encoded(self, start_frame: int, frames: int) -> Any:  # a ctranslate2.StorageView
        """The encoder output of the window at start_frame; the last one is kept, since a
        window that lost the thread is transcribed from it as well."""
        if self._encoded_at is None or self._encoded_at[0] != start_frame:
            window = _padded(self._features(start_frame, frames), self.window_frames)
            self._encoded_at = (start_frame, self.model.encode(window))
        return self._encoded_at[1]

    def _features(self, start_frame: int, frames: int) -> np.ndarray:
        """Log-mel features of one window, computed from its own samples: holding the whole
        episode's spectrogram would cost hundreds of MB on an hour-long episode."""
        start = start_frame * _SAMPLES_PER_FRAME
        chunk = as_float(np.asarray(self.samples[start : start + frames * _SAMPLES_PER_FRAME]))
        return self.model.feature_extractor(chunk)[:, :frames]

    def _relocated(self, start_frame: int, frames: int, near: int) -> tuple[int, float] | None:
        """(text word, seconds into the window) where the window's speech is found in the
        text near word `near`; None when the text has none of it (an ad, music)."""
        encoded = self._encoded(start_frame, frames)
        prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        result = self.model.model.generate(
            encoded, [prompt], beam_size=1, max_length=_MAX_HEARD_TOKENS,
            no_repeat_ngram_size=_NO_REPEAT_NGRAM,
        )[0]  # fmt: skip
        tokens = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        if not tokens:
            return None
        heard, heard_tokens = self.tokenizer.split_to_word_tokens([*tokens, self.tokenizer.eot])
        match = located([normal_word(w) for w in heard[:-1]], self.normal_words, near)
        log.debug("lost at word %d, heard %r: %s", near, "".join(heard), match)
        if match is None:
            return None
        asr_word, text_word = match
        encoded = self._encoded(start_frame, frames)
        placed = _placed(self.model, self.tokenizer, encoded, frames, heard_tokens[: asr_word + 1])
        return text_word, placed[asr_word][0]

    def timings(self) -> list[Word | None]:
        """A timing for each word, or None for words left over when the audio ran out.
        Words the audio lacks get a zero-length timing where they were skipped, with
        probability 0."""
        from tqdm import tqdm

        words, total = self.words, self.total_frames
        timings: list[Word | None] = [None] * len(words)
        at = _Place()
        bar = tqdm(total=total // FRAMES_PER_SECOND, unit="s", desc="aligning",
                   disable=not sys.stderr.isatty())  # fmt: skip
        while at.word < len(words) and at.frame < total - _MIN_FRAMES:
            frames = min(self.window_frames, total - at.frame)
            placed = self._first_window() if at.frame == 0 else self._window(at.frame, at.word)
            is_last = at.frame + frames >= total
            fits = len(placed) if is_last else _kept_count(placed, frames / FRAMES_PER_SECOND)
            probabilities = [p for _, _, p in placed]
            keep = before_pile(placed, heard_count(probabilities, fits))
            if not is_last:
                keep -= unheard_tail(probabilities, keep)
            # A far jump holds only if its window hears a whole run of its text: chance
            # word pairs in a transcription of noisy untranscribed talk landed on text
            # whose first 3-4 words happened to score as heard (then the thread was lost).
            landed_far = at.undo is not None and at.frame == at.trusted_at
            if landed_far and fits and keep < min(_HEARD_RUN, fits):
                self._undone(at, timings)
                continue
            if keep == 0 and fits:
                if at.frame != at.trusted_at and self._moved(at, timings, frames):
                    continue
                keep = fits  # the window is where the text is, only heard less clearly
            offset = at.frame / FRAMES_PER_SECOND
            for i in range(keep):
                start, end, prob = placed[i]
                timings[at.word + i] = Word(words[at.word + i], offset + start, offset + end, prob)
            if keep:
                advanced = round(placed[keep - 1][1] * FRAMES_PER_SECOND)
                self._words_per_second = keep / max(placed[keep - 1][1], _MIN_RATE_SECONDS)
                at.undo = None
            else:
                advanced = frames - _SKIP_OVERLAP_FRAMES
            log.debug("window %.1f s: %d candidates, %d fit, %d kept", offset, len(placed),
                      fits, keep)  # fmt: skip
            at.frame += max(advanced, _MIN_ADVANCE_FRAMES)
            at.word += keep
            bar.update(min(at.frame, total) // FRAMES_PER_SECOND - bar.n)
        bar.close()
        return timings

    def _moved(self, at: _Place, timings: list[Word | None], frames: int) -> bool:
        """Find a lost window's speech in the text and move there (or skip the window's
        audio when the text has none of it); False when the text is already here."""
        offset = at.frame / FRAMES_PER_SECOND
        found = self._relocated(at.frame, frames, at.word)
        at.trusted_at = at.frame
        if found is None:
            # Speech the text lacks: skip the audio, keep the text.
            log.info("no reference text at %.1f-%.1f s of the condensed audio: skipped",
                     offset, offset + frames / FRAMES_PER_SECOND)  # fmt: skip
            at.frame += frames - _SKIP_OVERLAP_FRAMES
            return True
        word, seconds = found
        jump = round(max(seconds - _RELOCATE_LEAD, 0.0) * FRAMES_PER_SECOND)
        if word == at.word and jump == 0:
            return False
        log.info("the condensed audio at %.1f s is word %d of the text, not %d",
                 offset + seconds, word, at.word)  # fmt: skip
        # A far jump ahead is taken back unless the window it lands on hears its text: a
        # transcription of a few chance word pairs must not skip minutes of text.
        far = word - at.word > _SEARCH_BACK
        at.undo = (at.word, at.frame, timings[at.word : word]) if far else None
        _moved_to(timings, self.words, at.word, word, offset)
        # The text was just found here: the next window is not transcribed again (a
        # transcription 0.3 s later can miss it).
        at.word, at.frame = word, at.frame + jump
        at.trusted_at = at.frame
        return True

    def _undone(self, at: _Place, timings: list[Word | None]) -> None:
        """Take back a far jump whose window did not hear its text; skip that audio instead."""
        assert at.undo is not None
        word, frame, saved = at.undo
        log.info("word %d is not heard there: back to word %d, audio skipped", at.word, word)
        timings[word : word + len(saved)] = saved
        at.word, at.frame = word, frame + self.window_frames - _SKIP_OVERLAP_FRAMES
        at.undo, at.trusted_at = None, -1


@dataclass
class _Place:
    """Where the window loop is: its audio frame and text word, the frame of a window just
    relocated to (trusted, not transcribed again), and how to take back a far jump."""

    frame: int = 0
    word: int = 0
    trusted_at: int = -1
    undo: tuple[int, int, list[Word | None]] | None = None


def _moved_to(
    timings: list[Word | None], words: Sequence[str], current: int, found: int, at: float
) -> None:
    """Text skipped (found ahead): its words are placed at `at`, unheard. Text gone back
    over (found behind): its words are timed again from here."""
    for i in range(current, found):
        timings[i] = Word(words[i], at, at, 0.0)
    for i in range(found, current):
        timings[i] = None


def normal_word(word: str) -> str:
    """A word as compared between the text and Whisper's transcription of it."""
    return "".join(c for c in word.lower() if c.isalnum())


def heard_count(probabilities: Sequence[float], fits: int) -> int:
    """How many of the `fits` leading words to keep: those before the first run of
    _HEARD_RUN words that Whisper does not hear (mean token probability under
    _HEARD_PROBABILITY). From there on, dynamic time warping squeezed text over speech that
    says something else. 0 when the window starts with such a run: the thread is lost."""
    run = min(_HEARD_RUN, fits)
    if run == 0:
        return 0
    probs = np.asarray(probabilities[:fits], dtype=float)
    means = np.convolve(probs, np.ones(run) / run, mode="valid")
    unheard = np.flatnonzero(means < _HEARD_PROBABILITY)
    return int(unheard[0]) if len(unheard) else fits


def before_pile(placed: Sequence[tuple[float, float, float]], keep: int) -> int:
    """How many of the `keep` leading words come before a pile: a run of _PILE_RUN words
    the time warping gave no time at all (text the window's audio does not hold), less the
    words leading into it that Whisper did not hear clearly."""
    short = [end - start <= _PILE_SECONDS for start, end, _ in placed[:keep]]
    for k in range(len(short) - _PILE_RUN + 1):
        if all(short[k : k + _PILE_RUN]):
            while k > 0 and placed[k - 1][2] < _PILE_LEAD_PROBABILITY:
                k -= 1
            return k
    return keep


def unheard_tail(probabilities: Sequence[float], keep: int) -> int:
    """How many of the `keep` leading words end in a run too short for `heard_count` that
    Whisper does not hear either (the longest such run of at least _TAIL_RUN words): text
    squeezed over the opening of speech the text lacks, cut off by the window's end before
    it made a whole run. Left to the next window, which starts on them and judges them on
    the whole stretch."""
    probs = np.asarray(probabilities[:keep], dtype=float)
    for length in range(min(_HEARD_RUN - 1, keep), _TAIL_RUN - 1, -1):
        if probs[keep - length :].mean() < _HEARD_PROBABILITY:
            return length
    return 0


def located(heard: Sequence[str], text: Sequence[str], near: int) -> tuple[int, int] | None:
    """(index in heard, index in text) of the first heard word that starts the best-supported
    placement of the transcription in the text, within _SEARCH_BACK words before `near` and
    _SEARCH_AHEAD after; None when fewer than _MIN_SUPPORT word pairs agree on it.

    Word pairs of the transcription are looked up in the text; the true placement collects
    many pairs at one shift (text index minus heard index, give or take the words Whisper
    dropped or added), chance matches scatter. Ties go to the placement nearest `near`: the
    text repeats itself, the audio rarely jumps far.
    """
    lo, hi = max(near - _SEARCH_BACK, 0), min(near + _SEARCH_AHEAD, len(text))
    pairs: dict[tuple[str, str], list[int]] = {}
    for j in range(lo, hi - 1):
        if text[j] and text[j + 1]:
            pairs.setdefault((text[j], text[j + 1]), []).append(j)
    spoken = [i for i, w in enumerate(heard) if w]
    matches = [
        (spoken[k], j)
        for k in range(len(spoken) - 1)
        for j in pairs.get((heard[spoken[k]], heard[spoken[k + 1]]), ())
    ]
    if not matches:
        return None
    shifts = np.array([j - a for a, j in matches])

    def support(shift: int) -> int:
        return int(np.sum(np.abs(shifts - shift) <= _SHIFT_SLACK))

    best = max(shifts.tolist(), key=lambda s: (support(s), -abs(s - near)))
    log.debug("placement at shift %d (near %d): %d word pairs agree", best, near, support(best))
    if support(best) < _MIN_SUPPORT:
        return None
    return min((m for m in matches if abs(m[1] - m[0] - best) <= _SHIFT_SLACK), key=lambda m: m[0])


def expected_candidates(words_per_second: float, seconds: float) -> int:
    """More words than a window likely holds: enough to reach past its end, few enough that
    scoring them stays cheap. The rate is held to what people speak, so one squeezed
    window cannot hand the next an ever larger share of the text."""
    rate = min(max(words_per_second, _MIN_WORDS_PER_SECOND), _MAX_WORDS_PER_SECOND)
    return int(rate * seconds * _CANDIDATE_FACTOR) + 10


def _padded(window: np.ndarray, frames: int) -> np.ndarray:
    missing = frames - window.shape[1]
    return np.pad(window, ((0, 0), (0, missing))) if missing > 0 else window


def _candidate_count(word_tokens: Sequence[list[int]], first: int) -> int:
    count, tokens = 0, 0
    for toks in word_tokens[first:]:
        if tokens + len(toks) > _MAX_TOKENS or count >= _MAX_WORDS:
            break
        tokens += len(toks)
        count += 1
    return max(count, 1)


def _placed(
    model: WhisperModel,
    tokenizer: Tokenizer,
    encoded: Any,  # a ctranslate2.StorageView (ctranslate2 ships no annotations)
    frames: int,
    word_tokens: Sequence[list[int]],
) -> list[tuple[float, float, float]]:
    """(start, end, mean token probability) of each word within the window, in seconds."""
    flat = [t for toks in word_tokens for t in toks]
    result = model.model.align(
        encoded, tokenizer.sot_sequence, [flat], frames, median_filter_width=_MEDIAN_FILTER_WIDTH
    )[0]
    text_idx = np.array([p[0] for p in result.alignments])
    time_idx = np.array([p[1] for p in result.alignments])
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = time_idx[jumps] / _TOKENS_PER_SECOND
    probs = np.asarray(result.text_token_probs, dtype=float)
    bounds = np.cumsum([0] + [len(t) for t in word_tokens])
    limit = frames / FRAMES_PER_SECOND
    placed = []
    for a, b in itertools.pairwise(bounds):
        start = float(jump_times[a]) if a < len(jump_times) else limit
        end = float(jump_times[b]) if b < len(jump_times) else limit
        prob = float(probs[a:b].mean()) if b > a and len(probs) >= b else 0.0
        placed.append((min(start, limit), min(max(end, start), limit), prob))
    return placed


def _kept_count(placed: Sequence[tuple[float, float, float]], window_seconds: float) -> int:
    """How many leading words end safely inside the window (the rest are squeezed at its end)."""
    keep = 0
    for _, end, _ in placed:
        if end >= window_seconds - _KEEP_MARGIN:
            break
        keep += 1
    return keep
