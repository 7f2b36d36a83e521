"""The batch's parts that need no model: names, state, lock, archive, matching, snippets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from loopback import LoopbackServer, Route

from pipeline.batch.feed import FeedEntry, TranscriptLink, read_feed
from pipeline.batch.matching import TranscriptFolder, best_link, download_linked
from pipeline.batch.reports import (
    EpisodeOutcome,
    PublishedEpisode,
    summary_table,
    write_feed_snippet,
)
from pipeline.batch.state import BatchLock, DownloadArchive, StateStore
from pipeline.errors import PodalignError
from pipeline.names import safe_stem, slugify


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Avsnitt 3: Sömn & hälsa!", "avsnitt-3-somn-halsa"),
        ("../../../etc/passwd", "etc-passwd"),
        ("..\\..\\Windows\\win.ini", "windows-win-ini"),
        ("  .hidden  ", "hidden"),
        ("Straße/Æbleskiver", "strasse-aebleskiver"),
    ],
)
def test_titles_become_plain_file_stems(title: str, expected: str) -> None:
    assert safe_stem(title, "guid") == expected


@pytest.mark.parametrize("title", [None, "", "///", "....", "日本語", "CON", "nul"])
def test_unusable_titles_fall_back_to_a_hash(title: str | None) -> None:
    stem = safe_stem(title, "guid-1")
    assert stem != safe_stem(title, "guid-2")
    assert stem.replace("-", "").isalnum() and stem.isascii() and not stem.startswith(".")


def test_slugify_caps_length() -> None:
    assert len(slugify("ord " * 100)) <= 60


def test_stems_are_unique_and_stable(tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    assert state.claim_stem("guid-a", "halsa", "aaaa") == "halsa"
    assert state.claim_stem("guid-b", "halsa", "bbbb") == "halsa-bbbb"  # same title, new name
    assert state.claim_stem("guid-a", "renamed-title", "aaaa") == "halsa"  # kept across runs
    state.close()
    assert StateStore(tmp_path).get("guid-b").stem == "halsa-bbbb"  # type: ignore[union-attr]


def test_state_updates_survive_reopening(tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    state.claim_stem("k", "ep", "x")
    state.update("k", status="done", outputs={"vtt": "ep.vtt"}, attempts=2)
    state.close()
    known = StateStore(tmp_path).get("k")
    assert known is not None
    assert (known.status, known.outputs, known.attempts) == ("done", {"vtt": "ep.vtt"}, 2)
    with pytest.raises(ValueError, match="unknown state fields"):
        StateStore(tmp_path).update("k", nonsense=1)


def test_damaged_state_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".podalign").mkdir()
    (tmp_path / ".podalign" / "state.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(PodalignError, match="unreadable batch state"):
        StateStore(tmp_path)


def test_second_lock_on_a_folder_is_refused(tmp_path: Path) -> None:
    with BatchLock(tmp_path):
        holder = (
            "import sys; from pathlib import Path; from pipeline.batch.state import BatchLock\n"
            "try:\n    BatchLock(Path(sys.argv[1])).__enter__()\n"
            "except Exception as e:\n    print(e); sys.exit(1)\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", holder, str(tmp_path)],
            capture_output=True, text=True, cwd=Path(__file__).parent.parent,
        )  # fmt: skip
        assert proc.returncode == 1
        assert "another batch" in proc.stdout and "is running on this output folder" in proc.stdout
    with BatchLock(tmp_path):  # released on exit: the next batch may run
        pass


def test_download_archive_uses_ytdlp_lines(tmp_path: Path) -> None:
    archive = DownloadArchive(tmp_path / "archive.txt")
    assert archive.lines() == frozenset()
    archive.add("generic ep1")
    archive.add("soundcloud 123")
    archive.add("generic ep1")
    assert (tmp_path / "archive.txt").read_text() == "generic ep1\nsoundcloud 123\n"


def _entry(
    title: str, guid: str | None = None, links: tuple[TranscriptLink, ...] = ()
) -> FeedEntry:
    return FeedEntry(guid or title, title, "https://x.org/a.mp3", guid=guid, transcripts=links)


def test_transcript_matching_order(tmp_path: Path) -> None:
    for name in ("mapped.txt", "guid-7.txt", "avsnitt-3-somn.vtt", "b2c-slug.srt", "notes.md"):
        (tmp_path / name).write_text("Anna: Hej.\n")
    (tmp_path / "mapping.csv").write_text("episode,transcript\nguid-1,mapped.txt\n")
    folder = TranscriptFolder(tmp_path)
    link = TranscriptLink("https://x.org/t.txt", "text/plain")
    assert folder.match(_entry("Whatever", "guid-1")).origin == "mapping"
    assert folder.match(_entry("Whatever", "guid-7")).path == tmp_path / "guid-7.txt"
    assert folder.match(_entry("Whatever", "B2C Slug")).origin == "guid"  # slugged GUID
    by_title = folder.match(_entry("Avsnitt 3: Sömn", "urn:x"))
    assert (by_title.origin, by_title.path) == ("title", tmp_path / "avsnitt-3-somn.vtt")
    assert folder.match(_entry("Other", "urn:y", (link,))).link == link
    assert folder.match(_entry("Notes", "urn:z")).origin == "none"  # .md is not a transcript


def test_mapping_json_and_escape_attempts(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Anna: Hej.\n")
    (tmp_path / "mapping.json").write_text(json.dumps({"Avsnitt 1": "a.txt", "g2": "../x.txt"}))
    folder = TranscriptFolder(tmp_path)
    assert folder.match(_entry("Avsnitt 1", "g1")).path == (tmp_path / "a.txt").resolve()
    with pytest.raises(PodalignError, match="not a file in the transcripts folder"):
        folder.match(_entry("Two", "g2"))


def test_missing_transcripts_folder(tmp_path: Path) -> None:
    with pytest.raises(PodalignError, match="no such transcripts folder"):
        TranscriptFolder(tmp_path / "nope")


def test_linked_transcripts_prefer_plain_text() -> None:
    links = (
        TranscriptLink("https://x/t.html", "text/html"),
        TranscriptLink("https://x/t.srt", "application/x-subrip"),
        TranscriptLink("https://x/t.txt", "text/plain"),
    )
    assert best_link(links) == links[2]
    assert best_link(links[:2]) == links[0]  # HTML speakers (<cite>) beat SRT's
    assert best_link((TranscriptLink("https://x/t.png", "image/png"),)) is None


def test_linked_transcript_download(loopback: LoopbackServer, tmp_path: Path) -> None:
    url = loopback.add("t.vtt", Route(b"WEBVTT\n\n", "text/vtt"))
    path = download_linked(TranscriptLink(url, "text/vtt"), tmp_path / "ep")
    assert path == tmp_path / "ep.vtt" and path.read_text() == "WEBVTT\n\n"
    with pytest.raises(PodalignError, match="HTTP 404"):
        download_linked(TranscriptLink(loopback.url("gone.txt"), "text/plain"), tmp_path / "x")
    with pytest.raises(PodalignError, match="refused"):
        download_linked(TranscriptLink("file:///etc/passwd", "text/plain"), tmp_path / "y")


def test_feed_snippet_is_a_feed_with_transcript_tags(tmp_path: Path) -> None:
    episodes = [
        PublishedEpisode("g1", "Ett & två", {"vtt": "a.vtt", "srt": "a.srt", "report": "r"}, "sv"),
        PublishedEpisode("g2", None, {"json": "b c.json"}),
    ]
    path = write_feed_snippet(tmp_path / "s.xml", "Podd", episodes, "https://cdn.example/subs/")
    first, second = read_feed(str(path)).entries  # our own reader must take it
    assert first.guid == "g1" and first.title == "Ett & två"
    assert [(t.url, t.type, t.language, t.rel) for t in first.transcripts] == [
        ("https://cdn.example/subs/a.vtt", "text/vtt", "sv", "captions"),
        ("https://cdn.example/subs/a.srt", "application/x-subrip", "sv", "captions"),
    ]
    assert [t.url for t in second.transcripts] == ["https://cdn.example/subs/b%20c.json"]


def test_summary_table_lists_every_episode_with_reasons() -> None:
    outcomes = [
        EpisodeOutcome("g1", "Hälsa", "halsa", "done", "same-language"),
        EpisodeOutcome("g2", "Multi\nline title", "x", "failed", "HTTP 404 Not Found"),
        EpisodeOutcome("g3", None, "y", "skipped", "done before, unchanged"),
    ]
    table = summary_table(outcomes, 12.34).splitlines()
    assert table[0].split() == ["STATUS", "EPISODE", "DETAIL"]
    assert table[2].split(maxsplit=1)[0] == "failed" and "Multi line title" in table[2]
    assert "HTTP 404 Not Found" in table[2]
    assert table[3].split()[:2] == ["skipped", "g3"]
    assert table[-1] == "1 done, 1 skipped, 1 failed in 12.3 s"


def test_feed_text_is_made_printable_for_the_terminal() -> None:
    outcome = EpisodeOutcome("g", "Evil\x1b[2J\ntitle\u202e", "s", "failed", "bad\rreason\x07")
    table = summary_table([outcome], 1.0)
    assert "\x1b" not in table and "\u202e" not in table and "\x07" not in table
    assert table.splitlines()[1].split() == ["failed", "Evil[2J", "title", "bad", "reason"]
