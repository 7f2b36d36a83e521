"""The readers of the file forms a reference transcript comes in (pipeline.formats
declares the forms: suffixes, MIME types, and which reader reads each).

Every reader gives pieces of text with their speakers (pipeline.inputs.transcript_labels); forms
with markup of their own (WebVTT voices, JSON speakers, HTML `<cite>`) give speakers from
it, and the text-like forms (plain text, HTML, Word, PDF) go through the label reader.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import srt
import webvtt

from pipeline.errors import PodalignError
from pipeline.inputs.transcript_labels import Piece, TextReading, seconds_of, text_pieces
from pipeline.inputs.transcript_layout import HtmlText, without_page_furniture


def read_plain(path: Path) -> TextReading:
    return text_pieces(_read_text(path))


def read_vtt(path: Path) -> TextReading:
    try:
        captions = webvtt.from_string(_read_text(path))
    except Exception as exc:  # webvtt raises several unrelated types for bad files
        raise PodalignError(
            f"{path} is not a valid WebVTT file ({exc}); check its format"
        ) from None
    return _cue_reading((c.raw_text, seconds_of(c.start)) for c in captions.captions)


def read_srt(path: Path) -> TextReading:
    try:
        subtitles = list(srt.parse(_read_text(path)))
    except srt.SRTParseError as exc:
        raise PodalignError(f"{path} is not a valid SRT file ({exc}); check its format") from None
    return _cue_reading((s.content, s.start.total_seconds()) for s in subtitles)


def read_json(path: Path) -> TextReading:
    """A Podcasting 2.0 transcript: `{"segments": [{"speaker", "startTime", "body"}, ...]}`."""
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise PodalignError(
            f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); give a Podcasting 2.0 "
            "transcript JSON file"
        ) from None
    segments = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segments, list) or not all(
        isinstance(s, dict) and isinstance(s.get("body"), str) for s in segments
    ):
        raise PodalignError(
            f'{path} is JSON but not a Podcasting 2.0 transcript (no "segments" list of '
            '{"body": text}); give the transcript file itself'
        )
    speakers = [" ".join(str(s.get("speaker") or "").split()) or None for s in segments]
    if not any(speakers):  # no speaker fields: the bodies may carry `Name:` labels
        return text_pieces("\n".join(s["body"] for s in segments))
    pieces = (
        Piece(speaker, " ".join(s["body"].split()), _number_or_none(s.get("startTime")))
        for speaker, s in zip(speakers, segments, strict=True)
    )
    return TextReading(tuple(p for p in pieces if p.text))


def read_html(path: Path) -> TextReading:
    """An HTML transcript, as the podcast namespace suggests (`<cite>Name:</cite>`,
    `<time>00:01:23</time>`, `<p>text</p>`) or any web page's text; headings, navigation
    and scripts are not spoken text."""
    parser = HtmlText()
    parser.feed(_read_text(path))
    parser.close()
    reading = text_pieces("".join(parser.out))
    return _with_dropped(reading, Counter({"heading": parser.headings}))


def read_docx(path: Path) -> TextReading:
    """A Word document's paragraphs; its titles and headings are not spoken text."""
    import docx

    _require_file(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises zip, XML and package errors alike
        raise PodalignError(
            f"{path} is not a Word document ({type(exc).__name__}: {exc}); save it from the "
            "word processor as .docx, or give the transcript as plain text"
        ) from None
    paragraphs, headings = [], 0
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Title" or style.startswith(("Heading", "Subtitle")):
            headings += bool(paragraph.text.strip())
        else:
            paragraphs.append(paragraph.text)
    reading = text_pieces("\n\n".join(paragraphs))
    return _with_dropped(reading, Counter({"heading": headings}))


def read_pdf(path: Path) -> TextReading:
    """A PDF's text layer, page by page, without its running headers and page numbers."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    _require_file(path)
    encrypted = (
        f"{path} is an encrypted PDF that needs a password; save a copy without one "
        "(or export the text), and give that"
    )
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PodalignError(encrypted)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (FileNotDecryptedError, DependencyError):
        raise PodalignError(encrypted) from None
    except PodalignError:
        raise
    except Exception as exc:  # pypdf raises its own and plain errors for broken files
        raise PodalignError(
            f"{path} is not a readable PDF ({type(exc).__name__}: {exc}); check the file"
        ) from None
    if not any(page.strip() for page in pages):
        raise PodalignError(
            f"{path} has no text in it, only images (a scanned PDF?); run OCR on it "
            "(e.g. ocrmypdf) or give the transcript as text"
        )
    kept, dropped = without_page_furniture([page.splitlines() for page in pages])
    reading = text_pieces("\n\n".join("\n".join(lines) for lines in kept))
    return _with_dropped(reading, dropped)


# --- helpers -----------------------------------------------------------------------------


def _require_file(path: Path) -> None:
    if not path.exists():
        raise PodalignError(f"{path}: no such transcript file; check the path")
    if not path.is_file():
        raise PodalignError(f"{path} is not a file; give the transcript file")


def _read_text(path: Path) -> str:
    _require_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PodalignError(f"{path}: cannot read the transcript ({exc.strerror})") from None
    if b"\x00" in data:
        raise PodalignError(f"{path} is a binary file, not a transcript; give a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PodalignError(
            f"{path} is not UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8"
        ) from None


def _number_or_none(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _with_dropped(reading: TextReading, more: Counter[str]) -> TextReading:
    dropped = reading.dropped + Counter({k: v for k, v in more.items() if v})
    return TextReading(reading.pieces, dropped, reading.unread_label)


_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]*>")


def _cue_reading(cues: Iterable[tuple[str, float]]) -> TextReading:
    pieces: list[Piece] = []
    dropped: Counter[str] = Counter()
    for text, start in cues:
        reading = _cue_pieces(text, start)
        pieces.extend(reading.pieces)
        dropped += reading.dropped
    return TextReading(tuple(pieces), dropped)


def _cue_pieces(cue_text: str, start: float) -> TextReading:
    """A cue's text split at `<v Name>` spans or a leading `Name:` label."""
    parts = _VOICE.split(cue_text)
    reading = text_pieces(_TAG.sub("", parts[0])) if parts[0].strip() else TextReading(())
    pieces = [Piece(p.speaker, p.text, start) for p in reading.pieces]
    for name, text in zip(parts[1::2], parts[2::2], strict=True):
        pieces.append(Piece(" ".join(name.split()), " ".join(_TAG.sub("", text).split()), start))
    return TextReading(tuple(pieces), reading.dropped)
