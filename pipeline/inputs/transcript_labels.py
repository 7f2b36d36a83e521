"""Speaker labels in transcript text, in the forms they are written in the wild.

A line starting with a label starts a turn: `Lehtinen:`, `Eila Linnanmäki (THL):`,
`Dr. Satu Lehtinen:`, `LEHTINEN:`, `**Lehtinen:**`, `- Lehtinen:`, `Talare 1:`,
`SPEAKER_00:`, `[00:01:23] Lehtinen:`, `Lehtinen (00:01:23):`, or a line holding only a name
and a time stamp (`Lehtinen  00:01:23`), the text following on the next line. Unlabelled
paragraphs continue the previous speaker. Headers (`Podcast:` title, `Länk till
podcasten…: <url>`), bare URL lines and time-stamp lines are dropped, and counted. Time
stamps are never text: they are kept as weak hints on the piece they stand by.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Letters, hyphens, apostrophes; no digits. A name is 1-3 such words, all capitalised (checked
# in _speaker_name: `re` cannot express capitals for all of Unicode), optionally numbered.
_NAME_WORD = r"[^\W\d_]+(?:[-'’][^\W\d_]+)*"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# Titles before a name are dropped from the voice: "Dr. Satu Lehtinen" speaks as Satu Lehtinen.
_TITLES = r"(?:Dr|Prof|Doc|Dos|Tri|Fil|Med|Mr|Mrs|Ms|Mx|Herr|Fru|Sir)\.?"
_LABEL = re.compile(
    rf"^(?:[\[(]?(?P<lead_time>{_TIME})[\])]?\s+)?"
    rf"(?:{_TITLES}\s+)*"
    rf"[*_]?(?P<name>{_NAME_WORD}(?: {_NAME_WORD}){{0,2}}(?P<number>[ _]\d{{1,3}})?)[*_]?"
    rf"(?:\s*[\[(](?P<paren>[^\])]{{1,40}})[\])])?"
    rf"(?:\s+[\[(]?(?P<time>{_TIME})[\])]?)?"
    rf"\s*(?P<colon>:)?[*_]?(?:\s+|$)(?P<rest>.*)$"
)
# Generic roles that transcription services and anonymised transcripts number
# ("Talare 1", "Speaker 2", "Puhuja 3"): numbered, they are labels even written once, in
# any case. Other numbered names ("Agent 007:", "Kl 10:") must recur to count as labels.
_ROLE_WORDS = {
    "talare", "speaker", "puhuja", "host", "guest", "gäst", "värd", "intervjuare",
    "interviewer", "haastattelija", "haastateltava", "toimittaja", "juontaja", "reporter",
    "moderator", "deltagare", "osallistuja", "person", "henkilö", "voice", "röst", "ääni",
    "respondent", "spk", "spkr", "programledare", "redaktör",
}  # fmt: skip
_MIN_NUMBERED_REPEATS = 2
# Label-shaped header words that are never speakers.
_HEADER_WORDS = {
    "podcast", "podd", "avsnitt", "episode", "jakso", "title", "titel", "otsikko",
    "transcript", "transkription", "litterering", "datum", "date", "päivämäärä",
}  # fmt: skip
_TIME_LINE = re.compile(rf"^[\[(]?(?P<time>{_TIME})[\])]?$")
_BRACKETED_TIME = re.compile(rf"\s*[\[(]{_TIME}[\])]\s*")
_LIST_MARKER = re.compile(r"^(?:[-*•+]|#{1,6})\s+")
_URL = re.compile(r"<?(?:https?://|www\.)\S*>?")
# A wrapped URL's later pieces: no spaces, ends the line; "user-" style breaks continue it.
_URL_PIECE = re.compile(r"^\S*[/?=&]\S*$")
_URL_BREAKS = ("-", "/", "?", "=", "&", "_", ".", "%")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# What a speaker label in a form not read here looks like: up to four capitalised words or
# numbers at the start of a line, then a colon, '>' or a dash ("Lehtinen - Hej.", "<Anna> Hej",
# "1. Anna: Hej"). Seen on two lines or more, it is reported with an example.
_LABEL_SHAPE = re.compile(
    r"^(?:\d+[.)]\s+)?[<\[(]?(?P<words>[\w.'’#-]+(?: [\w.'’#-]+){0,3})[>\])]?\s*(?::|>|[-–—])\s+\S"
)


@dataclass(frozen=True)
class Piece:
    """A paragraph (or cue) of transcript text and who speaks it."""

    speaker: str | None  # None: the previous speaker goes on
    text: str
    time: float | None = None  # a time stamp the transcript gave here: a weak hint


@dataclass(frozen=True)
class TextReading:
    """Pieces read from transcript text, and what was left out of them."""

    pieces: tuple[Piece, ...]
    dropped: Counter[str] = field(default_factory=Counter)  # kind of line -> lines
    unread_label: str | None = None  # a line that looks like a speaker label not read as one


@dataclass(frozen=True)
class _Label:
    name: str
    rest: str
    time: float | None


def seconds_of(stamp: str) -> float:
    """Seconds in a time stamp: "01:23" -> 83.0, "1:02:03,5" -> 3723.5."""
    parts = stamp.replace(",", ".").split(":")
    return sum(float(p) * 60**i for i, p in enumerate(reversed(parts)))


def clean_line(raw_line: str) -> str:
    """A line with invisible characters, markdown emphasis and list markers gone, and its
    whitespace normalised."""
    line = " ".join(raw_line.translate(_INVISIBLE).replace("**", "").replace("__", "").split())
    return _LIST_MARKER.sub("", line)


def text_pieces(text: str) -> TextReading:
    """Pieces of plain transcript text, one per paragraph (see the module docstring)."""
    lines = [clean_line(raw) for raw in text.splitlines()]
    matches = [_LABEL.match(line) for line in lines]
    repeated = _repeated_numbered_names(matches)
    pieces: list[Piece] = []
    dropped: Counter[str] = Counter()
    unread: list[str] = []
    in_paragraph = in_wrapped_url = in_header = False
    pending_time: float | None = None
    for line, match in zip(lines, matches, strict=True):
        if in_wrapped_url and _URL_PIECE.match(line):
            in_wrapped_url = line.endswith(_URL_BREAKS)
            dropped["link"] += 1
            continue
        in_wrapped_url = False
        label = _label(match, repeated)
        if not line:
            in_paragraph = in_header = False
        elif label and label.name.lower() in _HEADER_WORDS:
            # A header's wrapped title lines belong to it, up to a blank line or a speaker.
            in_paragraph, in_header = False, True
            dropped["header"] += 1
        elif in_header and not label:
            dropped["header"] += 1
        elif time_line := _TIME_LINE.match(line):
            dropped["time stamp"] += 1
            last = pieces[-1] if pieces else None
            if last and last.speaker and not last.text and last.time is None:
                # `<cite>Name:</cite> <time>…</time>`: the time of the label just read.
                pieces[-1] = Piece(last.speaker, "", seconds_of(time_line["time"]))
            else:
                pending_time = seconds_of(time_line["time"])
        elif _is_link_line(line):
            # Dropped without ending the paragraph: PDFs repeat the link mid-turn at page ends.
            in_wrapped_url = line.endswith(_URL_BREAKS)
            dropped["link"] += 1
        elif label:
            time = label.time if label.time is not None else pending_time
            pieces.append(Piece(label.name, _without_times(label.rest), time))
            in_paragraph, in_header, pending_time = True, False, None
        elif in_paragraph:
            last = pieces[-1]
            pieces[-1] = Piece(last.speaker, f"{last.text} {_without_times(line)}", last.time)
        else:
            pieces.append(Piece(None, _without_times(line), pending_time))
            in_paragraph, pending_time = True, None
        if line and not label and _looks_like_label(line):
            unread.append(line)
    example = unread[0] if len(unread) >= 2 else None
    return TextReading(tuple(p for p in pieces if p.text or p.speaker), dropped, example)


def _label(match: re.Match[str] | None, repeated: set[str]) -> _Label | None:
    """The speaker label a line starts with, or None when it is text."""
    if match is None:
        return None
    stamps = [match["lead_time"], match["time"]]
    paren = match["paren"]
    if paren and _TIME_LINE.match(paren):
        stamps.append(paren)
    elif paren and not _is_affiliation(paren):
        return None
    stamp = next((s for s in stamps if s), None)
    # Without a colon only a name and a time stamp alone on their line make a label.
    if not match["colon"] and (stamp is None or match["rest"]):
        return None
    name = _speaker_name(match, repeated)
    if name is None:
        return None
    return _Label(name, match["rest"].strip(), seconds_of(stamp) if stamp else None)


def _is_affiliation(paren: str) -> bool:
    """ "THL", "Institutet för hälsa", "värd": a short note on who speaks, not a sentence."""
    return len(paren.split()) <= 5 and not re.search(r"[.?!:]", paren)


def _speaker_name(match: re.Match[str], repeated: set[str]) -> str | None:
    words = match["name"].replace("_", " ").split()
    if match["number"]:
        base = " ".join(words[:-1]).lower()
        if base in _ROLE_WORDS:  # a label in any case: "speaker 1:" speaks as "Speaker 1"
            name = match["name"]
            return " ".join(_unshouted(word) for word in (name[0].upper() + name[1:]).split())
        if base not in repeated:
            return None
        words = words[:-1]
    if not all(word[0].isupper() for word in words):
        return None
    return " ".join(_unshouted(word) for word in match["name"].split())


def _unshouted(word: str) -> str:
    """ "LEHTINEN" -> "Lehtinen"; "SPEAKER_00", "Talare", "1" are kept as written."""
    if len(word) > 1 and all(part.isalpha() and part.isupper() for part in word.split("-")):
        return "-".join(part.capitalize() for part in word.split("-"))
    return word


def _repeated_numbered_names(matches: list[re.Match[str] | None]) -> set[str]:
    """Bases of numbered names starting at least two lines ("Gäst 1", "Gäst 2": "gäst")."""
    bases = Counter(
        " ".join(m["name"].replace("_", " ").split()[:-1]).lower()
        for m in matches
        if m and m["number"] and m["colon"]
    )
    return {base for base, count in bases.items() if count >= _MIN_NUMBERED_REPEATS}


def _without_times(text: str) -> str:
    """Text with bracketed time stamps taken out: "[00:01:23]" is never spoken."""
    return " ".join(_BRACKETED_TIME.sub(" ", text).split())


def _is_link_line(line: str) -> bool:
    """A bare URL, or a `Some caption: <url>` header line."""
    without_urls = _URL.sub("", line).strip()
    has_url = without_urls != line
    return has_url and (not without_urls or without_urls.endswith(":"))


def _looks_like_label(line: str) -> bool:
    shape = _LABEL_SHAPE.match(line)
    if shape is None:
        return False
    words = [w for w in shape["words"].split() if w[0].isalpha()]
    return bool(words) and all(w[0].isupper() for w in words)


def is_speaker_label(line: str) -> bool:
    """Whether a line on its own starts with a speaker label (numbered names only as roles)."""
    return _label(_LABEL.match(clean_line(line)), set()) is not None
