"""Speech recognition with faster-whisper: timestamped segments with word times, cached on disk.

The cache key is the audio's content hash plus the model and options, so re-aligning an
episode (a corrected transcript, other cue settings) never transcribes it again.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.inputs.audio import SAMPLE_RATE, content_hash
from pipeline.records import Segment, Transcription, Word
from pipeline.whisper.languages import LanguageGuess, guess_from

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from tqdm import tqdm

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "podalign" / "transcripts"


def detect_language(model: WhisperModel, samples: np.ndarray) -> LanguageGuess:
    """Return Whisper's language guess from the first speech it hears, with runners-up."""
    language, probability, ranked = model.detect_language(samples, vad_filter=True)
    return guess_from(language, probability, ranked)


# Each decode from a fresh start (see `_decoded_until_lost`) makes faster-whisper compute
# the features of the whole episode again, 3.5 s per 30 min of audio on a 2-core machine:
# past this many conditioned decodes, the rest is decoded unconditioned, which cannot lock
# on its own text. (No fixture needs more than two; an episode with a music sting in every
# segment might.)
MAX_CONDITIONED_DECODES = 8
# Names the decoding settings in the cache key, so a cached result of other settings is not
# reused: change it with any setting of `model.transcribe` below.
DECODING = f"beam5-conditioned-reset-on-no-letters-at-most-{MAX_CONDITIONED_DECODES}"


def transcribe(
    samples: np.ndarray,
    model: WhisperModel,
    language: str | None,
    *,
    model_name: str = "base",
    vad: bool = False,
    cache_dir: Path | None = None,
) -> Transcription:
    """Transcribe with word timestamps (beam 5), reusing a cached result for the same audio."""
    cache = _cache_path(samples, model_name, language, vad, cache_dir)
    cached = _cached(cache)
    if cached is not None:
        return cached
    result = _transcribed(samples, model, language, vad)
    cache.parent.mkdir(parents=True, exist_ok=True)
    from pipeline.files import write_atomic

    write_atomic(cache, json.dumps(asdict(result), ensure_ascii=False))
    return result


def _cached(cache: Path) -> Transcription | None:
    """The transcription stored at cache; None when there is none or it is unreadable (a
    damaged entry is a miss that transcribe rewrites, never a crash)."""
    if not cache.is_file():
        return None
    try:
        result = _transcription_from_json(json.loads(cache.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as err:  # JSONDecodeError and bad UTF-8 included
        log.warning("%s: damaged transcription cache entry (%s); transcribing again", cache, err)
        return None
    log.info("transcription reused from cache %s", cache)
    return result


def _cache_path(
    samples: np.ndarray, model_name: str, language: str | None, vad: bool, cache_dir: Path | None
) -> Path:
    from pipeline.whisper.models import model_identity

    key = f"{content_hash(samples)}-{model_identity(model_name)}-{language or 'auto'}-vad{int(vad)}"
    key += f"-{DECODING}"
    return (cache_dir or default_cache_dir()) / f"{key}.json"


def _transcribed(
    samples: np.ndarray, model: WhisperModel, language: str | None, vad: bool
) -> Transcription:
    from tqdm import tqdm

    duration = len(samples) / SAMPLE_RATE
    segments: list[Segment] = []
    language_found, probability = language or "", 1.0
    with tqdm(
        total=round(duration, 1), unit="s", desc="transcribing", disable=not sys.stderr.isatty()
    ) as bar:
        start: float | None = 0.0
        decodes = 0
        while start is not None:
            conditioned = decodes < MAX_CONDITIONED_DECODES
            found, info = model.transcribe(
                samples,
                language=language or language_found or None,  # detected once
                beam_size=5,
                word_timestamps=True,
                vad_filter=vad,
                condition_on_previous_text=conditioned,
                clip_timestamps=[start] if start else "0",
            )
            if not decodes:
                language_found, probability = info.language, float(info.language_probability)
            start = _decoded_until_lost(found, start, segments, bar, duration, conditioned)
            decodes += 1
    return Transcription(language_found, probability, duration, tuple(segments))


def _decoded_until_lost(
    found: Iterable,
    start: float,
    segments: list[Segment],
    bar: tqdm,
    duration: float,
    conditioned: bool = True,
) -> float | None:
    """Append faster-whisper's segments to `segments` until one has no letters, and return
    where to decode again with a fresh prompt (None once the audio is done, and always when
    the decode was not `conditioned` on its own text: it has no prompt to drop).

    Conditioned on its own previous text, Whisper base keeps a reader's words steadier
    (cross-lingual read speech through the CLI's path, starts within 0.5 s: synthetic-fi
    97.6 -> 99.2 %, real-fi-sv 95.7 -> 97.1 %; conversation asides got 52 -> 39 reference
    words on the tuning layouts, 38 -> 30 on the check layouts, starts 87.5 -> 88.1 % and
    87.3 -> 85.7 %, the ASR noise of 15 layouts). But on a jingle it heard "― ― ―", took it as
    the prompt and wrote only "―" for the next 30 s of speech at every temperature
    (conversation tuning layouts 1 and 17). A segment without letters is that sign: the prompt is
    dropped there. (faster-whisper ignores vad_filter when given a start, so with --vad the
    audio after such a segment is decoded without the VAD filter.) Decoding the audio cut
    at that point instead, which scales Whisper's features anew, gave other words on the
    two tuning layouts that restart: within 0.5 s 88.4 -> 87.9 %, aside words 39 -> 53.
    """
    for s in found:
        words = tuple(Word(w.word.strip(), w.start, w.end, w.probability) for w in s.words or ())
        segments.append(Segment(s.start, s.end, s.text.strip(), words))
        bar.update(round(min(s.end, duration) - bar.n, 1))
        if conditioned and not any(c.isalpha() for c in s.text) and s.end > start:
            return float(s.end)
    return None


def _transcription_from_json(data: dict) -> Transcription:
    segments = tuple(
        Segment(s["start"], s["end"], s["text"], tuple(Word(**w) for w in s["words"]))
        for s in data["segments"]
    )
    return Transcription(data["language"], data["language_probability"], data["duration"], segments)
