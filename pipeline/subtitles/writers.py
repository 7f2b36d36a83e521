"""Subtitle files from cues: one writer class per format (pipeline.formats names them).

- ``vtt``: WebVTT via webvtt-py. Every cue with a known speaker starts with a voice
  span, ``<v Linnanmäki>``; text and speaker names are escaped (``&`` ``<`` ``>``), so
  ``-->`` can never appear in a payload. Cues are numbered 1, 2, ... as identifiers.
- ``srt``: SRT via the ``srt`` library. SRT has no speaker markup, so, as the podcast
  namespace suggests, the first cue of each speaker's stretch begins ``Speaker: ``; the
  cues that follow carry no label. SRT has no escaping: text is written as is.
- ``json``: the Podcasting 2.0 transcript JSON, one segment per word::

      {"version": "1.0.0",
       "segments": [{"speaker": "Lehtinen", "startTime": 1.23, "endTime": 1.5,
                     "body": "Hej"}, ...]}

  ``speaker`` is left out when unknown; times are seconds rounded to the millisecond,
  kept inside their cue and never going back. The last word of every cue ends in
  ``"\\n"`` (the spec's own example marks a line end this way), so cues can be rebuilt
  by collecting segments up to each newline, with no extra keys to upset validators.
  ``TRANSCRIPT_JSON_SCHEMA`` describes the shape.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import srt
import webvtt

from pipeline.errors import PodalignError
from pipeline.files import publish_together
from pipeline.records import Cue

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line terminators of WebVTT and SRT

TRANSCRIPT_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Podcasting 2.0 transcript (JSON)",
    "type": "object",
    "required": ["version", "segments"],
    "properties": {
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "segments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["startTime", "endTime", "body"],
                "properties": {
                    "speaker": {"type": "string"},
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "body": {"type": "string"},
                },
            },
        },
    },
}


class Writer(Protocol):
    def render(self, cues: Sequence[Cue], *, title: str | None = None) -> str: ...


def _payload_lines(cue: Cue) -> list[str]:
    """The cue's text lines, without empty lines (an empty line would end a cue block)."""
    return [line for text in cue.lines for line in _LINE_BREAK.split(text) if line.strip()]


def _checked(cues: Sequence[Cue]) -> Sequence[Cue]:
    """The cues, if every one has times a subtitle file can hold."""
    for number, cue in enumerate(cues, start=1):
        if not 0 <= cue.start_ms <= cue.end_ms:
            raise ValueError(f"cue {number} has impossible times {cue.start_ms}-{cue.end_ms} ms")
    return cues


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


class WebVTTWriter:
    def render(self, cues: Sequence[Cue], *, title: str | None = None) -> str:
        captions = [
            webvtt.Caption(
                start=vtt_timestamp(cue.start_ms),
                end=vtt_timestamp(cue.end_ms),
                text=self._payload(cue),
                identifier=str(number),
            )
            for number, cue in enumerate(_checked(cues), start=1)
        ]
        # "-->" in the header would be read as a cue timing line
        header = re.sub(r"-{2,}>", "->", _one_line(title))
        return webvtt.WebVTT(captions=captions, header_text=header).content

    @staticmethod
    def _payload(cue: Cue) -> list[str]:
        lines = [escape_cue_text(line) for line in _payload_lines(cue)] or [""]
        speaker = _one_line(cue.speaker)
        if speaker:
            lines[0] = f"<v {escape_cue_text(speaker)}>{lines[0]}"
        return lines


class SRTWriter:
    def render(self, cues: Sequence[Cue], *, title: str | None = None) -> str:
        subtitles = []
        previous: str | None = None
        for number, cue in enumerate(_checked(cues), start=1):
            lines = _payload_lines(cue) or [""]
            speaker = _one_line(cue.speaker) or None
            if speaker and speaker != previous:
                lines[0] = f"{speaker}: {lines[0]}"
            previous = speaker
            subtitles.append(
                srt.Subtitle(
                    number,
                    datetime.timedelta(milliseconds=cue.start_ms),
                    datetime.timedelta(milliseconds=cue.end_ms),
                    "\n".join(lines),
                )
            )
        return srt.compose(subtitles, reindex=False)


class TranscriptJSONWriter:
    def render(self, cues: Sequence[Cue], *, title: str | None = None) -> str:
        segments: list[dict[str, Any]] = []
        floor = 0
        for cue in _checked(cues):
            cue_segments, floor = self._cue_segments(cue, floor)
            segments.extend(cue_segments)
        document = {"version": "1.0.0", "segments": segments}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

    @staticmethod
    def _cue_segments(cue: Cue, floor: int) -> tuple[list[dict[str, Any]], int]:
        """One segment per word of the cue (or one for the whole cue if it has no words)."""
        timed = [(w.text, w.start, w.end) for w in cue.words if _one_line(w.text)]
        if not timed:
            text = " ".join(_payload_lines(cue))
            timed = [(text, cue.start_ms / 1000, cue.end_ms / 1000)]
        segments = []
        for text, start_s, end_s in timed:
            start = min(max(round(start_s * 1000), cue.start_ms, floor), cue.end_ms)
            end = min(max(round(end_s * 1000), start), cue.end_ms)
            segment: dict[str, Any] = {"startTime": start / 1000, "endTime": end / 1000}
            segment["body"] = _one_line(text)
            if cue.speaker is not None:
                segment = {"speaker": cue.speaker, **segment}
            segments.append(segment)
            floor = start
        segments[-1]["body"] += "\n"
        return segments, floor


def vtt_timestamp(ms: int) -> str:
    """HH:MM:SS.mmm, hours always written so cues past an hour read the same."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def escape_cue_text(text: str) -> str:
    """WebVTT cue text with &, < and > as character references."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def publish_files(files: dict[Path, str]) -> list[Path]:
    """Write the files of one result together (pipeline.files.publish_together), with a
    one-line PodalignError when the disk refuses."""
    try:
        return publish_together(files)
    except OSError as err:
        reason = err.strerror or str(err)
        unchanged = "; no output was changed" if len(files) > 1 else ""
        raise PodalignError(
            f"cannot write {', '.join(map(str, files))}: {reason}{unchanged}; "
            "choose a folder that exists, is writable and has room"
        ) from err
