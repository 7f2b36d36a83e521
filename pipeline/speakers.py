"""Speaker-change evidence from the audio alone (numpy only, no pretrained model).

The transcript already says who speaks in which order; what the aligner needs from
the audio is *where* the voice changes. Turn changes sit in pauses, so we list the
pauses (speech/non-speech from frame energy) and score each one by how different
the voice sounds on its two sides (ΔBIC over MFCC frames). The aligner combines
these scores with its own timing estimate; `best_turn_boundaries` does that
combination by dynamic programming when nothing better is at hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

FRAME_SECONDS = 0.025
HOP_SECONDS = 0.010
N_MELS = 40
N_MFCC = 20
MIN_SIDE_FRAMES = 50  # 0.5 s of speech: fewer frames give no usable covariance


@dataclass(frozen=True)
class Candidate:
    """A pause where a speaker turn could change."""

    time: float  # pause midpoint, seconds
    pause_length: float  # seconds of non-speech around `time`
    change_score: float  # higher = voices on the two sides more likely differ


# --- features -------------------------------------------------------------------


def frame_signal(samples: np.ndarray, sr: int) -> np.ndarray:
    """Overlapping 25 ms frames every 10 ms, shape (n_frames, frame_len)."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    frame_len, hop = round(FRAME_SECONDS * sr), round(HOP_SECONDS * sr)
    n_frames = 1 + max(0, len(x) - frame_len) // hop if len(x) >= hop else 0
    # Pad so the last frame is complete; a short tail is still one frame of its own.
    needed = (n_frames - 1) * hop + frame_len if n_frames else 0
    x = np.pad(x, (0, max(0, needed - len(x))))
    idx = np.arange(frame_len)[None, :] + hop * np.arange(n_frames)[:, None]
    return x[idx]


def frame_log_energy(frames: np.ndarray) -> np.ndarray:
    """Per-frame energy in dB relative to full scale (digital silence ≈ -100 dB)."""
    return 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-10)


def mel_filterbank(sr: int, n_fft: int, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular mel filters, shape (n_mels, n_fft // 2 + 1)."""

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges_hz = mel_to_hz(
        np.linspace(hz_to_mel(np.array(60.0)), hz_to_mel(np.array(sr / 2)), n_mels + 2)
    )
    bins = np.linspace(0.0, sr / 2, n_fft // 2 + 1)
    lo, mid, hi = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (bins[None, :] - lo) / (mid - lo)
    falling = (hi - bins[None, :]) / (hi - mid)
    return np.clip(np.minimum(rising, falling), 0.0, None)


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II basis, shape (n_in, n_out): features @ basis gives cepstra."""
    k = np.arange(n_out)[None, :]
    n = np.arange(n_in)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[:, 0] /= np.sqrt(2.0)
    return basis


def mfcc(samples: np.ndarray, sr: int, n_coefs: int = N_MFCC) -> np.ndarray:
    """MFCCs per 10 ms frame, shape (n_frames, n_coefs); c0 is the log-mel level."""
    frames = frame_signal(samples, sr)
    if len(frames) == 0:
        return np.zeros((0, n_coefs))
    n_fft = 1 << int(np.ceil(np.log2(frames.shape[1])))
    # Pre-emphasis inside each frame flattens the spectral tilt so upper formants count.
    emphasized = np.concatenate([frames[:, :1], frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)
    spectrum = np.abs(np.fft.rfft(emphasized * np.hamming(frames.shape[1]), n=n_fft)) ** 2
    log_mel = np.log(spectrum @ mel_filterbank(sr, n_fft).T + 1e-10)
    return log_mel @ dct_matrix(N_MELS, n_coefs)


# --- speech / non-speech --------------------------------------------------------


def speech_activity(samples: np.ndarray, sr: int) -> np.ndarray:
    """Bool per 10 ms frame: True where the frame is louder than the episode's noise floor.

    The threshold sits between the quiet (10th percentile) and loud (95th percentile)
    frame levels, so it follows the recording's own gain and background noise.
    """
    energy = frame_log_energy(frame_signal(samples, sr))
    if len(energy) == 0:
        return np.zeros(0, dtype=bool)
    floor, loud = np.percentile(energy, [10, 95])
    # Too little dynamic range or too quiet overall: no speech to find.
    if loud - floor < 10.0 or loud < -60.0:
        return np.zeros(len(energy), dtype=bool)
    threshold = floor + 0.35 * (loud - floor)
    # Smooth over 50 ms so single quiet frames inside a word do not split it.
    smoothed = np.convolve(energy, np.ones(5) / 5, mode="same")
    return smoothed > threshold


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame index pairs of the True runs of `mask`."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def speech_regions(
    samples: np.ndarray, sr: int, min_pause: float = 0.25, min_speech: float = 0.1
) -> list[tuple[float, float]]:
    """(start, end) seconds of speech, merging across pauses shorter than `min_pause`."""
    merged: list[list[int]] = []
    for a, b in runs(speech_activity(samples, sr)):
        if merged and (a - merged[-1][1]) * HOP_SECONDS < min_pause:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    # Clicks and breaths shorter than `min_speech` are not speech regions.
    return [
        (a * HOP_SECONDS, b * HOP_SECONDS) for a, b in merged if (b - a) * HOP_SECONDS >= min_speech
    ]


# --- voice change ---------------------------------------------------------------


def log_det_cov(x: np.ndarray) -> float:
    """log|Σ| of the rows of x, lightly regularised so few frames stay finite."""
    cov = np.cov(x, rowvar=False) + 1e-3 * np.eye(x.shape[1])
    return float(np.linalg.slogdet(cov)[1])


def delta_bic_per_frame(left: np.ndarray, right: np.ndarray) -> float:
    """ΔBIC (one Gaussian for both sides vs one per side) divided by the frame count.

    Dividing by the frame count makes candidates with different amounts of nearby
    speech comparable; the penalty keeps small samples from looking different by chance.
    """
    n1, n2, d = len(left), len(right), left.shape[1]
    n = n1 + n2
    both = np.concatenate([left, right])
    glr = 0.5 * (n * log_det_cov(both) - n1 * log_det_cov(left) - n2 * log_det_cov(right))
    penalty = 0.5 * (d + d * (d + 1) / 2) * np.log(n)
    return float((glr - penalty) / n)


def voice_change_scores(
    samples: np.ndarray, sr: int, candidates: Sequence[float], window: float = 3.0
) -> np.ndarray:
    """Per candidate time, ΔBIC per frame between speech within `window` s on each side.

    0 where either side has under 0.5 s of speech (start/end of file, long silences).
    """
    features = mfcc(samples, sr)
    active = speech_activity(samples, sr)
    # Cepstral mean/variance normalisation over the episode puts every coefficient on one scale.
    speech = features[active]
    if len(speech) >= 2:
        features = (features - speech.mean(axis=0)) / (speech.std(axis=0) + 1e-8)
    frame_times = np.arange(len(features)) * HOP_SECONDS + FRAME_SECONDS / 2
    scores = np.zeros(len(candidates))
    for i, t in enumerate(candidates):
        left = active & (frame_times >= t - window) & (frame_times < t)
        right = active & (frame_times > t) & (frame_times <= t + window)
        if left.sum() >= MIN_SIDE_FRAMES and right.sum() >= MIN_SIDE_FRAMES:
            scores[i] = delta_bic_per_frame(features[left], features[right])
    return np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0)


def turn_boundary_candidates(
    samples: np.ndarray, sr: int, min_pause: float = 0.25, window: float = 3.0
) -> list[Candidate]:
    """Every pause of at least `min_pause` s between speech regions, in time order, scored."""
    regions = speech_regions(samples, sr, min_pause=min_pause)
    gaps = [(end, start) for (_, end), (start, _) in pairwise(regions)]
    times = [(a + b) / 2 for a, b in gaps]
    scores = voice_change_scores(samples, sr, times, window=window)
    return [
        Candidate(time=t, pause_length=b - a, change_score=float(s))
        for t, (a, b), s in zip(times, gaps, scores, strict=True)
    ]


def best_turn_boundaries(
    candidates: Sequence[Candidate],
    n_boundaries: int,
    expected_times: Sequence[float] | None = None,
    tolerance: float = 5.0,
) -> list[float]:
    """Times of `n_boundaries` candidates, in time order, maximising total evidence.

    Each candidate's evidence is its change score standardised within the episode
    (ΔBIC scales differ between recordings). With `expected_times` (one per boundary,
    e.g. from text length), boundary k also pays -½((t - expected_k) / tolerance)².
    Dynamic programming keeps the choice monotonic: boundary k+1 comes after boundary k.
    Returns fewer times only when there are fewer candidates than boundaries.
    """
    ordered = sorted(candidates, key=lambda c: c.time)
    m, n = len(ordered), min(n_boundaries, len(ordered))
    if n <= 0:
        return []
    if expected_times is not None and len(expected_times) != n_boundaries:
        raise ValueError("expected_times needs one time per boundary")
    times = np.array([c.time for c in ordered])
    scores = np.array([c.change_score for c in ordered])
    evidence = (scores - scores.mean()) / (scores.std() + 1e-9)
    gain = np.tile(evidence, (n, 1))  # gain[k, i]: candidate i as boundary k
    if expected_times is not None:
        expected = np.asarray(expected_times[:n], dtype=float)[:, None]
        gain -= 0.5 * ((times[None, :] - expected) / tolerance) ** 2
    total = np.full((n, m), -np.inf)
    back = np.zeros((n, m), dtype=int)
    total[0] = gain[0]
    for k in range(1, n):
        # Best previous boundary strictly before i: running argmax over total[k-1][:i].
        prev_best = np.maximum.accumulate(total[k - 1])
        prev_arg = np.zeros(m, dtype=int)
        for i in range(1, m):
            prev_arg[i] = i if total[k - 1][i] >= prev_best[i - 1] else prev_arg[i - 1]
        total[k, 1:] = gain[k, 1:] + prev_best[:-1]
        back[k, 1:] = prev_arg[:-1]
    chosen = [int(np.argmax(total[n - 1]))]
    for k in range(n - 1, 0, -1):
        chosen.append(int(back[k, chosen[-1]]))
    return [float(times[i]) for i in reversed(chosen)]
