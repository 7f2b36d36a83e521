"""Typed records passed between the pipeline's stages.

Data flows one way: audio and text in, these records between stages, files out.
Aligner-side times are float seconds (what Whisper gives); subtitle cues are
integer milliseconds (what subtitle formats store), as in pysubs2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# How an episode's text met its audio: the reference on speech in its own language, the
# reference on speech in another, or no reference (Whisper's own words).
AlignmentMode = Literal["same-language", "cross-lingual", "asr-only"]
# A sentence or cue timed with less confidence than this is unsure: the log counts such
# cues, the aligners warn with their times, and the preview page marks them.
LOW_CONFIDENCE = 0.5

# --- reference transcript (pipeline.inputs.transcript) -------------------------------


@dataclass(frozen=True)
class Turn:
    """One speaker's uninterrupted stretch of the reference transcript."""

    speaker: str | None  # None: the transcript names no speaker
    sentences: tuple[str, ...]
    # A time stamp the transcript gave by the turn (seconds): a weak hint, never trusted
    # over the audio; not part of what the turn is.
    start_hint: float | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Reference:
    """A reference transcript as speaker turns of sentences, headers removed."""

    turns: tuple[Turn, ...]
    language: str | None = None  # ISO 639-1 guessed from the text ("sv", "fi"), or None

    @property
    def sentences(self) -> tuple[RefSentence, ...]:
        out: list[RefSentence] = []
        for turn_index, turn in enumerate(self.turns):
            for text in turn.sentences:
                out.append(RefSentence(len(out), turn_index, turn.speaker, text))
        return tuple(out)


@dataclass(frozen=True)
class RefSentence:
    index: int  # position among all sentences of the transcript
    turn: int  # index of its turn
    speaker: str | None
    text: str


# --- speech recognition (pipeline.whisper.transcribe) ---------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcription:
    language: str
    language_probability: float
    duration: float
    segments: tuple[Segment, ...]

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)


# --- alignment (pipeline.align.refine) ------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """What share of the speech and of the text is well aligned, and the stretches that
    are not: each a warning naming its times."""

    speech_seconds: float
    speech_well_aligned: float  # seconds of speech under well-aligned sentences
    words: int
    words_well_aligned: int
    problems: tuple[str, ...]

    @property
    def speech_share(self) -> float:
        return self.speech_well_aligned / self.speech_seconds if self.speech_seconds else 1.0

    @property
    def text_share(self) -> float:
        return self.words_well_aligned / self.words if self.words else 1.0

    def summary(self) -> str:
        return (
            f"well aligned: {100 * self.speech_share:.0f} % of the speech "
            f"({self.speech_well_aligned:.0f} of {self.speech_seconds:.0f} s), "
            f"{100 * self.text_share:.0f} % of the text "
            f"({self.words_well_aligned} of {self.words} words)"
        )


@dataclass(frozen=True)
class AlignedWord:
    text: str
    start: float
    end: float
    confidence: float = 1.0  # 0..1; low where the timing was interpolated, not heard


@dataclass(frozen=True)
class AlignedSentence:
    index: int
    turn: int
    speaker: str | None
    text: str
    words: tuple[AlignedWord, ...]
    confidence: float = 1.0

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


@dataclass(frozen=True)
class Alignment:
    """Every reference sentence with a time, in order, plus what the aligner noticed."""

    sentences: tuple[AlignedSentence, ...]
    duration: float  # of the audio, seconds
    mode: AlignmentMode
    audio_language: str | None = None
    text_language: str | None = None
    warnings: tuple[str, ...] = field(default=())
    coverage: Coverage | None = None  # with a reference transcript (pipeline.align.coverage)


# --- subtitles (pipeline.subtitles.cues, pipeline.subtitles.writers) ---


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]  # at most 2 lines of at most 42 characters each, where possible
    speaker: str | None = None
    confidence: float = 1.0
    words: tuple[AlignedWord, ...] = ()  # the words shown, with their own times

    @property
    def text(self) -> str:
        return "\n".join(self.lines)
