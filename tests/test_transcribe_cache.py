"""The transcription cache: keyed by the model's content, and a damaged entry is only a miss.

Real files and the real embedded Whisper model on a few seconds of espeak-ng speech.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from spoken import SpokenEpisode

from pipeline.inputs.audio import load_audio
from pipeline.whisper.models import EMBEDDED, load_model, model_identity
from pipeline.whisper.transcribe import transcribe


def _local_model(folder: Path, weights: bytes) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(weights)
    return folder


def test_local_models_are_told_apart_by_their_weights_not_their_folder_name(
    tmp_path: Path,
) -> None:
    first = _local_model(tmp_path / "a" / "model", b"weights of one model")
    second = _local_model(tmp_path / "b" / "model", b"weights of another model")
    copy = _local_model(tmp_path / "c" / "model", b"weights of one model")
    assert model_identity(str(first)) != model_identity(str(second))
    assert model_identity(str(first)) == model_identity(str(copy))  # same content, same key
    (first / "model.bin").write_bytes(b"replaced by a fine-tuned model")
    assert model_identity(str(first)) not in (model_identity(str(copy)), "model")
    assert model_identity(EMBEDDED) != model_identity("small")


@pytest.mark.slow
def test_a_damaged_cache_entry_warns_is_transcribed_again_and_rewritten(
    spoken_episodes: dict[str, SpokenEpisode], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    samples = load_audio(spoken_episodes["halsa"].mp3)
    model = load_model()
    first = transcribe(samples, model, "sv", cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.json")
    assert transcribe(samples, model, "sv", cache_dir=tmp_path) == first  # read back whole
    for damage in (b'{"language": "sv", "segm', b"\xff\xfe not UTF-8", b"[1, 2]"):
        entry.write_bytes(damage)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipeline.whisper.transcribe"):
            again = transcribe(samples, model, "sv", cache_dir=tmp_path)
        # Transcribed afresh, not read: Whisper's temperature fallback samples, so the words
        # of a hard clip may differ from the first run's; the audio's length may not.
        assert again.duration == first.duration and again.language == first.language
        assert transcribe(samples, model, "sv", cache_dir=tmp_path) == again  # rewritten
        (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert entry.name in warning.getMessage() and "damaged" in warning.getMessage()
        assert json.loads(entry.read_text(encoding="utf-8"))["language"] == "sv"  # rewritten
