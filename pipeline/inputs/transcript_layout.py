"""Layout that is not text, in the forms that have it: a PDF's running headers, footers
and page numbers, and an HTML page's markup (pipeline.inputs.transcript_forms reads the rest)."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

from pipeline.inputs.transcript_labels import clean_line, is_speaker_label

# A PDF's running header or footer repeats at the top or bottom of this share of its pages.
_FURNITURE_SHARE = 0.5
_PAGE_NUMBER = re.compile(
    r"^[-–(]?\s*(?:(?:sida|sidan|sivu|page|s\.|p\.)\s*)?\d{1,4}"
    r"(?:\s*(?:/|av|of|\(|-)\s*\d{1,4}\)?)?\s*[-–)]?$",
    re.IGNORECASE,
)


def without_page_furniture(pages: list[list[str]]) -> tuple[list[list[str]], Counter[str]]:
    """Pages' lines without page numbers and the header/footer lines that recur at the top
    or bottom of pages (a speaker label never counts as one). A header on one page only
    cannot be told from text this way, and is read as text."""
    edges = [_edge_indices(lines) for lines in pages]
    recurring = Counter(
        shape
        for lines, edge in zip(pages, edges, strict=True)
        for shape in {_shape(lines[i]) for i in edge}
    )
    needed = max(2, _FURNITURE_SHARE * len(pages))
    furniture = {shape for shape, n in recurring.items() if n >= needed}
    dropped: Counter[str] = Counter()
    kept_pages = []
    for lines, edge in zip(pages, edges, strict=True):
        kept = []
        for index, line in enumerate(lines):
            if index in edge and _PAGE_NUMBER.match(line.strip()):
                dropped["page number"] += 1
            elif index in edge and _shape(line) in furniture and not is_speaker_label(line):
                dropped["page header"] += 1
            else:
                kept.append(line)
        kept_pages.append(kept)
    return kept_pages, dropped


# Running headers and footers are at most this many lines at either end of a page.
_EDGE_LINES = 2


def _edge_indices(lines: list[str]) -> set[int]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:])


def _shape(line: str) -> str:
    """A line with its numbers masked: "Sida 2 av 5" and "Sida 3 av 5" recur as one."""
    return re.sub(r"\d+", "#", clean_line(line))


class HtmlText(HTMLParser):
    """The text of an HTML page as lines: block elements break lines, `<cite>` is a speaker
    label and `<time>` a time stamp, each on a line of its own."""

    _HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
    _BLOCKS = frozenset(
        (
            "p",
            "div",
            "li",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "tr",
            "table",
            "section",
            "article",
            "blockquote",
            "main",
            "body",
            "br",
            "hr",
        )
    )
    _UNSPOKEN = _HEADINGS | frozenset(("head", "title", "script", "style", "nav", "header",
                                       "footer", "noscript", "template", "aside", "button",
                                       "form", "select"))  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.headings = 0
        self._unspoken: list[str] = []
        self._cite: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._UNSPOKEN:
            self._unspoken.append(tag)
            self.headings += tag in self._HEADINGS
        elif tag in self._BLOCKS:
            self.out.append("\n\n" if tag != "br" else "\n")
        elif tag in ("cite", "time"):
            self.out.append("\n")
            if tag == "cite":
                self._cite = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._unspoken and tag == self._unspoken[-1]:
            self._unspoken.pop()
        elif tag == "cite" and self._cite is not None:
            name = " ".join("".join(self._cite).split())
            self.out.append(f"{name}\n" if name.endswith(":") else f"{name}:\n")
            self._cite = None
        elif tag == "time" or tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._unspoken:
            return
        text = " ".join(data.split())
        if data[:1].isspace():
            text = " " + text
        if data[-1:].isspace() and text.strip():
            text += " "
        (self._cite if self._cite is not None else self.out).append(text)
