"""pipeline.inputs.fetch: the real yt-dlp against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from loopback import LoopbackServer, Route
from spoken import SpokenEpisode

from pipeline.errors import PodalignError
from pipeline.inputs.fetch import (
    FetchOptions,
    InArchive,
    fetch_audio,
    file_sha256,
    read_url,
    require_http_url,
)

FAST = FetchOptions(backoff_seconds=0.05)


@pytest.fixture()
def halsa(spoken_episodes: dict[str, SpokenEpisode]) -> SpokenEpisode:
    return spoken_episodes["halsa"]


def test_direct_media_url_downloads_unchanged_audio(
    loopback: LoopbackServer, halsa: SpokenEpisode, tmp_path: Path
) -> None:
    url = loopback.add("media/halsa.mp3", Route(halsa.audio_bytes, "audio/mpeg"))
    fetched = fetch_audio(url, tmp_path, "ep", FAST)
    assert fetched.path == tmp_path / "ep.mp3"
    assert fetched.sha256 == file_sha256(halsa.mp3)  # no re-encode: the very bytes served
    assert fetched.archive_id == "generic halsa"  # yt-dlp's download-archive convention
    assert 5.0 < fetched.duration < 8.0


def test_local_path_is_used_in_place(halsa: SpokenEpisode, tmp_path: Path) -> None:
    fetched = fetch_audio(str(halsa.mp3), tmp_path / "unused", options=FAST)
    assert fetched.path == halsa.mp3.resolve()
    assert fetched.archive_id is None
    assert not (tmp_path / "unused").exists()


def test_missing_local_path_names_it(tmp_path: Path) -> None:
    with pytest.raises(PodalignError, match=r"nope\.mp3: no such file"):
        fetch_audio(str(tmp_path / "nope.mp3"), tmp_path)


def test_server_errors_are_retried_with_backoff(
    loopback: LoopbackServer, halsa: SpokenEpisode, tmp_path: Path
) -> None:
    url = loopback.add("flaky.mp3", Route(halsa.audio_bytes, "audio/mpeg", fail_first=2))
    fetched = fetch_audio(url, tmp_path, "ep", FAST)
    assert fetched.sha256 == file_sha256(halsa.mp3)
    # two failed listings, then one listing and one download: no nested yt-dlp retries
    assert loopback.hits["/flaky.mp3"] == 4


def test_a_lasting_server_error_is_tried_once_per_retry_and_no_more(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    url = loopback.add("down.mp3", Route(b"", "audio/mpeg", fail_first=100))
    with pytest.raises(PodalignError, match=r"down\.mp3: HTTP 503"):
        fetch_audio(url, tmp_path, "ep", FAST)
    assert loopback.hits["/down.mp3"] == FAST.retries + 1


def test_a_server_error_mid_download_is_not_retried_inside_each_retry(
    loopback: LoopbackServer, halsa: SpokenEpisode, tmp_path: Path
) -> None:
    # the listing request succeeds, every later one (the download, the relistings) fails
    url = loopback.add("late.mp3", Route(halsa.audio_bytes, "audio/mpeg", fail_from=1))
    with pytest.raises(PodalignError, match=r"late\.mp3: HTTP 503"):
        fetch_audio(url, tmp_path, "ep", FAST)
    # listing + download, then one listing per retry; yt-dlp retrying the download inside
    # each attempt would add FAST.retries more
    assert loopback.hits["/late.mp3"] == 2 + FAST.retries


def test_small_documents_are_retried_by_the_same_policy(loopback: LoopbackServer) -> None:
    url = loopback.add("flaky.xml", Route(b"<rss></rss>", "application/rss+xml", fail_first=2))
    assert read_url(url, "feed", 100, 5.0, retry=FAST) == b"<rss></rss>"
    assert loopback.hits["/flaky.xml"] == 3
    down = loopback.add("down.xml", Route(b"", "application/rss+xml", fail_first=100))
    with pytest.raises(PodalignError, match=r"^feed .*down\.xml: HTTP 503 Service Unavailable$"):
        read_url(down, "feed", 100, 5.0, retry=FAST)
    assert loopback.hits["/down.xml"] == FAST.retries + 1


def test_not_found_fails_at_once_with_the_status(loopback: LoopbackServer, tmp_path: Path) -> None:
    with pytest.raises(PodalignError, match=r"gone\.mp3: HTTP 404"):
        fetch_audio(loopback.url("gone.mp3"), tmp_path, "ep", FAST)
    assert loopback.hits["/gone.mp3"] == 1  # a 404 is not worth retrying


def test_a_web_page_is_not_audio(loopback: LoopbackServer, tmp_path: Path) -> None:
    url = loopback.add("page", Route(b"<html><body><p>Sorry</p></body></html>", "text/html"))
    with pytest.raises(PodalignError, match="serves a web page, not audio"):
        fetch_audio(url, tmp_path, "ep", FAST)


def test_html_labelled_as_audio_is_refused_and_removed(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    url = loopback.add("fake.mp3", Route(b"<html><body>Error</body></html>", "audio/mpeg"))
    with pytest.raises(PodalignError, match=r"fake\.mp3: not an audio file"):
        fetch_audio(url, tmp_path, "ep", FAST)
    assert list(tmp_path.iterdir()) == []


def test_truncated_mp3_is_refused(
    loopback: LoopbackServer, halsa: SpokenEpisode, tmp_path: Path
) -> None:
    data = halsa.audio_bytes
    url = loopback.add("cut.mp3", Route(data[: len(data) // 3], "audio/mpeg"))
    with pytest.raises(PodalignError, match="truncated audio"):
        fetch_audio(url, tmp_path, "ep", FAST)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "chunked"])
def test_size_limit(
    loopback: LoopbackServer, halsa: SpokenEpisode, tmp_path: Path, send_length: bool
) -> None:
    url = loopback.add("big.mp3", Route(halsa.audio_bytes, "audio/mpeg", send_length=send_length))
    with pytest.raises(PodalignError, match="larger than the 10000 B size limit"):
        fetch_audio(url, tmp_path, "ep", FetchOptions(max_bytes=10_000, backoff_seconds=0.05))
    assert list(tmp_path.iterdir()) == []  # no .part left behind


def test_download_archive_entries_are_skipped(
    loopback: LoopbackServer, halsa: SpokenEpisode, tmp_path: Path
) -> None:
    url = loopback.add("halsa.mp3", Route(halsa.audio_bytes, "audio/mpeg"))
    options = FetchOptions(archive=frozenset({"generic halsa"}))
    with pytest.raises(InArchive):
        fetch_audio(url, tmp_path, "ep", options)
    assert not (tmp_path / "ep.mp3").exists()


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/a.mp3", "javascript:alert(1)", "http://"]
)
def test_only_http_urls_are_fetched(url: str, tmp_path: Path) -> None:
    with pytest.raises(PodalignError, match="refused: only http:// and https://"):
        require_http_url(url, "enclosure")
    with pytest.raises(PodalignError, match="refused"):
        fetch_audio(url, tmp_path)


def test_small_documents_are_read_whole_or_refused_in_one_line(loopback: LoopbackServer) -> None:
    url = loopback.add("feed.xml", Route(b"<rss>" + b" " * 94 + b"</rss>", "application/rss+xml"))
    assert read_url(url, "feed", 200, 5.0).startswith(b"<rss>")
    with pytest.raises(PodalignError, match=r"^feed .*feed\.xml: larger than 100 bytes, refused$"):
        read_url(url, "feed", 100, 5.0)
    with pytest.raises(PodalignError, match=r"^transcript .*t\.txt: HTTP 404 Not Found; look$"):
        read_url(loopback.url("t.txt"), "transcript", 100, 5.0, "; look")
    closed = "http://127.0.0.1:9/x"  # the discard port: nobody listens on loopback
    with pytest.raises(PodalignError, match=r":9/x: cannot fetch it: .*refused"):
        read_url(closed, "feed", 100, 5.0, retry=FAST)
    assert loopback.hits["/t.txt"] == 1  # a 404 is final
