"""The episode with its long pauses shortened, and the way back to episode time.

Forced alignment costs one encoder pass per window of audio, silent or not, while plain
transcription spends almost nothing on silence. Read speech with pauses between sentences is
a third to a half silence (the Common Voice episodes: 35 % and 47 %), so the aligner works on
the speech with every pause cut down to `keep_pause` seconds and maps its times back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.records import Word

# Silence kept around speech: soft word edges below the speech threshold stay in, and a cut
# pause still reads as a pause to Whisper.
PAD_SECONDS = 0.3


@dataclass(frozen=True)
class Timeline:
    """Kept pieces of the episode, in order: piece i is episode seconds
    [episode_starts[i], episode_starts[i] + lengths[i]) and starts at condensed_starts[i]."""

    episode_starts: np.ndarray
    condensed_starts: np.ndarray
    lengths: np.ndarray

    @property
    def condensed_duration(self) -> float:
        return float(self.condensed_starts[-1] + self.lengths[-1]) if len(self.lengths) else 0.0

    def episode_time(self, t: float, *, at_cut: str = "after") -> float:
        """Episode seconds for condensed seconds `t`. A time exactly on a cut belongs to the
        piece after it (a start) or, with at_cut="before", to the piece before it (an end)."""
        if not len(self.lengths):
            return t
        side = "right" if at_cut == "after" else "left"
        i = max(int(np.searchsorted(self.condensed_starts, t, side=side)) - 1, 0)
        offset = min(max(t - self.condensed_starts[i], 0.0), self.lengths[i])
        return float(self.episode_starts[i] + offset)

    def episode_word(self, word: Word | None) -> Word | None:
        if word is None:
            return None
        start = self.episode_time(word.start)
        end = max(self.episode_time(word.end, at_cut="before"), start)
        return Word(word.text, start, end, word.probability)


def speech_timeline(
    speech: Sequence[tuple[float, float]], n_samples: int, rate: int, pad: float = PAD_SECONDS
) -> Timeline:
    """The pieces to keep: each speech region with `pad` seconds either side, merged where
    they touch, on whole samples (so no rounding drifts over hundreds of cuts). With no
    speech at all the whole episode is kept."""
    pieces: list[list[int]] = []
    for start, end in speech:
        a, b = max(round((start - pad) * rate), 0), min(round((end + pad) * rate), n_samples)
        if pieces and a <= pieces[-1][1]:
            pieces[-1][1] = max(pieces[-1][1], b)
        elif b > a:
            pieces.append([a, b])
    if not pieces:
        pieces = [[0, n_samples]]
    bounds = np.array(pieces, dtype=np.int64)
    lengths = bounds[:, 1] - bounds[:, 0]
    condensed = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return Timeline(bounds[:, 0] / rate, condensed / rate, lengths / rate)


def condensed_samples(samples: np.ndarray, timeline: Timeline, rate: int) -> np.ndarray:
    """The samples of the kept pieces, back to back."""
    bounds = [
        (round(a * rate), round((a + n) * rate))
        for a, n in zip(timeline.episode_starts, timeline.lengths, strict=True)
    ]
    return np.concatenate([samples[a:b] for a, b in bounds]) if bounds else samples[:0]
