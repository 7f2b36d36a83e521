"""pipeline.batch.feed: real feedparser and yt-dlp listings of feeds served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from loopback import FeedItem, LoopbackServer, Route, rss_feed

from pipeline.batch.feed import TranscriptLink, parse_feed, read_feed
from pipeline.errors import PodalignError

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <title>Atom podd</title>
  <entry>
    <id>urn:uuid:1225c695</id><title>Avsnitt 1</title><updated>2024-03-02T08:30:00Z</updated>
    <link rel="alternate" href="https://example.org/1"/>
    <link rel="enclosure" type="audio/mpeg" length="4321" href="https://example.org/1.mp3"/>
    <podcast:transcript url="https://example.org/1.txt" type="text/plain"/>
  </entry>
</feed>"""


def test_rss_metadata_and_every_transcript_tag(loopback: LoopbackServer) -> None:
    items = [
        FeedItem(
            "Avsnitt 1: Sömn",
            "https://cdn.example.org/1.mp3",
            guid="guid-1",
            transcripts=(
                ("https://x.org/1.txt", "text/plain"),
                ("https://x.org/1.vtt", "text/vtt"),
            ),
        ),
        FeedItem("Avsnitt 2 & mer", "https://cdn.example.org/2.mp3"),
    ]
    url = loopback.add("feed.xml", Route(rss_feed("Hälsopodden", items), "application/rss+xml"))
    feed = read_feed(url)
    assert (feed.title, feed.kind, len(feed.entries)) == ("Hälsopodden", "rss20", 2)
    first, second = feed.entries
    assert (first.key, first.guid, first.title) == ("guid-1", "guid-1", "Avsnitt 1: Sömn")
    assert first.enclosure_url == "https://cdn.example.org/1.mp3"
    assert first.enclosure_type == "audio/mpeg"
    assert first.published == "2024-01-01T10:00:00Z"
    # feedparser alone keeps only the last tag; both must survive.
    assert first.transcripts == (
        TranscriptLink("https://x.org/1.txt", "text/plain", "sv"),
        TranscriptLink("https://x.org/1.vtt", "text/vtt", "sv"),
    )
    assert second.title == "Avsnitt 2 & mer"
    assert second.key == "https://cdn.example.org/2.mp3"  # no GUID: the enclosure identifies it
    assert second.transcripts == ()


def test_atom_feed_from_a_local_file(tmp_path: Path) -> None:
    path = tmp_path / "atom.xml"
    path.write_bytes(ATOM)
    (entry,) = read_feed(str(path)).entries
    assert entry.key == "urn:uuid:1225c695"
    assert entry.enclosure_url == "https://example.org/1.mp3"
    assert entry.enclosure_length == 4321
    assert entry.link == "https://example.org/1"
    assert entry.published == "2024-03-02T08:30:00Z"
    assert entry.transcripts == (TranscriptLink("https://example.org/1.txt", "text/plain"),)


def test_malformed_xml_is_a_clear_error(loopback: LoopbackServer) -> None:
    broken = rss_feed("P", [FeedItem("A", "https://x.org/a.mp3")])[:-40]
    url = loopback.add("broken.xml", Route(broken, "application/rss+xml"))
    with pytest.raises(PodalignError, match=r"broken\.xml: malformed feed XML at line \d+"):
        read_feed(url)


def test_text_that_is_no_feed(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    with pytest.raises(PodalignError, match="not an RSS or Atom feed"):
        read_feed(str(path))


def test_feed_url_not_found(loopback: LoopbackServer) -> None:
    with pytest.raises(PodalignError, match=r"missing\.xml: HTTP 404"):
        read_feed(loopback.url("missing.xml"))


def test_feed_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(PodalignError, match="refused"):
        read_feed("ftp://example.org/feed.xml")


def test_page_of_media_is_listed_by_ytdlp_without_downloading(loopback: LoopbackServer) -> None:
    """The yt-dlp listing path (a SoundCloud set takes it too), exercised on a local page."""
    page = (
        b"<html><head><title>Min samling</title></head><body>"
        b'<audio src="/a.mp3"></audio><audio controls><source src="/b.mp3" type="audio/mpeg">'
        b"</audio></body></html>"
    )
    url = loopback.add("set", Route(page, "text/html"))
    feed = read_feed(url)
    assert feed.kind == "playlist"
    assert [e.enclosure_url for e in feed.entries] == [loopback.url("a.mp3"), loopback.url("b.mp3")]
    assert all(e.archive_id for e in feed.entries)
    assert len({e.key for e in feed.entries}) == 2
    assert loopback.hits["/a.mp3"] == loopback.hits["/b.mp3"] == 0


def test_page_without_media_is_refused(loopback: LoopbackServer) -> None:
    url = loopback.add("home", Route(b"<html><body><p>Welcome</p></body></html>", "text/html"))
    with pytest.raises(PodalignError, match="home: "):
        read_feed(url)


def test_parse_feed_keeps_items_in_document_order() -> None:
    items = [FeedItem(f"Ep {n}", f"https://x.org/{n}.mp3", guid=f"g{n}") for n in range(6)]
    feed = parse_feed(rss_feed("P", items), "feed.xml")
    assert [e.guid for e in feed.entries] == [f"g{n}" for n in range(6)]


def test_transcript_links_join_their_items_by_guid_not_by_position() -> None:
    items = [
        FeedItem("Ett", "https://cdn.example.org/1.mp3", guid="g1"),
        FeedItem("Två", "https://cdn.example.org/2.mp3", guid="g2",
                 transcripts=(("https://cdn.example.org/2.vtt", "text/vtt"),)),
    ]  # fmt: skip
    # an extension element that is also called "item" must not count as an episode
    data = rss_feed("P", items).replace(
        b"<title>Ett</title>", b'<title>Ett</title><x:item xmlns:x="urn:x">no episode</x:item>'
    )
    first, second = parse_feed(data, "feed.xml").entries
    assert (first.guid, first.transcripts) == ("g1", ())
    assert second.guid == "g2"
    assert [link.url for link in second.transcripts] == ["https://cdn.example.org/2.vtt"]


def test_a_feed_with_entity_declarations_is_refused_in_one_line() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<rss version="2.0"><channel><title>&b;</title></channel></rss>'
    )
    with pytest.raises(PodalignError, match=r"^bomb\.xml: the feed declares XML entities") as e:
        parse_feed(bomb, "bomb.xml")
    assert "\n" not in str(e.value)
