"""Audio in: decode any ffmpeg-readable file to 16 kHz mono float32, refusing bad input early."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from pipeline.audiocheck import header_duration
from pipeline.errors import PodalignError

SAMPLE_RATE = 16000
# Below this RMS (about -60 dBFS) a whole file is taken as silence: nothing to align.
_SILENCE_RMS = 1e-3


def load_audio(path: Path) -> np.ndarray:
    """Return the audio as 16 kHz mono float32; raise PodalignError for unusable input."""
    path = Path(path)
    if not path.is_file():
        raise PodalignError(f"{path}: no such audio file; check the path")
    if path.stat().st_size == 0:
        raise PodalignError(f"{path}: the audio file is empty (0 bytes)")
    claimed = header_duration(path)  # raises for files with no audio stream
    samples = _decoded(path)
    seconds = len(samples) / SAMPLE_RATE
    if seconds < 0.1:
        raise PodalignError(f"{path}: the audio decodes to nothing; the file is damaged")
    if claimed and seconds < claimed * 0.9 - 0.5:
        raise PodalignError(
            f"{path}: truncated audio: its header says {claimed:.1f} s but only "
            f"{seconds:.1f} s decode; fetch the file again"
        )
    if float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < _SILENCE_RMS:
        raise PodalignError(f"{path}: the audio is silent; there is no speech to align")
    return samples


def _decoded(path: Path) -> np.ndarray:
    from faster_whisper import decode_audio

    try:
        return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises its own error types for damaged streams
        raise PodalignError(
            f"{path}: cannot decode the audio ({exc}); is it a media file?"
        ) from None


def content_hash(samples: np.ndarray) -> str:
    """A key for caches: the same sound gives the same key whatever the file is called."""
    return hashlib.sha256(np.ascontiguousarray(samples).tobytes()).hexdigest()[:32]
