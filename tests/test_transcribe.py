"""Transcription on a conversation opening: a jingle, then two voices in a room.

The real embedded Whisper model on a conversation fixture built from real
Common Voice Finnish (samples.conversation, tuning seed 1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import faster_whisper.transcribe as fw
import numpy as np
import pytest
from tqdm import tqdm

from pipeline.inputs.audio import load_audio
from pipeline.records import Segment, Word
from pipeline.whisper import transcribe as transcription
from pipeline.whisper.models import load_model
from pipeline.whisper.transcribe import _decoded_until_lost, transcribe
from samples import conversation as conv

LOCKED_UNTIL = 35.9  # where the prompt-locked decode wrote its last "―"


@pytest.fixture(scope="module")
def jingle_episode(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, float]:
    """conv-fi layout 1's audio and the start of its speech, built once for the module."""
    folder = tmp_path_factory.mktemp("jingle") / "episode"
    conv.build("conv-fi", 1, folder)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return load_audio(folder / "episode.mp3"), truth["sentences"][0]["start"]


def _jingle_episode_transcribed(
    episode: tuple[np.ndarray, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Word], list[bool]]:
    """The words Whisper heard 5 s into the speech of conv-fi layout 1 until LOCKED_UNTIL,
    and whether each decode it ran was conditioned on its own text."""
    samples, speech_start = episode
    model = load_model("base")
    decodes: list[bool] = []
    real_transcribe = model.transcribe

    def counted(*args: Any, **kwargs: Any) -> Any:
        decodes.append(kwargs["condition_on_previous_text"])
        return real_transcribe(*args, **kwargs)

    monkeypatch.setattr(model, "transcribe", counted)
    result = transcribe(samples, model, "fi", cache_dir=tmp_path / "cache")
    return [w for w in result.words if speech_start + 5.0 <= w.start < LOCKED_UNTIL], decodes


def _mostly_words(heard: list[Word]) -> bool:
    return sum(bool(re.search(r"\w", w.text)) for w in heard) >= 0.9 * len(heard)


def test_a_symbol_heard_on_the_jingle_does_not_swallow_the_speech_after_it(
    jingle_episode: tuple[np.ndarray, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Conditioned on its own previous text, Whisper base heard "― ― ―" on this jingle, kept
    # it as the prompt and then wrote only "―" for the next 30 s of speech, at every
    # temperature: the cross-lingual aligner lost all its lexical evidence there. It does so
    # only on the whole episode (Whisper scales its features by the loudest moment in the
    # audio), so the whole episode is transcribed.
    spoken, decodes = _jingle_episode_transcribed(jingle_episode, tmp_path, monkeypatch)
    assert _mostly_words(spoken)
    assert len(spoken) >= 40  # 30 s of two people talking
    assert decodes == [True, True]  # a fresh start after the jingle's "― ― ―"


def test_past_the_conditioned_decodes_allowed_the_rest_is_decoded_unconditioned(
    jingle_episode: tuple[np.ndarray, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcription, "MAX_CONDITIONED_DECODES", 1)
    spoken, decodes = _jingle_episode_transcribed(jingle_episode, tmp_path, monkeypatch)
    assert decodes == [True, False]  # after the "―", a decode that nothing can lock
    assert _mostly_words(spoken)
    assert len(spoken) >= 40


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
    # Nor does one that was not conditioned on its own text: it has no prompt to drop.
    lost = iter([_heard(3.0, 5.0, "― ―"), _heard(5.0, 7.0, "Kiitos")])
    with tqdm(disable=True) as bar:
        assert _decoded_until_lost(lost, 3.0, [], bar, 7.0, conditioned=False) is None
