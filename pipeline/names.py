"""Safe file names from untrusted text (feed titles, GUIDs).

A feed is written by someone else: a title like "../../etc/passwd" or "CON" must become a
plain file name inside the output folder, never a path and never a hidden or odd file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Letters NFKD does not split into a base letter and a mark.
_TRANSLITERATE = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d"}
)
# Names Windows refuses whatever the extension: output folders get copied there.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}


def slugify(text: str, max_length: int = 60) -> str:
    """Return a lower-case ASCII slug of text ("Hälsa & motion!" -> "halsa-motion"), or ""."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLITERATE))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_only).strip("-")
    return slug[:max_length].rstrip("-")


def short_hash(text: str, length: int = 8) -> str:
    """Return a short stable hex digest of text, to tell apart names that slug alike."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def safe_stem(title: str | None, fallback: str) -> str:
    """Return a file stem from a title: only [a-z0-9-], never empty, reserved or hidden.

    fallback (a GUID or URL) is hashed when the title gives no usable slug.
    """
    slug = slugify(title or "")
    if not slug or slug in _RESERVED:
        slug = f"episode-{short_hash(fallback)}" if not slug else f"{slug}-{short_hash(fallback)}"
    return slug


def printable(text: str) -> str:
    """Return text fit for a terminal line: control and format characters (ANSI escapes,
    bidi overrides, newlines) from a feed dropped or turned into spaces."""
    cleaned = "".join(
        " " if c in "\t\r\n" else c for c in text if c in "\t\r\n" or not _is_control(c)
    )
    return " ".join(cleaned.split())


def _is_control(char: str) -> bool:
    return unicodedata.category(char)[0] == "C"
