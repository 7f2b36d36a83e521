"""Speaker-change evidence from the audio alone (numpy only, no pretrained model).

The transcript already says who speaks in which order; what the aligner needs from
the audio is *where* the voice changes. Turn changes sit in pauses, so we list the
pauses (speech/non-speech from frame energy) and score each one by how differently
the two sides sound. The podcast has exactly two voices, so the score comes from a
two-voice model fitted to the whole episode (two Gaussians over MFCC frames), which
stays reliable on short turns where a local two-window test (ΔBIC) has too little data.
`best_turn_boundaries` combines the scores with an optional timing estimate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from pipeline.inputs.audio import as_float

FRAME_SECONDS = 0.025
HOP_SECONDS = 0.010
N_MELS = 40
N_MFCC = 13
BLOCK_FRAMES = 6000  # frames per FFT block: bounds memory on hour-long episodes
MIN_SIDE_FRAMES = 30  # 0.3 s of speech each side, else a change score of 0
WINDOW = 1.0  # seconds of speech each side that a change score compares
POINT_REACH = 0.3  # seconds: a point candidate this close to a pause is that pause's


@dataclass(frozen=True)
class Candidate:
    """A pause where a speaker turn could change."""

    time: float  # pause midpoint, seconds
    pause_length: float  # seconds of non-speech around `time`
    change_score: float  # 0..2, higher = voices on the two sides more likely differ


@dataclass(frozen=True)
class Features:
    """Per 10 ms frame: level in dB, MFCCs and whether the frame is speech."""

    energy: np.ndarray  # (n,)
    mfcc: np.ndarray  # (n, N_MFCC)
    speech: np.ndarray  # (n,) bool

    @property
    def times(self) -> np.ndarray:
        """Centre time of each frame, seconds."""
        return np.arange(len(self.energy)) * HOP_SECONDS + FRAME_SECONDS / 2


# --- features -------------------------------------------------------------------


def mel_filterbank(sr: int, n_fft: int, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular mel filters, shape (n_mels, n_fft // 2 + 1)."""
    top = 2595.0 * np.log10(1.0 + (sr / 2) / 700.0)
    bottom = 2595.0 * np.log10(1.0 + 60.0 / 700.0)
    edges = 700.0 * (10.0 ** (np.linspace(bottom, top, n_mels + 2) / 2595.0) - 1.0)
    bins = np.linspace(0.0, sr / 2, n_fft // 2 + 1)[None, :]
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0.0, None)


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II basis, shape (n_in, n_out): log-mel @ basis gives cepstra."""
    n, k = np.arange(n_in)[:, None], np.arange(n_out)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[:, 0] /= np.sqrt(2.0)
    return basis


def frame_features(samples: np.ndarray, sr: int) -> Features:
    """Energy, MFCCs (c0 = log-mel level) and speech activity for 25 ms frames every 10 ms."""
    frame_len = round(FRAME_SECONDS * sr)
    n_fft = 1 << int(np.ceil(np.log2(frame_len)))
    mel, dct, window = mel_filterbank(sr, n_fft), dct_matrix(N_MELS, N_MFCC), np.hamming(frame_len)
    energy, cepstra = [], []
    for block in _frame_blocks(samples, sr):
        energy.append(_levels(block))
        # Pre-emphasis flattens the spectral tilt so the upper formants count too.
        block = np.concatenate([block[:, :1], block[:, 1:] - 0.97 * block[:, :-1]], axis=1)
        power = np.abs(np.fft.rfft(block * window, n=n_fft)) ** 2
        cepstra.append(np.log(power @ mel.T + 1e-10) @ dct)
    level = np.concatenate(energy)
    return Features(level, np.concatenate(cepstra), speech_from_energy(level))


def frame_levels(samples: np.ndarray, sr: int) -> np.ndarray:
    """Level in dB of 25 ms frames every 10 ms: the energy half of `frame_features`, without
    the spectra (a fifth of the time), for callers that only need speech activity."""
    return np.concatenate([_levels(block) for block in _frame_blocks(samples, sr)])


def _frame_blocks(samples: np.ndarray, sr: int) -> Iterator[np.ndarray]:
    """Overlapping 25 ms frames every 10 ms, float64, BLOCK_FRAMES at a time."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    frame_len, hop = round(FRAME_SECONDS * sr), round(HOP_SECONDS * sr)
    x = np.pad(x, (0, max(0, frame_len - len(x))))  # a short input is still one frame
    frames = np.lib.stride_tricks.sliding_window_view(x, frame_len)[::hop]
    for start in range(0, len(frames), BLOCK_FRAMES):
        yield frames[start : start + BLOCK_FRAMES].astype(np.float64)


def _levels(frames: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-10)


def speech_from_energy(energy: np.ndarray) -> np.ndarray:
    """True where a frame is louder than a threshold set by the episode's own levels.

    The threshold sits between the quiet (10th percentile) and loud (95th percentile)
    frame levels, so it follows the recording's gain and background noise.
    """
    floor, loud = np.percentile(energy, [10, 95])
    # Too little dynamic range or too quiet overall: nothing that looks like speech.
    if loud - floor < 10.0 or loud < -60.0:
        return np.zeros(len(energy), dtype=bool)
    # Digital silence (-100 dB) would drag the threshold down to room-tone blips, so it
    # never sits more than 30 dB below the loud level.
    threshold = max(floor + 0.35 * (loud - floor), loud - 30.0)
    # Smoothing over 50 ms keeps one quiet frame inside a word from splitting it.
    # Edge padding: zero padding would read as 0 dB, i.e. loud, at both ends.
    smoothed = np.convolve(np.pad(energy, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    return smoothed > threshold


def speech_activity(samples: np.ndarray, sr: int) -> np.ndarray:
    """Bool per 10 ms frame (frame i starts at i * 10 ms): is it speech."""
    return speech_from_energy(frame_levels(samples, sr))


def regions_from_activity(
    speech: np.ndarray, min_pause: float = 0.25, min_speech: float = 0.1
) -> list[tuple[float, float]]:
    """(start, end) seconds of speech runs, merged across pauses shorter than `min_pause`."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], speech.astype(np.int8), [0]])))
    merged: list[list[int]] = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if merged and (a - merged[-1][1]) * HOP_SECONDS < min_pause:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    # Clicks and breaths shorter than `min_speech` are not speech regions.
    return [
        (a * HOP_SECONDS, b * HOP_SECONDS) for a, b in merged if b - a >= min_speech / HOP_SECONDS
    ]


def loud_regions(
    regions: Sequence[tuple[float, float]], levels: np.ndarray, below_loud_db: float = 12.0
) -> list[tuple[float, float]]:
    """The regions whose peak comes within `below_loud_db` of the episode's loud level.

    A breath, a mic bump or a chair creak just before a sentence can pass the speech
    threshold, but it peaks well below any spoken syllable: as a sentence onset it would
    start the cue early (real voices: p90 start error 0.23 s with them, 0.10 s without).
    """
    if len(levels) == 0:
        return []
    floor = np.percentile(levels, 95) - below_loud_db
    peaks = [levels[round(a / HOP_SECONDS) : round(b / HOP_SECONDS) + 1] for a, b in regions]
    return [r for r, peak in zip(regions, peaks, strict=True) if len(peak) and peak.max() >= floor]


def speech_regions(
    samples: np.ndarray, sr: int, min_pause: float = 0.25, min_speech: float = 0.1
) -> list[tuple[float, float]]:
    """(start, end) seconds of speech, merging across pauses shorter than `min_pause`."""
    return regions_from_activity(speech_activity(samples, sr), min_pause, min_speech)


# Unsubtitled speech shorter than this is a breath, a filler or the edge of an overlap.
UNCOVERED_MIN_SECONDS = 1.5


def uncovered_speech(
    speech: Sequence[tuple[float, float]],
    covered: Sequence[tuple[float, float]],
    min_seconds: float = UNCOVERED_MIN_SECONDS,
) -> list[tuple[float, float]]:
    """(start, end) of each stretch between subtitles (`covered` spans) that holds at least
    `min_seconds` of speech no subtitle covers: where a person checking should listen."""
    spans = sorted(covered)
    edges = [0.0, *(t for span in spans for t in span), float("inf")]
    gaps = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if b > a]
    out = []
    for a, b in gaps:
        pieces = [(max(x, a), min(y, b)) for x, y in speech if x < b and y > a]
        if sum(y - x for x, y in pieces) >= min_seconds:
            out.append((pieces[0][0], pieces[-1][1]))
    return out


# Silero VAD at its usual threshold (0.5) hears no speech in a jingle, but under a music
# bed it finds the first words up to 0.9 s late; at 0.3 it finds them within 0.3 s but
# sometimes takes the music before them for speech too (conversation tuning seeds). So the
# surer onset is moved back to the looser one only when that is close before it.
VAD_SURE = 0.5
VAD_LOOSE = 0.3
VAD_LOOSE_REACH = 1.0  # seconds: a looser onset further back is the music
VAD_EARLY_SLACK = 0.2  # seconds a sentence may start before the onset found
VAD_SEARCH_SECONDS = 60.0  # an intro longer than this is not looked for
# Silero's cost grows with the audio it hears (0.1 s a minute on 2 cores, twice over):
# the first speech is looked for in the first VAD_FIRST_LOOK seconds before the whole
# search, and the looser onsets only up to just after the sure one. An onset found that
# far before the end of the audio heard is the one the whole search finds: a segment is
# only closed (and kept or dropped by its length) after 2 s of silence.
VAD_FIRST_LOOK = 20.0
VAD_SETTLE = 2.5


def first_speech(samples: np.ndarray, sr: int) -> float:
    """Seconds before which no sentence starts: the first speech Silero VAD hears (it does
    not take a jingle or a music bed for speech, where the signal energy does), less
    VAD_EARLY_SLACK; 0.0 when it hears none in the first VAD_SEARCH_SECONDS."""
    sure = _vad_onsets(samples, sr, VAD_SURE, VAD_FIRST_LOOK)
    if not sure or sure[0] > VAD_FIRST_LOOK - VAD_SETTLE:
        sure = _vad_onsets(samples, sr, VAD_SURE, VAD_SEARCH_SECONDS)
    if not sure:
        return 0.0
    looser = _vad_onsets(samples, sr, VAD_LOOSE, min(sure[0] + VAD_SETTLE, VAD_SEARCH_SECONDS))
    loose = [t for t in looser if sure[0] - VAD_LOOSE_REACH <= t <= sure[0]]
    return max(0.0, (loose[0] if loose else sure[0]) - VAD_EARLY_SLACK)


# A pause Silero must hear before it ends a stretch of speech: longer than the stop closure
# inside a word ("kk", "tt": 0.1-0.15 s), shorter than a pause between sentences.
VOICE_PAUSE_MS = 250


def voice_segments(
    samples: np.ndarray, sr: int, start: float, end: float
) -> list[tuple[float, float]]:
    """(start, end) in episode seconds of the speech Silero VAD hears in [start, end]: where
    a voice stops, which the energy cannot tell from a breath or a mouth noise after it."""
    first = max(int(start * sr), 0)
    piece = samples[first : max(int(end * sr), first)]
    at = first / sr
    heard = _silero_speech(piece, sr, threshold=VAD_SURE, min_silence_duration_ms=VOICE_PAUSE_MS)
    return [(at + a, at + b) for a, b in heard]


def _vad_onsets(samples: np.ndarray, sr: int, threshold: float, seconds: float) -> list[float]:
    """Seconds of each speech onset Silero VAD finds in the first `seconds` at threshold."""
    head = samples[: int(seconds * sr)]
    return [a for a, _ in _silero_speech(head, sr, threshold=threshold, min_speech_duration_ms=150)]


def _silero_speech(piece: np.ndarray, sr: int, **options: Any) -> list[tuple[float, float]]:
    """(start, end) seconds into `piece` (int16 or float samples) of the speech Silero VAD
    hears, with no padding; `options` are faster-whisper VadOptions fields."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(speech_pad_ms=0, **options)
    found = get_speech_timestamps(as_float(piece), vad, sampling_rate=sr)
    return [(c["start"] / sr, c["end"] / sr) for c in found]


# --- two-voice model ------------------------------------------------------------


def gaussian_loglik(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Log-density of each row of x under N(mean, cov), up to a shared constant."""
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, (x - mean).T)
    return -0.5 * np.sum(z * z, axis=0) - np.sum(np.log(np.diag(chol)))


def two_voice_llr(features: Features, iterations: int = 10) -> np.ndarray:
    """Per frame, log p(voice B) - log p(voice A) under two Gaussians fitted to the episode.

    Speech regions (between pauses) are clustered into two voices: start from a split
    along the main direction of the regions' mean MFCCs, then alternate fitting one
    full-covariance Gaussian per voice and reassigning whole regions, because one
    region is almost always one speaker. All zeros when there is not enough speech.
    Which voice is "B" is arbitrary: only sign changes and magnitudes mean anything.
    """
    llr = np.zeros(len(features.energy))
    speech = features.speech
    if speech.sum() < 4 * MIN_SIDE_FRAMES:
        return llr
    # Normalise each coefficient over speech, so the covariance floor means the same for all.
    x = features.mfcc
    x = (x - x[speech].mean(axis=0)) / (x[speech].std(axis=0) + 1e-8)
    spans = [
        (round(a / HOP_SECONDS), round(b / HOP_SECONDS))
        for a, b in regions_from_activity(speech)
        if b - a >= MIN_SIDE_FRAMES * HOP_SECONDS
    ]
    if len(spans) < 2:
        return llr
    region_frames = [x[a:b][speech[a:b]] for a, b in spans]
    weights = np.array([len(f) for f in region_frames], dtype=float)
    means = np.array([f.mean(axis=0) for f in region_frames])
    centred = means - np.average(means, axis=0, weights=weights)
    direction = np.linalg.svd(centred * np.sqrt(weights)[:, None], full_matrices=False)[2][0]
    labels = centred @ direction > 0
    for _ in range(iterations):
        if labels.all() or not labels.any():
            return llr
        models = []
        for voice in (False, True):
            voiced = np.concatenate(
                [f for f, v in zip(region_frames, labels, strict=True) if v == voice]
            )
            cov = np.cov(voiced, rowvar=False) + 1e-2 * np.eye(x.shape[1])
            models.append((voiced.mean(axis=0), cov))
        llr = gaussian_loglik(x, *models[1]) - gaussian_loglik(x, *models[0])
        new_labels = np.array([llr[a:b][speech[a:b]].mean() > 0 for a, b in spans])
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return llr


def scores_from_llr(
    llr: np.ndarray, features: Features, candidates: Sequence[float], window: float
) -> np.ndarray:
    """Per candidate, how far apart the mean voice LLR of the `window` s of speech nearest
    on each side is, squashed to 0..2.

    Counting seconds of speech rather than of clock time keeps a long pause from
    leaving one side without frames.
    """
    speech_at = np.flatnonzero(features.speech)
    speech_times = features.times[speech_at]
    n_side = max(MIN_SIDE_FRAMES, round(window / HOP_SECONDS))
    scores = np.zeros(len(candidates))
    for i, t in enumerate(candidates):
        split = int(np.searchsorted(speech_times, t))
        left = llr[speech_at[max(0, split - n_side) : split]]
        right = llr[speech_at[split : split + n_side]]
        if len(left) >= MIN_SIDE_FRAMES and len(right) >= MIN_SIDE_FRAMES:
            # tanh caps the influence of one very confident side; scale 4 nats ≈ "sure".
            scores[i] = abs(np.tanh(left.mean() / 4.0) - np.tanh(right.mean() / 4.0))
    return np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0)


def turn_boundary_candidates(
    samples: np.ndarray,
    sr: int,
    min_pause: float = 0.25,
    window: float = WINDOW,
    also_at: Sequence[float] = (),
) -> list[Candidate]:
    """Every pause of at least `min_pause` s between speech regions, scored, and the times
    `also_at` (pause_length 0) that no such pause is near: in conversation most turn
    changes leave no pause (the next speaker cuts in), and the voice model still hears them."""
    features = frame_features(samples, sr)
    regions = regions_from_activity(features.speech, min_pause=min_pause)
    gaps = [(end, start) for (_, end), (start, _) in pairwise(regions)]
    pauses = np.array([(a + b) / 2 for a, b in gaps])
    points = [t for t in also_at if not len(pauses) or np.abs(pauses - t).min() > POINT_REACH]
    spans = [*gaps, *((t, t) for t in points)]
    times = [(a + b) / 2 for a, b in spans]
    scores = scores_from_llr(two_voice_llr(features), features, times, window)
    out = [
        Candidate(time=t, pause_length=b - a, change_score=float(s))
        for t, (a, b), s in zip(times, spans, scores, strict=True)
    ]
    return sorted(out, key=lambda c: c.time)


def best_turn_boundaries(
    candidates: Sequence[Candidate],
    n_boundaries: int,
    expected_times: Sequence[float] | None = None,
    tolerance: float = 5.0,
    peak_radius: float = 1.0,
) -> list[float]:
    """Times of `n_boundaries` candidates, in time order, maximising total evidence.

    A candidate's evidence is its change score standardised within the episode, halved
    where another candidate within `peak_radius` s scores higher: a real change also
    raises the scores of pauses just beside it, whose windows reach across it. With
    `expected_times` (one per boundary, e.g. from text length), boundary k also pays
    ½((t - expected_k) / tolerance)². Dynamic programming keeps the choice monotonic:
    boundary k+1 comes after boundary k. Fewer times only if there are fewer candidates.
    """
    ordered = sorted(candidates, key=lambda c: c.time)
    m, n = len(ordered), min(n_boundaries, len(ordered))
    if expected_times is not None and len(expected_times) != n_boundaries:
        raise ValueError("expected_times needs one time per boundary")
    if n <= 0:
        return []
    times = np.array([c.time for c in ordered])
    scores = np.array([c.change_score for c in ordered])
    # Peaks by sorted neighbours, not a pairwise matrix: with a candidate at every ASR word
    # an hour has 10 000 of them.
    lo = np.searchsorted(times, times - peak_radius, side="left")
    hi = np.searchsorted(times, times + peak_radius, side="right")
    outscored = np.array(
        [b > a and scores[a:b].max() > s for a, b, s in zip(lo, hi, scores, strict=True)]
    )
    scores = np.where(outscored, 0.5 * scores, scores)
    z = (scores - scores.mean()) / (scores.std() + 1e-9)

    def gain(k: int) -> np.ndarray:  # boundary k at each candidate
        if expected_times is None:
            return z
        return z - 0.5 * ((times - float(expected_times[k])) / tolerance) ** 2

    index = np.arange(m)
    total = gain(0)  # best sum with boundary k at candidate i, row by row
    back = np.zeros((n, m), dtype=np.int32)
    for k in range(1, n):
        before = np.concatenate([[-np.inf], total[:-1]])  # boundary k-1 at candidate i-1
        best = np.maximum.accumulate(before)
        rises = before > np.concatenate([[-np.inf], best[:-1]])  # a new best (first of ties)
        back[k] = np.maximum.accumulate(np.where(rises, index - 1, 0))
        total = np.where(index >= k, gain(k) + best, -np.inf)
    chosen = [int(np.argmax(total))]
    for k in range(n - 1, 0, -1):
        chosen.append(int(back[k, chosen[-1]]))
    return [float(times[i]) for i in reversed(chosen)]
