"""Transcription on a conversation opening: a jingle, then two voices in a room.

The real embedded Whisper model on a conversation fixture built from real
Common Voice Finnish (samples.conversation, tuning seed 1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import faster_whisper.transcribe as fw
from tqdm import tqdm

from pipeline.inputs.audio import load_audio
from pipeline.records import Segment, Word
from pipeline.whisper.models import load_model
from pipeline.whisper.transcribe import _decoded_until_lost, transcribe
from samples import conversation as conv

LOCKED_UNTIL = 35.9  # where the prompt-locked decode wrote its last "―"


def test_a_symbol_heard_on_the_jingle_does_not_swallow_the_speech_after_it(
    tmp_path: Path,
) -> None:
    # Conditioned on its own previous text, Whisper base heard "― ― ―" on this jingle, kept
    # it as the prompt and then wrote only "―" for the next 30 s of speech, at every
    # temperature: the cross-lingual aligner lost all its lexical evidence there. It does so
    # only on the whole episode (Whisper scales its features by the loudest moment in the
    # audio), so the whole episode is transcribed.
    conv.build("conv-fi", 1, tmp_path / "episode")
    truth = json.loads((tmp_path / "episode" / "truth.json").read_text(encoding="utf-8"))
    samples = load_audio(tmp_path / "episode" / "episode.mp3")
    result = transcribe(samples, load_model("base"), "fi", cache_dir=tmp_path / "cache")
    speech_start = truth["sentences"][0]["start"]
    spoken = [w for w in result.words if speech_start + 5.0 <= w.start < LOCKED_UNTIL]
    assert sum(bool(re.search(r"\w", w.text)) for w in spoken) >= 0.9 * len(spoken)
    assert len(spoken) >= 40  # 30 s of two people talking


def _heard(start: float, end: float, text: str) -> fw.Segment:
    words = [fw.Word(start, end, text, 0.9)]
    return fw.Segment(0, 0, start, end, text, [], -0.2, 1.2, 0.01, words, 0.0)


def test_decoding_stops_after_a_segment_without_letters_and_says_where_to_start_again() -> None:
    heard = iter([_heard(0.0, 5.9, "― ― ―"), _heard(5.9, 35.9, "― ― ― ―"), _heard(36.0, 38.0, "x")])
    segments: list[Segment] = []
    with tqdm(disable=True) as bar:
        assert _decoded_until_lost(heard, 0.0, segments, bar, 40.0) == 5.9
    assert [s.text for s in segments] == ["― ― ―"]
    assert next(heard).end == 35.9  # left undecoded: a fresh prompt decodes it again


def test_decoding_runs_to_the_end_when_every_segment_has_letters_or_none_moves_on() -> None:
    heard = [
        _heard(3.0, 3.0, "..."),
        _heard(3.0, 6.0, "Hyvää huomenta."),
        _heard(6.0, 7.0, "Kiitos"),
    ]
    segments: list[Segment] = []
    with tqdm(disable=True) as bar:
        assert _decoded_until_lost(iter(heard), 3.0, segments, bar, 7.0) is None
    assert [s.text for s in segments] == ["...", "Hyvää huomenta.", "Kiitos"]
    assert segments[1].words[0] == Word("Hyvää huomenta.", 3.0, 6.0, 0.9)
