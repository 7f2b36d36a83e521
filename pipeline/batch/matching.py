"""Find each episode's reference transcript: a mapping file, its GUID, its title, or its feed.

The order, as `podalign batch --help` and the README state it, is HOW_TRANSCRIPTS_ARE_FOUND;
the forms a transcript may come in are pipeline.formats.FORMATS (text, JSON, HTML,
WebVTT, SRT, Word, PDF). No match means subtitles from the ASR alone, which the report and
the summary say.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.batch.feed import FeedEntry, TranscriptLink
from pipeline.errors import PodalignError
from pipeline.files import write_atomic
from pipeline.formats import TRANSCRIPT_SUFFIXES, form_for_type
from pipeline.inputs.fetch import read_url, require_http_url
from pipeline.names import slugify

# The mapping files are the folder's index, never an episode's transcript.
_MAPPING_FILES = ("mapping.csv", "mapping.json")
HOW_TRANSCRIPTS_ARE_FOUND = f"""\
How each episode's transcript is found, first match wins:
  1. --transcripts DIR/mapping.csv (columns episode,transcript) or mapping.json
     ({{"episode": "file"}}): episode is the item's GUID or title, file is relative to DIR;
  2. a file in DIR named by the item's GUID (as is when it is a plain file name, else
     slugged), ending {", ".join(TRANSCRIPT_SUFFIXES)};
  3. a file whose name slugs like the item's title ("Avsnitt 3: Sömn" finds
     avsnitt-3-somn.txt);
  4. a <podcast:transcript> the feed item links, in one of those forms.
No match: subtitles from the speech recognition alone; the summary and the episode's
report say so."""
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
MAX_TRANSCRIPT_BYTES = 10_000_000


@dataclass(frozen=True)
class TranscriptMatch:
    origin: str  # "mapping" | "guid" | "title" | "feed" | "none"
    ref: str | None = None  # the local path or URL it came from
    path: Path | None = None  # a local file to read; None for a feed link until fetched
    link: TranscriptLink | None = None


NO_TRANSCRIPT = TranscriptMatch("none")


class TranscriptFolder:
    """A folder of reference transcripts, indexed once per batch."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.by_name: dict[str, Path] = {}
        self.by_slug: dict[str, Path] = {}
        self.mapping: dict[str, str] = {}
        if folder is None:
            return
        if not folder.is_dir():
            raise PodalignError(f"{folder}: no such transcripts folder; give --transcripts DIR")
        for path in sorted(folder.iterdir()):
            readable = path.suffix.lower() in TRANSCRIPT_SUFFIXES
            if path.is_file() and readable and path.name.lower() not in _MAPPING_FILES:
                self.by_name.setdefault(path.stem, path)
                self.by_slug.setdefault(slugify(path.stem, max_length=200), path)
        self.mapping = read_mapping(folder)

    def match(self, entry: FeedEntry) -> TranscriptMatch:
        """Return where entry's transcript is, or NO_TRANSCRIPT."""
        for key in (entry.guid, entry.key, entry.title):
            if key and key in self.mapping:
                return self._mapped(self.mapping[key])
        for key in (entry.guid, entry.key):
            if key and (found := self._by_identifier(key)):
                return TranscriptMatch("guid", str(found), found)
        if entry.title and (found := self.by_slug.get(slugify(entry.title, max_length=200))):
            return TranscriptMatch("title", str(found), found)
        if link := best_link(entry.transcripts):
            return TranscriptMatch("feed", link.url, None, link)
        return NO_TRANSCRIPT

    def _by_identifier(self, identifier: str) -> Path | None:
        if _PLAIN_NAME.match(identifier) and (found := self.by_name.get(identifier)):
            return found
        slug = slugify(identifier, max_length=200)
        return self.by_slug.get(slug) if slug else None

    def _mapped(self, name: str) -> TranscriptMatch:
        assert self.folder is not None
        path = (self.folder / name).resolve()
        if not path.is_relative_to(self.folder.resolve()) or not path.is_file():
            raise PodalignError(
                f"{self.folder}/mapping: {name!r} is not a file in the transcripts folder"
            )
        return TranscriptMatch("mapping", str(path), path)


def read_mapping(folder: Path) -> dict[str, str]:
    """Return {GUID or title: transcript file name} from mapping.csv or mapping.json, if any."""
    csv_path, json_path = (folder / name for name in _MAPPING_FILES)
    if json_path.is_file():
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise PodalignError(f"{json_path}: not valid JSON ({err})") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise PodalignError(f'{json_path}: expected {{"episode GUID or title": "file"}}')
        return {str(k): v for k, v in data.items()}
    if csv_path.is_file():
        with csv_path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        if rows and not {"episode", "transcript"} <= set(rows[0]):
            raise PodalignError(f"{csv_path}: needs the columns episode,transcript")
        return {r["episode"].strip(): r["transcript"].strip() for r in rows if r.get("episode")}
    return {}


# Best first: plain text and the namespace's JSON and HTML keep speakers; SRT often has
# none; Word and PDF are rare in feeds and the hardest to read.
LINK_PREFERENCE = ("txt", "json", "html", "vtt", "srt", "docx", "pdf")


def best_link(links: tuple[TranscriptLink, ...]) -> TranscriptLink | None:
    """Return the linked transcript the reader takes best (in LINK_PREFERENCE's order)."""
    ranked = [
        (LINK_PREFERENCE.index(form.key), link)
        for link in links
        if (form := form_for_type(link.type))
    ]
    return min(ranked, key=lambda pair: pair[0], default=(None, None))[1]


def download_linked(link: TranscriptLink, dest: Path, timeout_seconds: float = 60.0) -> Path:
    """Download a feed-linked transcript to dest (its suffix set by its type); return the path."""
    url = require_http_url(link.url, "transcript link")
    form = form_for_type(link.type)
    if form is None:
        raise PodalignError(f"{url}: transcript type {link.type!r} is not one podalign reads")
    target = dest.with_suffix(form.suffixes[0])
    data = read_url(url, "transcript", MAX_TRANSCRIPT_BYTES, timeout_seconds)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(target, data)
