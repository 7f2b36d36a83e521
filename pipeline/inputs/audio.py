"""Audio in: decode any ffmpeg-readable file to 16 kHz mono, refusing bad input early.

An episode is held as int16 (`load_pcm`): two hours are 230 MB, where float32 takes 460 MB
and faster-whisper's own decoder peaks near three times that. Stages that need floats read
them a window or a block at a time (`as_float`).
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipeline.errors import PodalignError
from pipeline.inputs.audiocheck import check_not_truncated, header_duration

SAMPLE_RATE = 16000
# Below this RMS (about -60 dBFS) a whole file is taken as silence: nothing to align.
_SILENCE_RMS = 1e-3
_INT16_SCALE = np.float32(1 / 32768)  # a power of two: the same floats as dividing by 32768
_BLOCK_SAMPLES = 60 * SAMPLE_RATE  # float work on a minute at a time: 4 MB
# Decoded length beyond the header's duration that the first buffer allows for; a file
# longer than its header says still decodes, through a larger buffer.
_HEADER_SLACK = 1.01


def load_audio(path: Path) -> np.ndarray:
    """Return the audio as 16 kHz mono float32; raise PodalignError for unusable input."""
    return as_float(load_pcm(path))


def load_pcm(path: Path) -> np.ndarray:
    """Return the audio as 16 kHz mono int16; raise PodalignError for unusable input."""
    path = Path(path)
    if not path.is_file():
        raise PodalignError(f"{path}: no such audio file; check the path")
    if path.stat().st_size == 0:
        raise PodalignError(f"{path}: the audio file is empty (0 bytes)")
    claimed = header_duration(path)  # raises for files with no audio stream
    samples = _decoded(path, claimed)
    seconds = len(samples) / SAMPLE_RATE
    if seconds < 0.1:
        raise PodalignError(f"{path}: the audio decodes to nothing; the file is damaged")
    check_not_truncated(str(path), claimed, seconds, "fetch the file again")
    if rms(samples) < _SILENCE_RMS:
        raise PodalignError(f"{path}: the audio is silent; there is no speech to align")
    return samples


def as_float(samples: np.ndarray) -> np.ndarray:
    """Float samples: int16 scaled to [-1, 1) exactly as faster-whisper decodes, else as is."""
    if samples.dtype == np.int16:
        return np.multiply(samples, _INT16_SCALE, dtype=np.float32)
    return samples


def float_blocks(samples: np.ndarray, overlap: int = 0) -> Iterator[np.ndarray]:
    """The samples as floats, _BLOCK_SAMPLES at a time, each block reaching `overlap`
    samples into the next (for framing that straddles block edges)."""
    for start in range(0, max(len(samples), 1), _BLOCK_SAMPLES):
        yield as_float(samples[start : start + _BLOCK_SAMPLES + overlap])
        if start + _BLOCK_SAMPLES + overlap >= len(samples):
            return


def rms(samples: np.ndarray) -> float:
    """Root mean square level, a block at a time (float64 of the whole would be 8 bytes a
    sample: 920 MB for two hours, twice over for the square)."""
    total = sum(float(np.dot(b.astype(np.float64), b)) for b in float_blocks(samples))
    return float(np.sqrt(total / max(len(samples), 1)))


def _decoded(path: Path, claimed: float | None) -> np.ndarray:
    try:
        return _pcm(path, claimed)
    except Exception as exc:  # PyAV raises its own error types for damaged streams
        raise PodalignError(
            f"{path}: cannot decode the audio ({exc}); is it a media file?"
        ) from None


def _pcm(path: Path, claimed: float | None) -> np.ndarray:
    """faster_whisper.decode_audio's decoding (PyAV, resampled to s16 mono), written into one
    int16 buffer sized from the header, without its byte buffer and float copies."""
    import av
    from faster_whisper.audio import _group_frames, _ignore_invalid_frames, _resample_frames

    out = np.empty(int((claimed or 60.0) * _HEADER_SLACK * SAMPLE_RATE) + SAMPLE_RATE, np.int16)
    used = 0
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        frames = _group_frames(_ignore_invalid_frames(container.decode(audio=0)), 500000)
        for frame in _resample_frames(frames, resampler):
            chunk = frame.to_ndarray().reshape(-1)
            if used + len(chunk) > len(out):
                out = np.concatenate([out[:used], np.empty(len(out) // 2 + len(chunk), np.int16)])
            out[used : used + len(chunk)] = chunk
            used += len(chunk)
    del resampler
    gc.collect()  # faster-whisper's note: PyAV's resampler is freed only by a collection
    return out[:used]


def content_hash(samples: np.ndarray) -> str:
    """A key for caches: the same sound gives the same key whatever the file is called."""
    return hashlib.sha256(np.ascontiguousarray(samples).data.cast("B")).hexdigest()[:32]
