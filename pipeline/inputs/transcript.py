"""Read a reference transcript into speaker turns of sentences.

The file forms (plain text, PDF, Word, Podcasting 2.0 JSON, HTML, WebVTT, SRT) are in
pipeline.inputs.transcript_forms, the speaker labels and dropped lines of text in
pipeline.inputs.transcript_labels. Here the pieces they give become turns: a speaker named two
ways ("Eila Linnanmäki:", then "Linnanmäki:") is one, with the fuller name; a turn's
paragraphs are joined before its sentences are split.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PodalignError
from pipeline.formats import form_of
from pipeline.inputs.transcript_labels import Piece, text_pieces
from pipeline.records import Reference, Turn

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class TranscriptReading:
    """A transcript read from a file, and how it was read (for the logs and for a user)."""

    reference: Reference
    form: str  # "plain text", "PDF", ...
    dropped: Counter[str]  # kind of line left out ("header", "link", ...) -> lines
    unread_label: str | None  # a line whose speaker label could not be read, if any


def read_transcript(path: Path) -> TranscriptReading:
    """The transcript at `path`, read by its suffix's form; logs how it was read."""
    form = form_of(path)
    reading = form.read(path)
    reference = reference_from_pieces(reading.pieces, source=str(path))
    result = TranscriptReading(reference, form.name, reading.dropped, reading.unread_label)
    log_reading(path, result)
    return result


def read_reference(path: Path) -> Reference:
    """The transcript at `path` as turns of sentences (see read_transcript)."""
    return read_transcript(path).reference


def parse_reference(text: str, source: str = "the transcript") -> Reference:
    """Turns of sentences from plain transcript text (see pipeline.inputs.transcript_labels)."""
    return reference_from_pieces(text_pieces(text).pieces, source=source)


def log_reading(path: Path, reading: TranscriptReading) -> None:
    reference = reading.reference
    speakers = list(dict.fromkeys(t.speaker for t in reference.turns if t.speaker))
    dropped = ", ".join(
        f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(reading.dropped.items())
    )
    log.info(
        "%s: read as %s: %d speakers (%s), %d turns, %d sentences, language %s; "
        "lines dropped: %s",
        path, reading.form, len(speakers), ", ".join(speakers) or "none named",
        len(reference.turns), len(reference.sentences), reference.language, dropped or "none",
    )  # fmt: skip
    if reading.unread_label:
        log.warning(
            "%s: lines look like speaker labels but could not be read as any, e.g. %r; "
            "their speakers are not known: write labels as 'Name:' at the start of a line",
            path, reading.unread_label[:80],
        )  # fmt: skip


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
    scores = {lang: float(sum(w in stops for w in words)) for lang, stops in _STOPWORDS.items()}
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


def reference_from_pieces(pieces: Iterable[Piece], source: str) -> Reference:
    """Turns of sentences from pieces; PodalignError when there is no text at all."""
    pieces = list(pieces)
    voices = fuller_names({p.speaker for p in pieces if p.speaker})
    # A turn's paragraphs (or cues) are joined before splitting: page breaks and cue
    # boundaries cut sentences anywhere, even before a capitalised name.
    turns: list[tuple[str | None, list[str], float | None]] = []
    for piece in pieces:
        speaker = voices.get(piece.speaker, piece.speaker) if piece.speaker else None
        if turns and (speaker is None or speaker == turns[-1][0]):
            turns[-1][1].append(piece.text)
        else:
            turns.append((speaker, [piece.text], piece.time))
    merged = _merged_turns(turns)
    if not merged:
        raise PodalignError(
            f"{source} has no transcript text (empty or only headers); give the spoken text"
        )
    all_text = " ".join(sentence for turn in merged for sentence in turn.sentences)
    return Reference(tuple(merged), language=guess_text_language(all_text))


def fuller_names(names: Iterable[str]) -> dict[str, str]:
    """{name: the one fuller name it is short for}: "Linnanmäki" and "Eila" are short for
    "Eila Linnanmäki" when no other name holds them; numbered names ("Talare 1") are never
    short or full forms."""
    word_lists = {name: name.casefold().split() for name in names}
    # "Host" and "Host 2" are two people; "Talare 1" is short for no one.
    named = {name: words for name, words in word_lists.items() if not _numbered(words)}
    fuller: dict[str, str] = {}
    for name, words in named.items():
        holders = [
            other
            for other, other_words in named.items()
            if len(other_words) > len(words) and _holds(other_words, words)
        ]
        longest = max((len(word_lists[h]) for h in holders), default=0)
        widest = [h for h in holders if len(word_lists[h]) == longest]
        if len(widest) == 1 and all(_holds(word_lists[widest[0]], word_lists[h]) for h in holders):
            fuller[name] = widest[0]
    return fuller


def _numbered(words: list[str]) -> bool:
    return any(word.isdigit() or "_" in word for word in words)


def _holds(words: list[str], part: list[str]) -> bool:
    """Whether `part` is a run of whole words in `words`."""
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _merged_turns(turns: list[tuple[str | None, list[str], float | None]]) -> list[Turn]:
    """Turns with sentences; a speaker whose label had no text no longer separates turns."""
    merged: list[Turn] = []
    for speaker, texts, time in turns:
        sentences = tuple(split_sentences(" ".join(texts)))
        if sentences and merged and merged[-1].speaker == speaker:
            previous = merged[-1]
            merged[-1] = Turn(speaker, previous.sentences + sentences, previous.start_hint)
        elif sentences:
            merged.append(Turn(speaker, sentences, time))
    return merged
