"""Restarts: a speaker breaks off and says the same words again ("Kolla en … Kolla en
jordgubbe."). The transcript has the words once; the time warping puts its first words on
the try that was broken off, so the sentence starts early by the try and the pause after
it. A restart is heard as a short burst of speech that sounds like the start of the speech
after the pause that follows it: the same voice saying the same sounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from pipeline.inputs.audio import as_float
from pipeline.signal.speakers import FRAME_SECONDS, HOP_SECONDS, frame_features

# A try is a word or two (the fixtures' false starts: 0.25-0.6 s). A shorter burst is one
# short word, which can sound like the onset of the next: espeak's steady voice matched 33
# of them in synthetic-sv ("Och" ... "också"), and moved 6 starts by 0.25-1.0 s.
RESTART_MIN_SECONDS = 0.25
RESTART_MAX_SECONDS = 0.7
RESTART_MAX_PAUSE = 0.5  # seconds between the try and the restart
# Mean distance between standardised cepstra along the best warping path of the try and
# as much speech after the pause. Conversation tuning layouts (conv-sv 1, 2, 6-10, 12, 14,
# 16, 18): restarts 0.55 / 1.1 / 1.84 (10th percentile / median / 90th), other bursts
# followed by a pause 1.74 / 2.1 / 2.6 (under 1.2: 6 of 8 restarts, 1 of 722 other bursts;
# under 1.5: 6 and 13). conv-sv tuning pool (1, 2, 6-19) within 0.5 s: 97.7 % without,
# 98.0 / 98.2 / 98.3 / 98.2 % at 1.0 / 1.2 / 1.4 / 1.6; but under 15 dB noise bursts sound
# alike: on the two-hour synthetic episode 1.2 and 1.4 moved starts in its noisy sections
# (p90 0.070 -> 0.078 and 0.092 s), 1.0 none.
RESTART_DISTANCE = 1.0
_STEP = 2  # frames: the warping compares every second 10 ms frame
STATS_PIECES = 200  # enough speech for the cepstra's means and spreads


def restart_onsets(
    samples: np.ndarray, sr: int, regions: Sequence[tuple[float, float]]
) -> list[float]:
    """Starts of the `regions` (speech split at short pauses, sorted) whose opening sounds
    like the short region just before them: where the speaker said it again."""
    candidates = [
        (a, b, c)
        for (a, b), (c, _) in pairwise(regions)
        if RESTART_MIN_SECONDS <= b - a <= RESTART_MAX_SECONDS and c - b <= RESTART_MAX_PAUSE
    ]
    if not candidates:
        return []

    def piece(a: float, b: float, c: float) -> np.ndarray:  # the try and as much after it
        return _cepstra(samples, sr, a, c + b - a)

    # Cepstra of each try and what follows it only, one at a time: an episode's whole
    # would be a float copy of its samples (460 MB for two hours). They are standardised
    # by the statistics of up to STATS_PIECES of them, spread over the episode.
    step = max(1, len(candidates) // STATS_PIECES)
    sampled = {i: piece(*candidates[i]) for i in range(0, len(candidates), step)}
    pooled = np.concatenate(list(sampled.values()))
    mean, std = pooled.mean(axis=0), pooled.std(axis=0) + 1e-8
    out = []
    for i, (a, b, c) in enumerate(candidates):
        cepstra = sampled.pop(i) if i in sampled else piece(a, b, c)  # each computed once
        z = (cepstra - mean) / std
        frames, again = round((b - a) / HOP_SECONDS), round((c - a) / HOP_SECONDS)
        said, said_again = z[:frames], z[again : again + frames]
        heard_again = len(said_again) == frames > 0
        if heard_again and warped_distance(said[::_STEP], said_again[::_STEP]) < RESTART_DISTANCE:
            out.append(c)
    return out


def _cepstra(samples: np.ndarray, sr: int, start: float, end: float) -> np.ndarray:
    """(frames, coefficients): MFCCs without the level (c0) of the frames from `start`."""
    piece = samples[max(int(start * sr), 0) : int(end * sr) + round(FRAME_SECONDS * sr)]
    return frame_features(as_float(piece), sr).mfcc[:, 1:]


def warped_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Dynamic time warping of two frame sequences: the least summed frame distance of a
    monotonic path from first frames to last, over the path's (len(a) + len(b))."""
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1)).tolist()
    n, m = len(a), len(b)
    previous = [0.0] + [float("inf")] * m
    for i in range(n):
        row = [float("inf")] * (m + 1)
        for j in range(m):
            row[j + 1] = d[i][j] + min(previous[j + 1], previous[j], row[j])
        previous = row
    return previous[m] / (n + m)
