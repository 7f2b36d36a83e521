"""The episode with its long pauses shortened, and the way back to episode time.

Forced alignment costs one encoder pass per window of audio, silent or not, while plain
transcription spends almost nothing on silence. Read speech with pauses between sentences is
a third to a half silence (the Common Voice episodes: 35 % and 47 %), so the aligner works on
the speech with every pause cut down to 2 × `PAD_SECONDS` and maps its times back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pipeline.inputs.audio import as_float
from pipeline.records import Word

# Silence kept around speech: soft word edges below the speech threshold stay in, and a cut
# pause still reads as a pause to Whisper.
PAD_SECONDS = 0.3


@dataclass(frozen=True, eq=False)
class Timeline:
    """Kept pieces of the episode, in whole samples: piece i is episode samples
    [episode_starts[i], episode_starts[i] + lengths[i]) and starts at condensed_starts[i].
    Whole samples, so that a time on a cut is compared exactly, never by float rounding."""

    rate: int
    episode_starts: np.ndarray
    condensed_starts: np.ndarray
    lengths: np.ndarray

    @property
    def condensed_duration(self) -> float:
        return float(self.condensed_starts[-1] + self.lengths[-1]) / self.rate

    def episode_time(self, t: float, at_cut: Literal["after", "before"] = "after") -> float:
        """Episode seconds for condensed seconds `t`. A time on a cut belongs to the piece
        after it (a start) or, with at_cut="before", to the piece before it (an end)."""
        return self._episode_sample(self._piece(t, at_cut), t) / self.rate

    def episode_word(self, word: Word | None) -> Word | None:
        """The word in episode time. A word placed across a cut spans the silence cut out:
        Whisper stretches a sentence's first word back over a pause or music before it
        (and its last word into the pause after), and `pipeline.align.refine` trims such edge words
        from the side they really sit on; clamping here to the piece holding most of the
        word would keep the wrong side (measured: a first word moved into the intro music)."""
        if word is None:
            return None
        start = self.episode_time(word.start)
        end = max(self.episode_time(word.end, at_cut="before"), start)
        return Word(word.text, start, end, word.probability)

    def _piece(self, t: float, at_cut: Literal["after", "before"]) -> int:
        sample = round(t * self.rate)
        side: Literal["left", "right"] = "right" if at_cut == "after" else "left"
        return max(int(np.searchsorted(self.condensed_starts, sample, side=side)) - 1, 0)

    def _episode_sample(self, piece: int, t: float) -> int:
        offset = min(
            max(round(t * self.rate) - self.condensed_starts[piece], 0), self.lengths[piece]
        )
        return int(self.episode_starts[piece] + offset)


def speech_timeline(
    speech: Sequence[tuple[float, float]], n_samples: int, rate: int, pad: float = PAD_SECONDS
) -> Timeline:
    """The pieces to keep: each speech region with `pad` seconds either side, merged where
    they touch. With no speech at all the whole episode is kept."""
    pieces: list[list[int]] = []
    for start, end in speech:
        a, b = max(round((start - pad) * rate), 0), min(round((end + pad) * rate), n_samples)
        if pieces and a <= pieces[-1][1]:
            pieces[-1][1] = max(pieces[-1][1], b)
        elif b > a:
            pieces.append([a, b])
    if not pieces:
        pieces = [[0, max(n_samples, 0)]]
    bounds = np.array(pieces, dtype=np.int64)
    lengths = bounds[:, 1] - bounds[:, 0]
    condensed = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return Timeline(rate, bounds[:, 0], condensed, lengths)


@dataclass(frozen=True, eq=False)
class CondensedAudio:
    """The samples of the kept pieces, back to back, read on demand: a copy of the condensed
    episode would cost as much memory again as the episode (two hours: 230 MB as int16,
    460 MB as float32). Slicing gives float samples (int16 is scaled to [-1, 1))."""

    samples: np.ndarray
    timeline: Timeline

    def __len__(self) -> int:
        return int(self.timeline.condensed_starts[-1] + self.timeline.lengths[-1])

    def __getitem__(self, index: slice | int) -> np.ndarray:
        if isinstance(index, int):
            position = index + len(self) if index < 0 else index
            return self[position : position + 1][0]
        start, stop, step = index.indices(len(self))
        if step != 1:
            raise ValueError("condensed audio is read in contiguous slices")
        t = self.timeline
        out = np.empty(max(stop - start, 0), dtype=as_float(self.samples[:0]).dtype)
        piece = max(int(np.searchsorted(t.condensed_starts, start, side="right")) - 1, 0)
        while piece < len(t.lengths) and t.condensed_starts[piece] < stop:
            a = max(start, int(t.condensed_starts[piece]))
            b = min(stop, int(t.condensed_starts[piece] + t.lengths[piece]))
            source = int(t.episode_starts[piece]) + a - int(t.condensed_starts[piece])
            out[a - start : b - start] = as_float(self.samples[source : source + b - a])
            piece += 1
        return out


def condensed_samples(samples: np.ndarray, timeline: Timeline) -> CondensedAudio:
    """The samples of the kept pieces, back to back (read on demand, never copied whole)."""
    return CondensedAudio(samples, timeline)
