"""Read a reference transcript (plain text, PDF extraction, WebVTT or SRT) into speaker turns.

Plain text: a line starting with a short capitalised name and a colon (`Lehtinen:`) starts
a turn; unlabelled paragraphs continue the previous speaker. Headers (`Podcast:` title,
`Länk till podcasten…: <url>`), bare URL lines and PDF page-break debris are dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import srt
import webvtt

from pipeline.errors import PodalignError
from pipeline.records import Reference, Turn

log = logging.getLogger(__name__)

# 1–3 words (letters, hyphens, apostrophes; no digits) then a colon; _speaker_label
# checks the capitals, which `re` cannot express for all of Unicode.
_NAME_WORD = r"[^\W\d_]+(?:[-'’][^\W\d_]+)*"
_LABEL = re.compile(rf"^\s*(?P<name>{_NAME_WORD}(?: {_NAME_WORD}){{0,2}}):(?:\s+|$)(?P<rest>.*)$")
# Label-shaped header words that are never speakers.
_HEADER_WORDS = {"podcast", "podd", "avsnitt", "episode", "jakso", "title", "titel", "otsikko"}
_URL = re.compile(r"<?(?:https?://|www\.)\S*>?")
# A wrapped URL's later pieces: no spaces, ends the line; "user-" style breaks continue it.
_URL_PIECE = re.compile(r"^\S*[/?=&]\S*$")
_URL_BREAKS = ("-", "/", "?", "=", "&", "_", ".", "%")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))

_SENTENCE_END = re.compile(r"[.?!…]+[\"'”’»)\]]* ")
_OPENERS = "\"'“”‘’«»([-–—"
# Lower-case forms that never end a sentence, even before a capital ("t.ex. Helsingfors");
# "etc.", "osv.", "m.fl." do end sentences, so a capital after them does split.
_ABBREVIATIONS = {
    "t.ex.", "bl.a.", "dvs.", "d.v.s.", "ns.", "mm.", "fr.o.m.", "t.o.m.", "s.k.", "jfr.",
    "esim.", "ym.", "ks.", "vrt.", "n.", "ca.", "kl.", "nr.", "resp.", "dr.", "tri.", "prof.",
    "mr.", "mrs.", "ms.",
}  # fmt: skip

_STOPWORDS = {
    "sv": {"och", "att", "det", "är", "som", "en", "på", "för", "med", "inte"},
    "fi": {"ja", "on", "että", "ei", "se", "mutta", "kun", "niin", "myös"},
    "en": {"the", "and", "of", "to", "is", "that", "it", "you", "this", "with", "are", "was"},
}


def read_reference(path: Path) -> Reference:
    """The transcript at `path`: `.vtt`/`.srt` cue texts, anything else as UTF-8 plain text."""
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".vtt":
        pieces = _vtt_pieces(text, path)
    elif suffix == ".srt":
        pieces = _srt_pieces(text, path)
    else:
        return parse_reference(text, source=str(path))
    return _reference_from_pieces(pieces, source=str(path))


def parse_reference(text: str, source: str = "the transcript") -> Reference:
    """Turns of sentences from plain transcript text (see the module docstring for the rules)."""
    return _reference_from_pieces(_text_pieces(text), source=source)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, whitespace-normalised, punctuation kept; never empty strings."""
    flat = " ".join(text.split())
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(flat):
        following = flat[match.end() : match.end() + 1]
        if not (following.isupper() or following.isdigit() or following in _OPENERS):
            continue
        if _ends_with_abbreviation(flat[start : match.end() - 1]):
            continue
        sentences.append(flat[start : match.end() - 1])
        start = match.end()
    if start < len(flat):
        sentences.append(flat[start:])
    return sentences


def guess_text_language(text: str) -> str | None:
    """ "sv", "fi" or "en" when the stopwords say so clearly, else None."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < 3:  # "Ja, verkligen." says nothing reliable
        return None
    scores = {lang: sum(w in stops for w in words) for lang, stops in _STOPWORDS.items()}
    # å is Swedish, never Finnish; double vowels and y-umlaut clusters lean Finnish.
    scores["sv"] += 0.5 * sum("å" in w for w in words)
    scores["fi"] += 0.25 * sum(bool(re.search(r"(aa|ää|ii|uu|yy|öö)", w)) for w in words)
    best, second = sorted(scores.values(), reverse=True)[:2]
    if best < max(1.0, 0.05 * len(words)) or best < 1.5 * second:
        return None
    return max(scores, key=lambda lang: scores[lang])


def _ends_with_abbreviation(sentence: str) -> bool:
    last_word = sentence.rsplit(" ", 1)[-1]
    stripped = last_word.lstrip(_OPENERS)
    is_initial = len(stripped) == 2 and stripped[0].isupper() and stripped[1] == "."
    return is_initial or stripped.lower() in _ABBREVIATIONS


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PodalignError(f"{path}: no such transcript file; check the path") from None
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


def _text_pieces(text: str) -> list[tuple[str | None, str]]:
    """(speaker, or None to continue the previous one; paragraph text) per paragraph."""
    pieces: list[tuple[str | None, str]] = []
    in_paragraph = in_wrapped_url = in_header = False
    for raw_line in text.translate(_INVISIBLE).replace("**", "").splitlines():
        line = " ".join(raw_line.split())
        if in_wrapped_url and _URL_PIECE.match(line):
            in_wrapped_url = line.endswith(_URL_BREAKS)
            continue
        in_wrapped_url = False
        label = _speaker_label(line)
        if not line or (label and label["name"].lower() in _HEADER_WORDS):
            # A header's wrapped title lines belong to it, up to a blank line or a speaker.
            in_paragraph, in_header = False, bool(line)
        elif in_header and not label:
            continue
        elif _is_link_line(line):
            # Dropped without ending the paragraph: PDFs repeat the link mid-turn at page ends.
            in_wrapped_url = line.endswith(_URL_BREAKS)
        elif label:
            pieces.append((label["name"], label["rest"]))
            in_paragraph, in_header = True, False
        elif in_paragraph:
            pieces[-1] = (pieces[-1][0], f"{pieces[-1][1]} {line}")
        else:
            pieces.append((None, line))
            in_paragraph = True
    return pieces


def _speaker_label(line: str) -> re.Match[str] | None:
    label = _LABEL.match(line)
    if label and all(word[0].isupper() for word in label["name"].split()):
        return label
    return None


def _is_link_line(line: str) -> bool:
    """A bare URL, or a `Some caption: <url>` header line."""
    without_urls = _URL.sub("", line).strip()
    has_url = without_urls != line
    return has_url and (not without_urls or without_urls.endswith(":"))


def _reference_from_pieces(pieces: Iterable[tuple[str | None, str]], source: str) -> Reference:
    # A turn's paragraphs (or cues) are joined before splitting: page breaks and cue
    # boundaries cut sentences anywhere, even before a capitalised name.
    turns: list[tuple[str | None, list[str]]] = []
    for speaker, text in pieces:
        if turns and (speaker is None or speaker == turns[-1][0]):
            turns[-1][1].append(text)
        else:
            turns.append((speaker, [text]))
    merged = _merged_turns(turns)
    if not merged:
        raise PodalignError(
            f"{source} has no transcript text (empty or only headers); give the spoken text"
        )
    all_text = " ".join(sentence for turn in merged for sentence in turn.sentences)
    reference = Reference(tuple(merged), language=guess_text_language(all_text))
    log.info(
        "%s: %d turns, %d sentences, language %s",
        source,
        len(reference.turns),
        len(reference.sentences),
        reference.language,
    )
    return reference


def _merged_turns(turns: list[tuple[str | None, list[str]]]) -> list[Turn]:
    """Turns with sentences; a speaker whose label had no text no longer separates turns."""
    merged: list[Turn] = []
    for speaker, texts in turns:
        sentences = tuple(split_sentences(" ".join(texts)))
        if sentences and merged and merged[-1].speaker == speaker:
            merged[-1] = Turn(speaker, merged[-1].sentences + sentences)
        elif sentences:
            merged.append(Turn(speaker, sentences))
    return merged


_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]*>")


def _cue_pieces(cue_text: str) -> list[tuple[str | None, str]]:
    """A cue's text split at `<v Name>` spans or a leading `Name:` label."""
    parts = _VOICE.split(cue_text)
    pieces: list[tuple[str | None, str]] = []
    if parts[0].strip():
        pieces.extend(_text_pieces(_TAG.sub("", parts[0])))
    for name, text in zip(parts[1::2], parts[2::2], strict=True):
        pieces.append((" ".join(name.split()), " ".join(_TAG.sub("", text).split())))
    return pieces


def _vtt_pieces(text: str, path: Path) -> list[tuple[str | None, str]]:
    try:
        captions = webvtt.from_string(text)
    except Exception as exc:  # webvtt raises several unrelated types for bad files
        raise PodalignError(
            f"{path} is not a valid WebVTT file ({exc}); check its format"
        ) from None
    return [piece for caption in captions for piece in _cue_pieces(caption.raw_text)]


def _srt_pieces(text: str, path: Path) -> list[tuple[str | None, str]]:
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise PodalignError(f"{path} is not a valid SRT file ({exc}); check its format") from None
    return [piece for subtitle in subtitles for piece in _cue_pieces(subtitle.content)]
