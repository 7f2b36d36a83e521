"""Voice-change evidence measured against a fixture's truth: test and benchmark tools
over pipeline.signal.speakers, which the aligners do not call (they score pauses with
turn_boundary_candidates)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.signal.speakers import WINDOW, frame_features, scores_from_llr, two_voice_llr


def voice_change_scores(
    samples: np.ndarray, sr: int, candidates: Sequence[float], window: float = WINDOW
) -> np.ndarray:
    """Per candidate time, 0..2: how differently the nearest `window` s of speech on
    each side sounds (higher = more likely another voice).

    0 where either side has under 0.3 s of speech at all (the start and end of the file).
    """
    features = frame_features(samples, sr)
    return scores_from_llr(two_voice_llr(features), features, candidates, window)


def turn_voice_scores(
    samples: np.ndarray, sr: int, turns: Sequence[tuple[float, float]]
) -> np.ndarray:
    """Per (start, end) turn, the mean two-voice LLR of its speech (0 if it has none).

    Turns spoken by one person share a sign; the transcript's alternation (A, B, A, ...)
    should therefore show up as alternating signs.
    """
    features = frame_features(samples, sr)
    llr, times = two_voice_llr(features), features.times
    out = np.zeros(len(turns))
    for i, (start, end) in enumerate(turns):
        inside = features.speech & (times >= start) & (times < end)
        out[i] = float(llr[inside].mean()) if inside.any() else 0.0
    return out


def alternation_agreement(turn_scores: Sequence[float]) -> float:
    """Share of consecutive turn pairs whose voices differ (opposite LLR signs); 1.0 = A,B,A,B."""
    signs = np.sign(np.asarray(turn_scores, dtype=float))
    if len(signs) < 2:
        return 1.0
    return float(np.mean(signs[1:] * signs[:-1] < 0))
