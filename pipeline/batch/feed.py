"""List a podcast's episodes: an RSS/Atom feed (feedparser) or a SoundCloud set (yt-dlp).

Only the list is read here; no episode audio is downloaded. A feed is untrusted input:
its URLs are checked where they are used (pipeline.inputs.fetch.require_http_url), its titles
become file names only through pipeline.names.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import feedparser
import yt_dlp
from defusedxml import DefusedXmlException

from pipeline.errors import PodalignError
from pipeline.inputs.fetch import _CollectingLogger, is_url, read_url, require_http_url

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 50_000_000  # the largest real podcast feeds are a few MB
_PODCAST_NAMESPACES = (
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
)
_ATOM_ENTRY = "{http://www.w3.org/2005/Atom}entry"
_PLAYLIST_HOSTS = ("soundcloud.com",)  # listed with yt-dlp, not parsed as XML


@dataclass(frozen=True)
class TranscriptLink:
    """A Podcasting 2.0 <podcast:transcript> of a feed item."""

    url: str
    type: str | None = None
    language: str | None = None
    rel: str | None = None


@dataclass(frozen=True)
class FeedEntry:
    key: str  # stable identity across runs: the GUID, else the enclosure URL, else the link
    title: str | None
    enclosure_url: str | None  # the audio (for a playlist entry: the track's page URL)
    guid: str | None = None
    published: str | None = None  # ISO 8601 UTC
    link: str | None = None
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    transcripts: tuple[TranscriptLink, ...] = ()
    archive_id: str | None = None  # yt-dlp download-archive line, when the listing tells it


@dataclass(frozen=True)
class Feed:
    source: str
    title: str | None
    kind: str  # feedparser's version ("rss20", "atom10", ...) or "playlist"
    entries: tuple[FeedEntry, ...]


def read_feed(source: str, timeout_seconds: float = 60.0) -> Feed:
    """Return the episodes listed at source: a feed URL, a local feed file or a playlist URL.

    Raises PodalignError naming source when it cannot be read, is malformed XML, or lists
    nothing.
    """
    if is_url(source):
        require_http_url(source, "feed URL")
        if _is_playlist_host(source):
            return read_playlist(source)
        data = read_url(source, "feed", MAX_FEED_BYTES, timeout_seconds, "; check the feed URL")
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise PodalignError(f"{source}: no such feed file; give a feed URL or a local file")
        data = path.read_bytes()
    if _looks_like_html(data) and is_url(source):
        return read_playlist(source)  # a web page: yt-dlp may find a list of media in it
    return parse_feed(data, source)


def parse_feed(data: bytes, source: str) -> Feed:
    """Return the episodes of RSS or Atom feed bytes; raise PodalignError if malformed."""
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise PodalignError(f"{source}: not an RSS or Atom feed; give the podcast's feed URL")
    root = _safe_xml(data, source)
    parsed = feedparser.parse(data)  # only once defusedxml has accepted the bytes
    if not parsed.get("version") and not parsed.entries:
        raise PodalignError(f"{source}: not an RSS or Atom feed; give the podcast's feed URL")
    problem = parsed.get("bozo_exception")
    if problem is not None:
        log.warning("%s: feed has a problem (%s); read it anyway", source, problem)
    links = _transcript_links(root)
    entries = tuple(_entry(raw, links) for raw in parsed.entries)
    return Feed(source, parsed.feed.get("title"), parsed.get("version") or "feed", entries)


def _safe_xml(data: bytes, source: str) -> ET.Element:
    """The feed's XML tree, parsed with defusedxml: entity expansion and external entities in
    an untrusted feed are refused, malformed XML named with its line and column."""
    try:
        return SafeET.fromstring(data)
    except DefusedXmlException as err:
        raise PodalignError(
            f"{source}: the feed declares XML entities ({type(err).__name__}), refused as unsafe; "
            "ask the feed's publisher to remove its DTD"
        ) from None
    except ET.ParseError as err:
        line, column = err.position
        raise PodalignError(
            f"{source}: malformed feed XML at line {line}, column {column} "
            f"({err}); check the URL or ask the feed's publisher to fix it"
        ) from None


def read_playlist(url: str) -> Feed:
    """Return the entries of a yt-dlp playlist (a SoundCloud set, a page of media) unresolved:
    one listing request, no track is downloaded or even opened."""
    # yt-dlp prints its errors on stderr itself unless given a logger: podalign's error
    # line below says it once.
    params = {"extract_flat": "in_playlist", "quiet": True, "no_warnings": True,
              "cachedir": False, "logger": _CollectingLogger([])}  # fmt: skip
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            info = ydl.extract_info(url, download=False) or {}
            entries = tuple(_playlist_entry(ydl, e) for e in info.get("entries") or () if e)
    except yt_dlp.utils.DownloadError as err:
        reason = str(err).removeprefix("ERROR: ")
        raise PodalignError(f"{url}: cannot list its episodes: {reason}") from None
    if info.get("_type") != "playlist" or not entries:
        raise PodalignError(
            f"{url}: neither an RSS/Atom feed nor a playlist; give the podcast's feed URL"
        )
    return Feed(url, info.get("title"), "playlist", entries)


def _playlist_entry(ydl: yt_dlp.YoutubeDL, raw: dict[str, Any]) -> FeedEntry:
    url = raw.get("url") or raw.get("webpage_url")
    archive_id = ydl._make_archive_id(raw)
    return FeedEntry(
        key=archive_id or str(url),
        title=raw.get("title"),
        enclosure_url=url,
        link=raw.get("webpage_url") or url,
        published=_iso_from_epoch(raw.get("timestamp")),
        archive_id=archive_id,
    )


def _entry(raw: Any, links: dict[str, tuple[TranscriptLink, ...]]) -> FeedEntry:
    enclosure = _audio_enclosure(raw)
    guid = raw.get("id") or None
    url = enclosure.get("href") if enclosure else None
    transcripts = links.get(guid or url or "", ())
    when = raw.get("published_parsed") or raw.get("updated_parsed")
    return FeedEntry(
        key=guid or url or raw.get("link") or raw.get("title") or "",
        title=raw.get("title"),
        enclosure_url=url,
        guid=guid,
        published=time.strftime("%Y-%m-%dT%H:%M:%SZ", when) if when else None,
        link=raw.get("link"),
        enclosure_type=enclosure.get("type") if enclosure else None,
        enclosure_length=_int_or_none(enclosure.get("length")) if enclosure else None,
        transcripts=transcripts,
    )


def _audio_enclosure(raw: Any) -> dict[str, Any] | None:
    """Return the item's audio (or video) enclosure, else its first one, else None."""
    enclosures = [e for e in raw.get("enclosures", ()) if e.get("href")]
    media = [e for e in enclosures if str(e.get("type", "")).startswith(("audio/", "video/"))]
    return (media or enclosures or [None])[0]


def _transcript_links(root: ET.Element) -> dict[str, tuple[TranscriptLink, ...]]:
    """Return each item's <podcast:transcript> tags by the item's GUID (else its enclosure
    URL), the key feedparser's entry has too: a join that no skipped item can shift.

    feedparser keeps only the last such tag of an item, so they are read from the XML here.
    """
    items = [el for el in root.iter() if el.tag in ("item", _ATOM_ENTRY) or _local(el) == "item"]
    return {_item_key(item): tuple(_links_in(item)) for item in items}


def _item_key(item: ET.Element) -> str:
    for child in item:
        if _local(child) in ("guid", "id") and (child.text or "").strip():
            return (child.text or "").strip()
    for child in item:
        if _local(child) in ("enclosure", "link") and child.get("url"):
            return child.get("url", "")
    return ""


def _links_in(item: ET.Element) -> list[TranscriptLink]:
    tags = [f"{{{ns}}}transcript" for ns in _PODCAST_NAMESPACES]
    return [
        TranscriptLink(el.get("url", ""), el.get("type"), el.get("language"), el.get("rel"))
        for el in item
        if el.tag in tags and el.get("url")
    ]


def _local(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _is_playlist_host(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _PLAYLIST_HOSTS)


def _looks_like_html(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _iso_from_epoch(value: Any) -> str | None:
    if not isinstance(value, (int, float)):
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
