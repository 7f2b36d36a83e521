"""Forced alignment of known text with Whisper's cross-attention (CTranslate2 `Whisper.align`).

Aligning a known text needs no decoding: each 20-second window is encoded once and the
reference tokens are scored and placed by dynamic time warping over the alignment heads.
The text is fed a window at a time: a window takes more words than it can hold, keeps
the ones that end well inside it, and the next window starts where the last kept word
ended, so long episodes never drift.
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Sequence

import numpy as np

from pipeline.audio import SAMPLE_RATE
from pipeline.records import Word

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
_MAX_WORDS = 140
_CANDIDATE_FACTOR = 1.5
_MIN_FRAMES = FRAMES_PER_SECOND // 10  # shorter audio holds no word to place
_KEEP_MARGIN = 1.0  # seconds: words ending closer than this to a window's end are redone


class WindowedAligner:
    """Forced alignment of one text on one episode, a window at a time."""

    def __init__(
        self,
        samples: np.ndarray,
        model,
        language: str,
        words: Sequence[str],
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self.model = model
        self.words = list(words)
        self.tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
        self.word_tokens = [self.tokenizer.encode(" " + w) for w in self.words]
        self.samples = samples
        self.total_frames = len(samples) // _SAMPLES_PER_FRAME
        # Even: the encoder halves the frames with a stride-2 convolution.
        self.window_frames = round(window_seconds * FRAMES_PER_SECOND / 2) * 2
        self._first: list[tuple[float, float, float]] | None = None
        self._words_per_second = 4.0  # refined from each window's kept words

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
        window = _padded(self._features(start_frame, frames), self.window_frames)
        # More words than this window likely holds: enough to reach past its end, few
        # enough that scoring them stays cheap.
        likely = self._words_per_second * frames / FRAMES_PER_SECOND
        expected = int(likely * _CANDIDATE_FACTOR) + 10
        count = min(_candidate_count(self.word_tokens, first_word), expected)
        tokens = self.word_tokens[first_word : first_word + count]
        return _aligned_window(self.model, self.tokenizer, window, frames, tokens)

    def _features(self, start_frame: int, frames: int) -> np.ndarray:
        """Log-mel features of one window, computed from its own samples: holding the whole
        episode's spectrogram would cost hundreds of MB on an hour-long episode."""
        start = start_frame * _SAMPLES_PER_FRAME
        chunk = self.samples[start : start + frames * _SAMPLES_PER_FRAME]
        return self.model.feature_extractor(chunk)[:, :frames]

    def timings(self) -> list[Word | None]:
        """A timing for each word, or None for words left over when the audio ran out."""
        from tqdm import tqdm

        words, total = self.words, self.total_frames
        timings: list[Word | None] = [None] * len(words)
        start_frame, next_word = 0, 0
        bar = tqdm(total=total // FRAMES_PER_SECOND, unit="s", desc="aligning",
                   disable=not sys.stderr.isatty())  # fmt: skip
        while next_word < len(words) and start_frame < total - _MIN_FRAMES:
            frames = min(self.window_frames, total - start_frame)
            placed = (
                self._first_window() if start_frame == 0 else self._window(start_frame, next_word)
            )
            is_last = start_frame + frames >= total
            keep = len(placed) if is_last else _kept_count(placed, frames / FRAMES_PER_SECOND)
            offset = start_frame / FRAMES_PER_SECOND
            for i in range(keep):
                start, end, prob = placed[i]
                timings[next_word + i] = Word(
                    words[next_word + i], offset + start, offset + end, prob
                )
            if keep:
                advanced = round(placed[keep - 1][1] * FRAMES_PER_SECOND)
                self._words_per_second = max(keep / max(placed[keep - 1][1], 1.0), 1.0)
            else:
                # Nothing of the text fits here: speech the transcript lacks (an ad, music).
                advanced = frames - 2 * FRAMES_PER_SECOND
                log.info("no reference text at %.1f-%.1f s: skipped", offset, offset + frames / 100)
            start_frame += max(advanced, FRAMES_PER_SECOND // 10)
            next_word += keep
            bar.update(min(start_frame, total) // FRAMES_PER_SECOND - bar.n)
        bar.close()
        return timings


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


def _aligned_window(
    model, tokenizer, window: np.ndarray, frames: int, word_tokens: Sequence[list[int]]
) -> list[tuple[float, float, float]]:
    """(start, end, mean token probability) of each word within the window, in seconds."""
    encoded = model.encode(window)
    flat = [t for toks in word_tokens for t in toks]
    result = model.model.align(
        encoded, tokenizer.sot_sequence, [flat], frames, median_filter_width=7
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
