"""The same audio gives the same words on every run, where Whisper's fallback samples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from spoken import SpokenEpisode

# Noise twice as loud as the speech: Whisper base decodes it badly, falls back to sampling,
# and (unseeded) gave three different transcriptions in three runs.
_NOISE_TO_SPEECH = 2.0

_TRANSCRIBE = """
import sys
import numpy as np
from pipeline.whisper.models import load_model
from pipeline.whisper.transcribe import _transcribed
samples = np.load(sys.argv[1])
result = _transcribed(samples, load_model(), "sv", False)
print(repr(result))
"""


@pytest.mark.slow
def test_a_noisy_clip_is_transcribed_the_same_in_two_fresh_processes(
    spoken_episodes: dict[str, SpokenEpisode], tmp_path: Path
) -> None:
    from pipeline.inputs.audio import load_audio

    speech = load_audio(spoken_episodes["halsa"].mp3)
    noise = np.random.default_rng(1).normal(0, 1, len(speech))
    level = _NOISE_TO_SPEECH * float(np.sqrt(np.mean(speech**2)))
    clip = tmp_path / "noisy.npy"
    np.save(clip, (speech + level * noise).astype(np.float32))
    root = Path(__file__).resolve().parents[1]
    runs = [
        subprocess.run(
            [sys.executable, "-c", _TRANSCRIBE, str(clip)],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
        ).stdout
        for _ in range(2)
    ]
    assert "Transcription(" in runs[0]
    assert runs[0] == runs[1]
