"""One episode end to end: audio + reference transcript in, subtitle files out.

This is the only place that chooses between the aligners; each stage below it takes and
returns the typed records of `pipeline.records`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.align.coverage import PLAUSIBLE_CPS, coverage, length_warnings
from pipeline.align.forced import WindowedAligner
from pipeline.align.refine import (
    FALSE_START_PAUSE,
    UNHEARD_PROBABILITY,
    UNHEARD_WARNING,
    UNTIMED_WARNING,
    align_same_language,
    end_at_voice,
    reference_words,
    voice_window,
)
from pipeline.errors import PodalignError
from pipeline.formats import SUBTITLE_FORMATS, format_of_suffix, render_subtitles, subtitle_choices
from pipeline.inputs.audio import SAMPLE_RATE, as_float, float_blocks, load_pcm
from pipeline.inputs.transcript import read_reference
from pipeline.records import (
    AlignedSentence,
    AlignedWord,
    Alignment,
    AlignmentMode,
    Coverage,
    Cue,
    Reference,
    Transcription,
)
from pipeline.signal.restarts import restart_onsets
from pipeline.signal.speakers import (
    FRAME_SECONDS,
    HOP_SECONDS,
    first_speech,
    frame_levels,
    loud_regions,
    regions_from_activity,
    speech_from_energy,
    voice_segments,
)
from pipeline.signal.timeline import condensed_samples, speech_timeline
from pipeline.spans import numbered_ranges, time_range
from pipeline.subtitles.cues import cues_from_alignment
from pipeline.subtitles.writers import publish_files
from pipeline.whisper.languages import (
    LanguageGuess,
    confidence_ceiling,
    language_warnings,
    untested_languages,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlignOptions:
    audio_lang: str | None = None  # None: detect from the audio
    text_lang: str | None = None  # None: guess from the transcript text
    model: str = "base"  # "base" (embedded) | "small" | "large-v3" | a local CTranslate2 folder
    formats: tuple[str, ...] = ("vtt", "srt", "json")
    vad: bool = False
    cache_dir: Path | None = None  # transcription cache
    keep_unheard: bool = False  # keep text the audio lacks in the subtitles, marked unsure
    preview: bool = False  # also publish <stem>.preview.html with the subtitles
    strict: bool = False  # fail (write nothing) when part of the episode is not well aligned
    device: str = "auto"  # auto | cpu | cuda (pipeline.whisper.models.resolved_device)
    compute_type: str | None = None  # None: int8 on a CPU, float16 on a GPU


@dataclass(frozen=True)
class EpisodeResult:
    outputs: dict[str, Path]
    mode: AlignmentMode
    confidence: float
    warnings: tuple[str, ...]
    audio_duration: float
    seconds: float
    alignment: Alignment | None = field(default=None, compare=False, repr=False)
    cues: tuple[Cue, ...] = field(default=(), compare=False, repr=False)
    coverage: Coverage | None = None  # with a reference transcript: how much is well aligned
    language: str | None = None  # of the subtitles' text


def output_paths(
    out_stem: Path, formats: tuple[str, ...], named: Path | None = None
) -> dict[str, Path]:
    """out/ep1 -> out/ep1.vtt, out/ep1.srt ... (a dotted stem like ep1.sv is kept whole);
    named, a file whose suffix names one of the formats, is that format's path as given."""
    for fmt in formats:
        if fmt not in SUBTITLE_FORMATS:
            raise PodalignError(f"unknown format {fmt!r}: choose from {subtitle_choices()}")
    paths = {fmt: Path(f"{out_stem}{SUBTITLE_FORMATS[fmt].suffix}") for fmt in formats}
    named_format = format_of_suffix(named) if named is not None else None
    if named is not None and named_format in paths:
        paths[named_format] = named
    return paths


def align_episode(
    audio: Path,
    transcript: Path | None,
    out_stem: Path,
    options: AlignOptions,
    *,
    named: Path | None = None,
) -> EpisodeResult:
    """Align one episode and publish its subtitles together; PodalignError for bad input.

    named: the -o file as typed (x.SRT), used as is for the format its suffix names."""
    started = time.monotonic()
    outputs = output_paths(out_stem, options.formats, named)
    if options.preview and "vtt" not in outputs:
        raise PodalignError("--preview plays the WebVTT file: add --format vtt")
    _check_writable(outputs, options.preview)
    reference = read_reference(transcript) if transcript is not None else None
    samples = load_pcm(audio)
    found = alignment_for(samples, reference, options)
    alignment = heard_only(found, keep=options.keep_unheard)
    for warning in alignment.warnings:
        log.warning("%s: %s", audio, warning)
    preview_samples = samples if options.preview else None
    del samples  # two hours of audio are not held through writing, unless for the page
    if found.coverage is not None:
        _check_coverage(audio, found.coverage, options.strict)
    cues = cues_from_alignment(alignment)
    written = _publish(cues, outputs, Path(audio), preview_samples)
    for fmt, path in written.items():
        log.info(
            "wrote %d cues as %s to %s",
            len(cues),
            fmt if fmt in SUBTITLE_FORMATS else "a page",
            path,
        )
    return EpisodeResult(
        written, alignment.mode, episode_confidence(found), alignment.warnings,
        alignment.duration, time.monotonic() - started, alignment, tuple(cues), found.coverage,
        alignment.text_language,
    )  # fmt: skip


def _publish(
    cues: list[Cue], outputs: dict[str, Path], audio: Path, preview_of: np.ndarray | None
) -> dict[str, Path]:
    """Render every format (and, given the samples, the preview page), then write them as
    one set: an error or Ctrl-C leaves the earlier set whole (pipeline.files.publish_together).
    """
    from pipeline.signal.speakers import speech_regions, uncovered_speech
    from pipeline.subtitles.preview import confidences_from_cues, page_for_outputs

    texts = {fmt: render_subtitles(cues, fmt, title=audio.stem) for fmt in outputs}
    files = {outputs[fmt]: text for fmt, text in texts.items()}
    written = dict(outputs)
    if preview_of is not None:
        spans = [(c.start_ms / 1000, c.end_ms / 1000) for c in cues]
        uncovered = uncovered_speech(speech_regions(as_float(preview_of), SAMPLE_RATE), spans)
        confidences = confidences_from_cues(cues)
        page, html = page_for_outputs(outputs, texts["vtt"], audio, confidences, uncovered)
        files[page] = html
        written["preview"] = page
    publish_files(files)
    return written


def episode_confidence(alignment: Alignment) -> float:
    """Mean sentence confidence over every sentence the aligner was given, heard or not."""
    sentences = alignment.sentences
    return float(np.mean([s.confidence for s in sentences])) if sentences else 0.0


# The strict error is one line: the first few problems say where to listen, the warnings
# above it list them all.
_STRICT_PROBLEMS_NAMED = 3


def _check_coverage(audio: Path, covered: Coverage, strict: bool) -> None:
    """Say how much is well aligned; with strict, fail before writing where not all is."""
    log.info("%s: %s", audio, covered.summary())
    if strict and covered.problems:
        named = "; ".join(covered.problems[:_STRICT_PROBLEMS_NAMED])
        raise PodalignError(
            f"{audio}: not well aligned ({named}; {len(covered.problems)} problem(s) in all); "
            "--strict wrote nothing: check that the transcript is this episode's and complete"
        )


def frame_levels_of(samples: np.ndarray) -> np.ndarray:
    """`frame_levels` of any length of int16 or float samples, a block of floats at a time
    (whole, the float copy and its frames would cost more than the episode itself)."""
    frame, hop = round(FRAME_SECONDS * SAMPLE_RATE), round(HOP_SECONDS * SAMPLE_RATE)
    levels = np.concatenate(
        [frame_levels(block, SAMPLE_RATE) for block in float_blocks(samples, frame - hop)]
    )
    return levels[: max((len(samples) - frame) // hop + 1, 1)]


def _check_writable(outputs: dict[str, Path], preview: bool) -> None:
    # Fail before minutes of model work, not after.
    from pipeline.subtitles.preview import preview_path

    paths = [*outputs.values(), *([preview_path(outputs["vtt"])] if preview else [])]
    for path in paths:
        folder = path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise PodalignError(f"cannot write {path}: {folder} is not a writable folder")
        if path.is_dir():
            raise PodalignError(f"cannot write {path}: it is a folder")


def alignment_for(
    samples: np.ndarray, reference: Reference | None, options: AlignOptions
) -> Alignment:
    """Pick the aligner from the languages of the audio and the text, and run it. samples
    are int16 (`load_pcm`) or float; the same-language aligner reads them a window at a
    time and never holds a float copy of the episode."""
    from pipeline.whisper.models import load_model

    model = load_model(options.model, device=options.device, compute_type=options.compute_type)
    levels = frame_levels_of(samples)
    activity = speech_from_energy(levels)
    speech = regions_from_activity(activity)
    if not speech:
        raise PodalignError("the audio has no speech to align (only silence or steady noise)")
    if reference is None:
        samples = as_float(samples)
        guess = None if options.audio_lang else _detected(model, samples)
        audio_lang = guess.language if guess else options.audio_lang
        assert audio_lang is not None
        alignment = asr_only_alignment(_asr(samples, model, audio_lang, options), audio_lang)
        return with_language_doubts(alignment, guess)
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
    guess = None if options.audio_lang or heard else _detected(model, as_float(samples))
    audio_lang = guess.language if guess else options.audio_lang or text_lang
    assert audio_lang is not None
    text_lang = text_lang or audio_lang
    extra = length_warnings(reference, speech)
    fine = _false_start_regions(levels, activity)  # where a sentence may start after a try
    restarts = restart_onsets(samples, SAMPLE_RATE, fine)  # where a try is said again
    if text_lang != audio_lang:
        log.warning(
            "the transcript is in %s but the audio in %s: cross-lingual alignment",
            text_lang,
            audio_lang,
        )
        probe = None  # its copy of the audio is of no use to the cross-lingual aligner
        alignment = _cross_lingual(
            as_float(samples), reference, model, audio_lang, speech, fine, restarts, options
        )
    else:
        log.info("same-language alignment: %s text on %s speech", text_lang, audio_lang)
        # A probe exists only in text_lang, which is audio_lang here.
        aligner = probe or WindowedAligner(
            condensed_samples(samples, timeline), model, audio_lang, words
        )
        timings = [timeline.episode_word(w) for w in aligner.timings()]
        alignment = align_same_language(
            reference, timings, _sentence_edges(levels, activity), len(samples) / SAMPLE_RATE,
            audio_language=audio_lang, first_speech=first_speech(samples, SAMPLE_RATE),
            onsets=[start for start, _ in fine[1:]],
            restarts=restarts,
        )  # fmt: skip
        alignment = _ends_at_voice(alignment, samples)
    covered = coverage(alignment.sentences, speech)
    warnings = (*extra, *alignment.warnings, *covered.problems)
    alignment = replace(alignment, warnings=warnings, coverage=covered)
    return with_language_doubts(alignment, guess)


def _ends_at_voice(alignment: Alignment, samples: np.ndarray) -> Alignment:
    """The alignment with each stretched last word ending where Silero hears the voice stop
    (pipeline.align.refine.end_at_voice): a few short windows, not the whole episode."""
    sentences = tuple(
        s if (window := voice_window(s)) is None
        else end_at_voice(s, voice_segments(samples, SAMPLE_RATE, *window))
        for s in alignment.sentences
    )  # fmt: skip
    return replace(alignment, sentences=sentences)


def with_language_doubts(alignment: Alignment, guess: LanguageGuess | None) -> Alignment:
    """The alignment with warnings about a guessed or untested language, and every
    confidence capped by how well the language was known (pipeline.whisper.languages)."""
    untested = untested_languages(alignment.audio_language, alignment.text_language)
    doubts = language_warnings(guess, untested)
    ceiling = confidence_ceiling(guess, untested)
    if not doubts:
        return alignment
    sentences = tuple(_capped(s, ceiling) for s in alignment.sentences)
    return replace(alignment, sentences=sentences, warnings=(*doubts, *alignment.warnings))


def _capped(sentence: AlignedSentence, ceiling: float) -> AlignedSentence:
    words = tuple(replace(w, confidence=min(w.confidence, ceiling)) for w in sentence.words)
    return replace(sentence, words=words, confidence=min(sentence.confidence, ceiling))


def _sentence_edges(levels: np.ndarray, activity: np.ndarray) -> list[tuple[float, float]]:
    """Speech regions for snapping sentence edges: finer than the regions above, and only
    loud ones, so a click or breath before a sentence does not pass for its onset
    (real-voice episodes: p90 start error 0.51 s with the coarse regions, 0.23 s with fine
    ones, 0.10 s with fine loud ones)."""
    return loud_regions(regions_from_activity(activity, min_pause=0.15, min_speech=0.2), levels)


def _false_start_regions(levels: np.ndarray, activity: np.ndarray) -> list[tuple[float, float]]:
    """Loud speech regions split at pauses as short as the one after a false start."""
    regions = regions_from_activity(activity, min_pause=FALSE_START_PAUSE, min_speech=0.05)
    return loud_regions(regions, levels)


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


def _detected(model: WhisperModel, samples: np.ndarray) -> LanguageGuess:
    from pipeline.whisper.transcribe import detect_language

    guess = detect_language(model, samples)
    log.info("audio language detected: %s (p=%.2f)", guess.language, guess.probability)
    return guess


def _asr(
    samples: np.ndarray, model: WhisperModel, language: str, options: AlignOptions
) -> Transcription:
    from pipeline.whisper.transcribe import transcribe

    return transcribe(
        samples, model, language, model_name=options.model, vad=options.vad,
        cache_dir=options.cache_dir,
    )  # fmt: skip


def _cross_lingual(
    samples: np.ndarray,
    reference: Reference,
    model: WhisperModel,
    audio_lang: str,
    speech: list[tuple[float, float]],
    fine: list[tuple[float, float]],
    restarts: list[float],
    options: AlignOptions,
) -> Alignment:
    """`fine`: the speech split at pauses as short as the one after a false start;
    `restarts`: the onsets where a speaker said again what they had just broken off."""
    from pipeline.align.crosslingual import align_cross_lingual
    from pipeline.signal.speakers import turn_boundary_candidates

    asr = _asr(samples, model, audio_lang, options)
    # Every ASR word start is a place a turn may change without a pause (a cut-in).
    candidates = turn_boundary_candidates(
        samples, SAMPLE_RATE, also_at=[w.start for w in asr.words]
    )
    floor = first_speech(samples, SAMPLE_RATE)
    after_jingle = [(max(a, floor), b) for a, b in speech if b > floor]
    return align_cross_lingual(reference, asr, after_jingle, candidates, fine, restarts)


def asr_only_alignment(asr: Transcription, language: str) -> Alignment:
    """Subtitles from the speech recognition alone, for episodes without a transcript."""
    sentences: list[AlignedSentence] = []
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


# A sentence "said" faster than this many characters a second was squeezed in by the
# aligner where it ran out of audio, not heard: read speech runs 10-20 (PLAUSIBLE_CPS).
_SQUEEZED_CPS = PLAUSIBLE_CPS[1]
# Added to a sentence's span before judging its speed: a short "Ja." snapped to 0.1 s of
# speech is quick, not squeezed.
_SQUEEZE_SLACK_SECONDS = 0.5
# The aligners' own confidence threshold for placed-but-not-heard text.
_UNHEARD_CONFIDENCE = UNHEARD_PROBABILITY
# Text kept with --keep-unheard has no timing evidence at all: every viewer marks it unsure.
KEPT_UNHEARD_CONFIDENCE = 0.0


def unheard_positions(alignment: Alignment) -> list[int]:
    """Positions in alignment.sentences of text the audio lacks: untimed or unheard
    sentences (the same-language aligner gives them a confidence near 0) and sentences
    squeezed into far less time than anyone takes to say them (any aligner)."""
    if alignment.mode == "asr-only":  # Whisper's own words were heard by definition
        return []
    out = []
    for position, sentence in enumerate(alignment.sentences):
        span = sentence.end - sentence.start + _SQUEEZE_SLACK_SECONDS
        squeezed = len(sentence.text) / span > _SQUEEZED_CPS
        unsure = alignment.mode == "same-language" and sentence.confidence < _UNHEARD_CONFIDENCE
        if squeezed or unsure:
            out.append(position)
    return out


def heard_only(alignment: Alignment, *, keep: bool = False) -> Alignment:
    """The alignment without the text the audio lacks (kept, marked unsure, with keep),
    and one warning per run of it naming its sentences and where they would have been."""
    positions = unheard_positions(alignment)
    if not positions:
        return alignment
    sentences, unheard = alignment.sentences, set(positions)
    if keep:
        kept = [_capped(s, KEPT_UNHEARD_CONFIDENCE) if i in unheard else s
                for i, s in enumerate(sentences)]  # fmt: skip
    else:
        kept = [s for i, s in enumerate(sentences) if i not in unheard]
    what = (
        "kept in the subtitles, marked unsure"
        if keep
        else "left out of the subtitles (--keep-unheard keeps them, marked unsure)"
    )
    notes = [
        f"sentences {numbered_ranges(run)} ({time_range(start, end)}) were not heard "
        f"in the audio: {what}"
        for run, start, end in _unheard_runs(alignment, positions)
    ]
    superseded = (UNTIMED_WARNING, UNHEARD_WARNING)
    others = [w for w in alignment.warnings if not any(m in w for m in superseded)]
    return replace(alignment, sentences=tuple(kept), warnings=(*others, *notes))


def _unheard_runs(
    alignment: Alignment, positions: list[int]
) -> list[tuple[list[int], float, float]]:
    """(sentence indices, from, to) per run of consecutive unheard positions: from the end
    of the heard sentence before to the start of the one after (or the audio's end)."""
    sentences, runs = alignment.sentences, []
    run = [positions[0]]
    for position in [*positions[1:], None]:
        if position is not None and position == run[-1] + 1:
            run.append(position)
            continue
        start = sentences[run[0] - 1].end if run[0] > 0 else 0.0
        after = run[-1] + 1
        end = sentences[after].start if after < len(sentences) else alignment.duration
        runs.append(([sentences[i].index for i in run], start, max(start, end)))
        if position is not None:
            run = [position]
    return runs
