"""A lexical bridge from Finnish speech to a Swedish reference: which sentence an ASR word
may translate.

Whisper's Finnish words and the reference's Swedish words are lemmatised (simplemma, no
model download) and looked up in the FreeDict Finnish-Swedish and Swedish-Finnish
dictionaries that Debian ships (dict-freedict-fin-swe, dict-freedict-swe-fin: about 15,000
headwords each, from Wiktionary). An ASR word supports every reference sentence holding a
translation of it, weighted by how rare that translation is in the transcript (`och` is in
every other sentence and says nothing about where one is). A word the dictionaries lack
(a name, a loanword, an inflected form simplemma misses) supports the sentences holding a
word spelt alike (`spelling_key`): "demokraattisella" and "demokratiska", "polohalaisille"
and "polohalerna". Without the dictionaries the bridge is empty and the cross-lingual
aligner falls back on lengths and pauses.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.records import Word

log = logging.getLogger(__name__)

DICTD = Path("/usr/share/dictd")
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TOKEN = re.compile(r"[^\W\d_]+")
MIN_LETTERS = 3  # shorter words ("ja", "on", "i") are function words on both sides
# Words the dictionaries lack are matched on the first letters of their spelling keys: a
# loanword or a name keeps its stem across the languages, Finnish adds its endings after
# it. Conversation tuning pool (conv-fi-sv 1, 2, 6-19): a sentence's own translation the
# unique best of its neighbours' 396 -> 409 of 528 (ASR of the true spans); alignment
# within 0.5 s 85.0 -> 85.2 %, end p90 0.552 -> 0.491 s; check layouts 3-5, 20-29, 35-39:
# 85.9 -> 86.0 %, end p90 0.517 -> 0.506 s. Four letters: 84.8 % (more words alike by
# chance); six: 85.0 %. Matching words the dictionaries do translate too changed nothing.
COGNATE_LETTERS = 5
OPENING_WORDS = 2  # "Och sedan", "Så när": its opening words (1 or 3: the same figures)
# Finnish spells a loanword as it sounds: no b, d, g, c, q, w, z or x of its own, long
# vowels and consonants doubled; Swedish writes "ck" for "kk". The key maps both onto one
# plain spelling.
_PLAIN_LETTERS = str.maketrans("bdgcqwzäöåyé", "ptkkkvsaooie")


def _number(text: str) -> int:
    n = 0
    for ch in text:
        n = n * 64 + _BASE64.index(ch)
    return n


def dictionary_entries(stem: Path) -> Iterator[tuple[str, list[str]]]:
    """(headword, single-word translations) of a dictd dictionary (`stem`.index and
    `stem`.dict.dz), from every sense of the entry (`entry_translations`)."""
    with gzip.open(stem.with_suffix(".dict.dz")) as fh:
        data = fh.read()
    for line in stem.with_suffix(".index").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith("00database"):
            continue
        offset, length = _number(parts[1]), _number(parts[2])
        entry = data[offset : offset + length].decode("utf-8", "replace").splitlines()
        yield parts[0].lower(), entry_translations(entry)


# A sense line of a FreeDict entry: "2. lapp, plomb", where a trailing " 2." numbers the
# sub-senses whose definitions follow ("1. se 2.").
_SENSE = re.compile(r"^\d+\.\s+(\S.*?)(?:\s+\d+\.)?$")


def entry_translations(lines: Sequence[str]) -> list[str]:
    """Single-word translations in a FreeDict entry (its headword line first). An entry of
    one sense has them on the second line; one of several has them on its numbered sense
    lines, each followed by a definition in the headword's language, which is no
    translation. Reading only the second line lost every numbered entry ("1. se 2." was
    one word with a space, so dropped) and every sense after the first: "paikka", "nähdä",
    "tuntua" had no translation at all."""
    senses = [m.group(1) for line in lines[1:] if (m := _SENSE.match(line))]
    texts = senses or lines[1:2]
    words = [w.strip() for text in texts for w in re.split(r"[,;]", text)]
    return [w.lower() for w in words if w and " " not in w]


@cache
def finnish_to_swedish() -> dict[str, frozenset[str]]:
    """Finnish headword -> Swedish words, from both dictionaries; empty without them."""
    pairs: dict[str, set[str]] = defaultdict(set)
    stems = (DICTD / "freedict-fin-swe", DICTD / "freedict-swe-fin")
    if not all(s.with_suffix(".index").is_file() for s in stems):
        log.warning("no FreeDict fin-swe/swe-fin dictionaries in %s: no lexical bridge", DICTD)
        return {}
    for fi, svs in dictionary_entries(stems[0]):
        pairs[fi].update(svs)
    for sv, fis in dictionary_entries(stems[1]):
        for fi in fis:
            pairs[fi].add(sv)
    return {fi: frozenset(svs) for fi, svs in pairs.items()}


@cache
def lemma(word: str, language: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang=language).lower()


def words_of(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text) if len(t) >= MIN_LETTERS]


def swedish_forms(text: str) -> set[str]:
    """A Swedish sentence's words and their lemmas."""
    return _with_lemmas(words_of(text))


def _with_lemmas(swedish: Iterable[str]) -> set[str]:
    return {f for w in swedish for f in (w, lemma(w, "sv"))}


def translations(word: str) -> frozenset[str]:
    """Swedish words a Finnish ASR word may translate to (its form, then its lemma)."""
    for form in words_of(word):
        if found := _translated(form):
            return found
    return frozenset()


def _translated(form: str) -> frozenset[str]:
    """The dictionaries' Swedish for a lower-cased Finnish form, else for its lemma."""
    table = finnish_to_swedish()
    return table.get(form) or table.get(lemma(form, "fi")) or frozenset()


def spelling_key(word: str) -> str:
    """The word spelt plainly (see _PLAIN_LETTERS), doubled letters single:
    "demokraattisella" -> "temokratisela", "tack" -> "tak"."""
    plain = word.lower().replace("ph", "f").replace("th", "t").translate(_PLAIN_LETTERS)
    return re.sub(r"(.)\1+", r"\1", plain)


def cognate_stems(text: str) -> set[str]:
    """The first COGNATE_LETTERS letters of the spelling keys of a text's words of as many
    letters at least. A key shorter than that (its doubled letters made single) is the
    whole word, so it matches only a word of that same key ("Juuta", "Juta")."""
    return {spelling_key(w)[:COGNATE_LETTERS] for w in words_of(text) if len(w) >= COGNATE_LETTERS}


def translates_into(word: str, text: str) -> bool:
    """Whether an ASR word supports a sentence: a translation of it is there, or, for a
    word the dictionaries lack, a word spelt alike (the test `bridge_matrix` weighs)."""
    found = translations(word)
    if found:
        return bool(found & swedish_forms(text))
    return bool(cognate_stems(word) & cognate_stems(text))


def opens_alike(word: str, text: str) -> bool:
    """Whether an ASR word translates into one of a sentence's first OPENING_WORDS words,
    short ones included ("Ja" for "Och", "Nyt" for "Nu"): the words `translations` leaves
    out, as every sentence holds them, say where one sentence begins."""
    found = set().union(*(_translated(t.lower()) for t in _TOKEN.findall(word)))
    return bool(found & _with_lemmas(t.lower() for t in _TOKEN.findall(text)[:OPENING_WORDS]))


def bridge_matrix(texts: Sequence[str], words: Sequence[Word], unit_ends: np.ndarray) -> np.ndarray:
    """(n sentences, m units): the support each unit's ASR words give each sentence, each
    word at most the weight of its rarest translation in that sentence (1 / the number of
    sentences holding it); a word without translations, 1 / the number of sentences
    holding one of its `cognate_stems`."""
    n, m = len(texts), len(unit_ends)
    out = np.zeros((n, m))
    if not finnish_to_swedish() or not n or not m:
        return out
    holders: dict[str, list[int]] = defaultdict(list)
    stem_holders: dict[str, set[int]] = defaultdict(set)
    for i, text in enumerate(texts):
        for form in swedish_forms(text):
            holders[form].append(i)
        for stem in cognate_stems(text):
            stem_holders[stem].add(i)
    for w in words:
        unit = int(np.searchsorted(unit_ends, (w.start + w.end) / 2))
        if unit >= m:
            continue
        support: dict[int, float] = {}
        found = translations(w.text)
        for sv in found:
            for i in holders.get(sv, ()):
                support[i] = max(support.get(i, 0.0), 1.0 / len(holders[sv]))
        if not found:
            alike = set().union(*(stem_holders.get(s, ()) for s in cognate_stems(w.text)))
            support = dict.fromkeys(alike, 1.0 / max(len(alike), 1))
        for i, weight in support.items():
            out[i, unit] += weight
    return out
