"""One episode end to end: audio + reference transcript in, subtitle files out.

This is the only place that chooses between the aligners; each stage below it takes and
returns the typed records of `pipeline.records`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.align import align_same_language, reference_words
from pipeline.audio import SAMPLE_RATE, load_audio
from pipeline.cues import cues_from_alignment
from pipeline.errors import PodalignError
from pipeline.forced import WindowedAligner
from pipeline.records import (
    AlignedSentence,
    AlignedWord,
    Alignment,
    Cue,
    Reference,
    Transcription,
)
from pipeline.speakers import (
    frame_levels,
    loud_regions,
    regions_from_activity,
    speech_from_energy,
)
from pipeline.timeline import condensed_samples, speech_timeline
from pipeline.transcript import read_reference
from pipeline.writers import WRITERS, write_subtitles

log = logging.getLogger(__name__)

# Read speech runs about 10-20 characters a second; far outside this the transcript and the
# audio are not the same episode, or one of them is incomplete.
_PLAUSIBLE_CPS = (4.0, 35.0)


@dataclass(frozen=True)
class AlignOptions:
    audio_lang: str | None = None  # None: detect from the audio
    text_lang: str | None = None  # None: guess from the transcript text
    model: str = "base"  # "base" (embedded) | "small" | "large-v3" | a local CTranslate2 folder
    formats: tuple[str, ...] = ("vtt", "srt", "json")
    vad: bool = False
    cache_dir: Path | None = None  # transcription cache
    device: str = "auto"  # auto | cpu | cuda (pipeline.models.resolved_device)
    compute_type: str | None = None  # None: int8 on a CPU, float16 on a GPU


@dataclass(frozen=True)
class EpisodeResult:
    outputs: dict[str, Path]
    mode: str  # "same-language" | "cross-lingual" | "asr-only"
    confidence: float
    warnings: tuple[str, ...]
    audio_duration: float
    seconds: float
    alignment: Alignment | None = field(default=None, compare=False, repr=False)
    cues: tuple[Cue, ...] = field(default=(), compare=False, repr=False)


def output_paths(out_stem: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    """out/ep1 -> out/ep1.vtt, out/ep1.srt ... (a dotted stem like ep1.sv is kept whole)."""
    for fmt in formats:
        if fmt not in WRITERS:
            raise PodalignError(f"unknown format {fmt!r}: choose from {', '.join(WRITERS)}")
    return {fmt: Path(f"{out_stem}{WRITERS[fmt].suffix}") for fmt in formats}


def align_episode(
    audio: Path, transcript: Path | None, out_stem: Path, options: AlignOptions
) -> EpisodeResult:
    """Align one episode and write its subtitles atomically; PodalignError for bad input."""
    started = time.monotonic()
    outputs = output_paths(out_stem, options.formats)
    _check_writable(outputs)
    reference = read_reference(transcript) if transcript is not None else None
    samples = load_audio(audio)
    alignment = alignment_for(samples, reference, options)
    for warning in alignment.warnings:
        log.warning("%s: %s", audio, warning)
    cues = cues_from_alignment(alignment)
    title = Path(audio).stem
    written = {fmt: write_subtitles(cues, path, fmt, title=title) for fmt, path in outputs.items()}
    confidence = (
        float(np.mean([s.confidence for s in alignment.sentences])) if alignment.sentences else 0.0
    )
    return EpisodeResult(
        written, alignment.mode, confidence, alignment.warnings, alignment.duration,
        time.monotonic() - started, alignment, tuple(cues),
    )  # fmt: skip


def _check_writable(outputs: dict[str, Path]) -> None:
    # Fail before minutes of model work, not after.
    for path in outputs.values():
        folder = path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise PodalignError(f"cannot write {path}: {folder} is not a writable folder")
        if path.is_dir():
            raise PodalignError(f"cannot write {path}: it is a folder")


def alignment_for(
    samples: np.ndarray, reference: Reference | None, options: AlignOptions
) -> Alignment:
    """Pick the aligner from the languages of the audio and the text, and run it."""
    from pipeline.models import load_model

    model = load_model(options.model, device=options.device, compute_type=options.compute_type)
    levels = frame_levels(samples, SAMPLE_RATE)
    activity = speech_from_energy(levels)
    speech = regions_from_activity(activity)
    if not speech:
        raise PodalignError("the audio has no speech to align (only silence or steady noise)")
    if reference is None:
        audio_lang = options.audio_lang or _detected(model, samples)
        return asr_only_alignment(_asr(samples, model, audio_lang, options), audio_lang)
    words = [w for _, w in reference_words(reference)]
    text_lang = options.text_lang or reference.language
    # Forced alignment pays per second of audio, silent or not: it runs on the speech with
    # long pauses cut short, and its times are mapped back to the episode.
    timeline = speech_timeline(speech, len(samples), SAMPLE_RATE)
    # The probe aligns the text's opening in the text's language: if Whisper hears it, it is
    # the same-language aligner, already one window in.
    probe = None
    if text_lang and not options.audio_lang:
        probe = WindowedAligner(condensed_samples(samples, timeline), model, text_lang, words)
    heard = _heard(probe, text_lang)
    audio_lang = options.audio_lang or (text_lang if heard else _detected(model, samples))
    text_lang = text_lang or audio_lang
    extra = _length_warnings(reference, speech)
    if text_lang != audio_lang:
        log.warning(
            "the transcript is in %s but the audio in %s: cross-lingual alignment",
            text_lang,
            audio_lang,
        )
        probe = None  # its copy of the audio is of no use to the cross-lingual aligner
        alignment = _cross_lingual(samples, reference, model, audio_lang, speech, options)
    else:
        log.info("same-language alignment: %s text on %s speech", text_lang, audio_lang)
        # A probe exists only in text_lang, which is audio_lang here.
        aligner = probe or WindowedAligner(
            condensed_samples(samples, timeline), model, audio_lang, words
        )
        timings = [timeline.episode_word(w) for w in aligner.timings()]
        alignment = align_same_language(
            reference, timings, _sentence_edges(levels, activity), len(samples) / SAMPLE_RATE,
            audio_language=audio_lang,
        )  # fmt: skip
    return _with_warnings(alignment, extra)


def _sentence_edges(levels: np.ndarray, activity: np.ndarray) -> list[tuple[float, float]]:
    """Speech regions for snapping sentence edges: finer than the regions above, and only
    loud ones, so a click or breath before a sentence does not pass for its onset
    (real-voice episodes: p90 start error 0.51 s with the coarse regions, 0.23 s with fine
    ones, 0.10 s with fine loud ones)."""
    return loud_regions(regions_from_activity(activity, min_pause=0.15, min_speech=0.2), levels)


# Mean token probability of the transcript's opening on the first window (20 s of the
# condensed audio): same-language text measures 0.4-0.7 on synthetic and real voices, a
# translation 0.06-0.18.
_HEARD_THRESHOLD = 0.25


def _heard(probe: WindowedAligner | None, text_lang: str | None) -> bool:
    """Whether Whisper hears the transcript's opening in the audio, in the text's language."""
    if probe is None:
        return False
    heard = probe.first_window_probability()
    log.debug("transcript opening heard with p=%.2f as %s", heard, text_lang)
    return heard >= _HEARD_THRESHOLD


def _detected(model, samples: np.ndarray) -> str:
    from pipeline.transcribe import detect_language

    language, probability = detect_language(model, samples)
    log.info("audio language detected: %s (p=%.2f)", language, probability)
    return language


def _asr(samples: np.ndarray, model, language: str, options: AlignOptions) -> Transcription:
    from pipeline.transcribe import transcribe

    return transcribe(
        samples, model, language, model_name=options.model, vad=options.vad,
        cache_dir=options.cache_dir,
    )  # fmt: skip


def _cross_lingual(samples, reference, model, audio_lang, speech, options) -> Alignment:
    from pipeline.crosslingual import align_cross_lingual
    from pipeline.speakers import turn_boundary_candidates

    asr = _asr(samples, model, audio_lang, options)
    candidates = turn_boundary_candidates(samples, SAMPLE_RATE)
    return align_cross_lingual(reference, asr, speech, candidates)


def asr_only_alignment(asr: Transcription, language: str) -> Alignment:
    """Subtitles from the speech recognition alone, for episodes without a transcript."""
    sentences = []
    for segment in asr.segments:
        words = tuple(
            AlignedWord(w.text, w.start, w.end, w.probability) for w in segment.words if w.text
        )
        if words:
            confidence = float(np.mean([w.confidence for w in words]))
            sentences.append(
                AlignedSentence(len(sentences), 0, None, segment.text, words, confidence)
            )
    note = "no reference transcript: subtitles are Whisper's own transcription"
    return Alignment(tuple(sentences), asr.duration, "asr-only", language, language, (note,))


def _length_warnings(reference: Reference, speech: list[tuple[float, float]]) -> list[str]:
    chars = sum(len(s.text) for s in reference.sentences)
    speaking = sum(e - s for s, e in speech)
    rate = chars / max(speaking, 1e-6)
    low, high = _PLAUSIBLE_CPS
    if rate > high:
        return [f"the transcript is much longer than the speech ({rate:.0f} characters per "
                "second of speech): same episode? audio complete?"]  # fmt: skip
    if rate < low:
        return [f"the transcript is much shorter than the speech ({rate:.1f} characters per "
                "second of speech): part of the episode will have no subtitles"]  # fmt: skip
    return []


def _with_warnings(alignment: Alignment, extra: list[str]) -> Alignment:
    if not extra:
        return alignment
    return Alignment(
        alignment.sentences, alignment.duration, alignment.mode, alignment.audio_language,
        alignment.text_language, (*extra, *alignment.warnings),
    )  # fmt: skip
