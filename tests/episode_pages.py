"""Episode folders for the preview tests: real audio, subtitles from the real writers, a page."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from pipeline.formats import write_subtitles
from pipeline.records import AlignedSentence, AlignedWord, Alignment, Cue
from pipeline.subtitles.cues import cues_from_alignment
from pipeline.subtitles.preview import confidences_from_cues, find_inputs, write_preview

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "samples" / "sample-sv"
UNSURE_SENTENCE = 2  # sample sentence whose words get a low confidence, so some cues are marked


def write_episode(
    folder: Path, cues: Sequence[Cue], *, stem: str = "episode", title: str | None = None
) -> Path:
    """folder/<stem>.mp3 (the sample's audio), .vtt/.srt/.json of the cues, and the page."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE_DIR / "episode.mp3", folder / f"{stem}.mp3")
    for fmt in ("vtt", "srt", "json"):
        write_subtitles(cues, folder / f"{stem}.{fmt}", title=title)
    inputs = find_inputs([folder / f"{stem}.vtt"])
    return write_preview(inputs, confidences=confidences_from_cues(cues))


def sample_alignment() -> Alignment:
    """The sample episode's true sentence times, each sentence's words spread evenly over it.

    This is what a perfect aligner would hand on (but for word times inside sentences),
    so the cues made from it are podalign's own cues for the sample, without Whisper.
    """
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text(encoding="utf-8"))
    sentences = []
    for s in truth["sentences"]:
        texts = s["text"].split()
        step = (s["end"] - s["start"]) / len(texts)
        confidence = 0.3 if s["index"] == UNSURE_SENTENCE else 0.95
        words = tuple(
            AlignedWord(w, s["start"] + i * step, s["start"] + (i + 1) * step, confidence)
            for i, w in enumerate(texts)
        )
        sentences.append(
            AlignedSentence(s["index"], s["turn"], s["speaker"], s["text"], words, confidence)
        )
    return Alignment(tuple(sentences), duration=truth["duration"], mode="same-language")


def sample_cues() -> list[Cue]:
    return cues_from_alignment(sample_alignment())
