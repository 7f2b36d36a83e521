"""Transcription on a conversation opening: a jingle, then two voices in a room.

The real embedded Whisper model on the first 40 s of a conversation fixture built from real
Common Voice Finnish (samples.conversation, tuning seed 1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.inputs.audio import SAMPLE_RATE, load_audio
from pipeline.whisper.models import load_model
from pipeline.whisper.transcribe import transcribe
from samples import conversation as conv

OPENING_SECONDS = 40


def test_a_symbol_heard_on_the_jingle_does_not_swallow_the_speech_after_it(
    tmp_path: Path,
) -> None:
    # Conditioned on its own previous text, Whisper base heard "― ― ―" on the jingle, kept
    # it as the prompt and then wrote only "―" for the next 30 s of speech, at every
    # temperature: the cross-lingual aligner lost all its lexical evidence there.
    conv.build("conv-fi", 1, tmp_path / "episode")
    truth = json.loads((tmp_path / "episode" / "truth.json").read_text(encoding="utf-8"))
    samples = load_audio(tmp_path / "episode" / "episode.mp3")[: OPENING_SECONDS * SAMPLE_RATE]
    result = transcribe(samples, load_model("base"), "fi", cache_dir=tmp_path / "cache")
    speech_start = truth["sentences"][0]["start"]
    spoken = [w for w in result.words if w.start >= speech_start + 5.0]
    assert sum(bool(re.search(r"\w", w.text)) for w in spoken) >= 0.9 * len(spoken)
    assert len(spoken) >= 40  # 35 s of two people talking
