"""Every file form podalign reads or writes, declared once: its key, suffixes, MIME types
(the first is the type the podcast namespace's `<podcast:transcript type=...>` names),
whether the namespace calls it captions, and its reader and writer.

The subtitle formats (vtt, srt, json) are read as reference transcripts and written;
the transcript forms (plain text, HTML, Word, PDF) are only read. The readers live in
pipeline.inputs.transcript_forms, the writers in pipeline.subtitles.writers: this table is
where both ends meet, so adding a form is one row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PodalignError
from pipeline.inputs import transcript_forms as read
from pipeline.inputs.transcript_labels import TextReading
from pipeline.records import Cue
from pipeline.subtitles import writers as write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    key: str  # as --format, reports and the logs name it
    name: str  # as a person says it
    suffixes: tuple[str, ...]  # the first is the one podalign writes
    mime_types: tuple[str, ...]
    read: Callable[[Path], TextReading]
    writer: write.Writer | None = None
    captions: bool = False  # timed for display: the namespace's rel="captions"

    @property
    def suffix(self) -> str:
        return self.suffixes[0]

    @property
    def mime_type(self) -> str:
        return self.mime_types[0]


# The written formats first, in the order podalign lists them.
FORMATS: tuple[Format, ...] = (
    Format("vtt", "WebVTT", (".vtt", ".webvtt"), ("text/vtt",), read.read_vtt,
           write.WebVTTWriter(), captions=True),
    Format("srt", "SRT", (".srt",), ("application/x-subrip", "application/srt", "text/srt"),
           read.read_srt, write.SRTWriter(), captions=True),
    Format("json", "Podcasting 2.0 JSON", (".json",), ("application/json",), read.read_json,
           write.TranscriptJSONWriter()),
    Format("txt", "plain text", (".txt",), ("text/plain",), read.read_plain),
    Format("html", "HTML", (".html", ".htm"), ("text/html",), read.read_html),
    Format("docx", "Word document", (".docx",),
           ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
           read.read_docx),
    Format("pdf", "PDF", (".pdf",), ("application/pdf",), read.read_pdf),
)  # fmt: skip
BY_KEY = {f.key: f for f in FORMATS}
SUBTITLE_FORMATS = {f.key: f for f in FORMATS if f.writer is not None}
PLAIN_TEXT = BY_KEY["txt"]  # a transcript of any other suffix is read as plain text
TRANSCRIPT_SUFFIXES = tuple(suffix for f in FORMATS for suffix in f.suffixes)


def subtitle_choices() -> str:
    return ", ".join(SUBTITLE_FORMATS)


def form_of(path: Path) -> Format:
    """The form a transcript file is read as, by its suffix (any case)."""
    return _by_suffix(path) or PLAIN_TEXT


def form_for_type(mime_type: str | None) -> Format | None:
    """The form a `<podcast:transcript type=...>` names ("text/html; charset=utf-8"), if read."""
    bare = (mime_type or "").split(";")[0].strip().lower()
    return next((f for f in FORMATS if bare in f.mime_types), None)


def format_of_suffix(path: Path) -> str | None:
    """The subtitle format a file name's suffix names, in any case (x.SRT: "srt"), or None."""
    found = _by_suffix(path)
    return found.key if found is not None and found.writer is not None else None


def format_for_path(path: Path) -> str:
    """The subtitle format a file name asks for, from its suffix."""
    fmt = format_of_suffix(path)
    if fmt is None:
        suffix = Path(path).suffix.lower().lstrip(".")
        raise PodalignError(
            f"cannot tell the subtitle format of {path}: the suffix {suffix or '(none)'!r} "
            f"is not one of {subtitle_choices()}; end the name with one of them or name the "
            "format"
        )
    return fmt


def render_subtitles(cues: Sequence[Cue], fmt: str, *, title: str | None = None) -> str:
    """The cues as the text of a subtitle file in the format ("vtt", "srt", "json")."""
    found = SUBTITLE_FORMATS.get(fmt.lower().lstrip("."))
    if found is None or found.writer is None:
        raise PodalignError(f"unknown subtitle format {fmt!r}: choose one of {subtitle_choices()}")
    return found.writer.render(cues, title=title)


def write_subtitles(
    cues: Sequence[Cue], path: Path, fmt: str | None = None, *, title: str | None = None
) -> Path:
    """Render the cues in the format (or the one the suffix names) and write them atomically."""
    path = Path(path)
    fmt = format_for_path(path) if fmt is None else fmt
    write.publish_files({path: render_subtitles(cues, fmt, title=title)})
    log.info("wrote %d cues as %s to %s", len(cues), fmt, path)
    return path


def _by_suffix(path: Path) -> Format | None:
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS if suffix in f.suffixes), None)
