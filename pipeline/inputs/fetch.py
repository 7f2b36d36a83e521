"""Fetch one episode's audio with yt-dlp: a SoundCloud track, a direct media URL or a local path.

Audio only and never re-encoded: the aligner decodes any container itself via ffmpeg, so
the file is kept as the server sent it. Transient failures (5xx, resets, timeouts) are
retried with exponential backoff; a 404, a web page or an oversized file fail at once.
SoundCloud URLs go through yt-dlp's SoundCloud extractor, which needs the real site and so
is not exercised by the offline tests; the generic extractor path is.
"""

from __future__ import annotations

import glob
import logging
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yt_dlp
from tqdm import tqdm
from yt_dlp.networking.exceptions import HTTPError, TransportError

from pipeline.errors import PodalignError
from pipeline.files import file_sha256
from pipeline.inputs.audiocheck import check_audio
from pipeline.names import short_hash

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1_000_000_000  # 1 GB: many hours of MP3; a larger "episode" is a mistake
_ALLOWED_SCHEMES = ("http", "https")
_MAX_BACKOFF_SECONDS = 30.0
_T = TypeVar("_T")
_REPORTED_HTTP_ERROR = re.compile(r"HTTP Error (\d{3}): ([^.\r\n]*)")


@dataclass(frozen=True)
class FetchOptions:
    max_bytes: int = DEFAULT_MAX_BYTES
    retries: int = 3  # extra attempts after the first, for transient failures only
    backoff_seconds: float = 2.0  # wait before the first retry; doubles each time
    timeout_seconds: float = 60.0
    progress: bool = False  # a byte progress bar on stderr
    archive: frozenset[str] = field(default_factory=frozenset)  # yt-dlp archive lines to skip


@dataclass(frozen=True)
class FetchedAudio:
    path: Path
    source: str  # the URL or path asked for
    title: str | None
    archive_id: str | None  # yt-dlp download-archive line ("generic ep1"); None for a path
    size_bytes: int
    sha256: str
    duration: float  # seconds that decode
    seconds: float  # wall time spent fetching


class InArchive(PodalignError):
    """The item is already recorded in the yt-dlp download archive."""


class _FetchFailed(PodalignError):
    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class _TooLarge(Exception):
    pass


def is_url(source: str) -> bool:
    """Return whether source names a URL (has a scheme) rather than a local path."""
    return bool(urllib.parse.urlsplit(source).scheme) and not Path(source).exists()


def require_http_url(url: str, what: str = "URL") -> str:
    """Return url if it is http(s) with a host; raise PodalignError otherwise (file://,
    ftp://, javascript: ... from an untrusted feed must never be opened)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in _ALLOWED_SCHEMES or not parts.netloc:
        shown = url if len(url) <= 80 else url[:77] + "..."
        raise PodalignError(f"{what} {shown!r} refused: only http:// and https:// URLs are fetched")
    return url.strip()


def read_url(
    url: str,
    what: str,
    limit: int,
    timeout_seconds: float,
    hint: str = "",
    retry: FetchOptions | None = None,
) -> bytes:
    """The body of a small HTTP(S) document (a feed, a transcript), at most `limit` bytes.

    Transient failures are retried by the same policy as audio (retry's retries/backoff).
    Raises PodalignError "<what> <url>: <reason>[; <hint>]"; audio goes through yt-dlp instead.
    """
    return _with_retries(lambda: _read_once(url, what, limit, timeout_seconds, hint), retry)


def _read_once(url: str, what: str, limit: int, timeout_seconds: float, hint: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "podalign"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            data = response.read(limit + 1)
    except urllib.error.HTTPError as err:
        message = f"{what} {url}: HTTP {err.code} {err.reason}{hint}"
        raise _FetchFailed(message, _transient_status(err.code)) from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise _FetchFailed(f"{what} {url}: cannot fetch it: {reason}{hint}", True) from None
    if len(data) > limit:
        raise _FetchFailed(f"{what} {url}: larger than {limit:,} bytes, refused{hint}", False)
    return data


def _transient_status(status: int) -> bool:
    """Whether an HTTP status may clear up on its own (server trouble, throttling)."""
    return status >= 500 or status in (408, 429)


def _with_retries(action: Callable[[], _T], options: FetchOptions | None) -> _T:
    """action's result, retrying transient _FetchFailed with exponential backoff: the one
    retry policy for every request podalign makes (yt-dlp's own retries are off)."""
    options = options or FetchOptions()
    for attempt in range(options.retries + 1):
        try:
            return action()
        except _FetchFailed as err:
            if not err.transient or attempt == options.retries:
                raise PodalignError(str(err)) from None
            delay = min(options.backoff_seconds * 2**attempt, _MAX_BACKOFF_SECONDS)
            log.warning("%s; retrying in %.1f s (%d/%d)", err, delay, attempt + 1, options.retries)
            time.sleep(delay)
    raise AssertionError("unreachable")


def fetch_audio(
    source: str, dest_dir: Path, name: str | None = None, options: FetchOptions | None = None
) -> FetchedAudio:
    """Return the episode audio at source as a checked local file.

    A local path is used in place; a URL is downloaded into dest_dir as name.<ext>.
    Raises PodalignError (InArchive when the archive lists it) with a one-line reason.
    """
    options = options or FetchOptions()
    started = time.monotonic()
    if not is_url(source):
        path = Path(source).expanduser().resolve()
        if not path.is_file():
            raise PodalignError(f"{source}: no such file; give an audio file or an http(s) URL")
        return _describe(path, source, None, None, started)
    url = require_http_url(source)
    name = name or short_hash(url)
    # Absolute: yt-dlp reads a relative temp path against its home path, and nests them.
    dest_dir = Path(dest_dir).resolve()
    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        path, title, archive_id = _download_with_retries(url, dest_dir, name, options)
        return _describe(path, url, title, archive_id, started)
    except BaseException:
        _remove_downloads(dest_dir, name)  # no .part or rejected file lingers
        raise


def _remove_downloads(dest_dir: Path, name: str) -> None:
    for leftover in dest_dir.glob(glob.escape(name) + ".*"):
        leftover.unlink(missing_ok=True)


def _describe(
    path: Path, source: str, title: str | None, archive_id: str | None, started: float
) -> FetchedAudio:
    duration = check_audio(path, label=source)
    return FetchedAudio(
        path=path,
        source=source,
        title=title,
        archive_id=archive_id,
        size_bytes=path.stat().st_size,
        sha256=file_sha256(path),
        duration=duration,
        seconds=time.monotonic() - started,
    )


def _download_with_retries(
    url: str, dest_dir: Path, name: str, options: FetchOptions
) -> tuple[Path, str | None, str | None]:
    return _with_retries(lambda: _download_once(url, dest_dir, name, options), options)


def _download_once(
    url: str, dest_dir: Path, name: str, options: FetchOptions
) -> tuple[Path, str | None, str | None]:
    messages: list[str] = []
    bar = _ByteBar(url) if options.progress else None
    params = _ytdlp_params(dest_dir, name, options, messages, bar)
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            info = ydl.extract_info(url, download=True)
            if info is None:
                raise _FetchFailed(f"{url}: yt-dlp found nothing to download", transient=False)
            path = _downloaded_path(info)
            if path is None:
                if ydl.in_download_archive(info):
                    raise InArchive(f"{url}: already recorded in the download archive")
                raise _FetchFailed(_why_not_downloaded(url, messages, options), transient=False)
            return path, info.get("title"), ydl._make_archive_id(info)
    except _TooLarge:
        raise _FetchFailed(_too_large(url, options), transient=False) from None
    except yt_dlp.utils.DownloadError as err:
        raise _classify(url, err) from None
    finally:
        if bar is not None:
            bar.close()


def _ytdlp_params(
    dest_dir: Path, name: str, options: FetchOptions, messages: list[str], bar: _ByteBar | None
) -> dict[str, Any]:
    def on_progress(status: dict[str, Any]) -> None:
        done = status.get("downloaded_bytes") or 0
        # yt-dlp enforces max_filesize only from a Content-Length; this covers chunked replies.
        if done > options.max_bytes:
            raise _TooLarge
        if bar is not None:
            bar.update_to(done, status.get("total_bytes") or status.get("total_bytes_estimate"))

    return {
        "format": "bestaudio/best",
        "paths": {"home": str(dest_dir), "temp": str(dest_dir)},
        "outtmpl": {"default": f"{name}.%(ext)s"},
        "noplaylist": True,
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "color": {"stdout": "never", "stderr": "never"},
        "logger": _CollectingLogger(messages),
        "max_filesize": options.max_bytes,
        # Retries are _with_retries' alone: nested in it, yt-dlp's would try (r+1)^2 times.
        "retries": 0,
        "fragment_retries": 0,
        "socket_timeout": options.timeout_seconds,
        "continuedl": True,
        "overwrites": True,
        "cachedir": False,
        "download_archive": set(options.archive),  # a set: yt-dlp checks it but never writes it
        "progress_hooks": [on_progress],
        "postprocessors": [],
    }


def _downloaded_path(info: dict[str, Any]) -> Path | None:
    for download in info.get("requested_downloads") or ():
        path = Path(download.get("filepath") or "")
        if path.name and path.is_file():
            return path
    return None


def _why_not_downloaded(url: str, messages: list[str], options: FetchOptions) -> str:
    if any("larger than max-filesize" in m for m in messages):
        return _too_large(url, options)
    detail = messages[-1] if messages else "no reason given"
    return f"{url}: nothing was downloaded ({detail})"


def _too_large(url: str, options: FetchOptions) -> str:
    size = options.max_bytes
    limit = f"{size / 1e6:g} MB" if size >= 100_000 else f"{size} B"
    return f"{url}: larger than the {limit} size limit (--max-size)"


def _classify(url: str, err: yt_dlp.utils.DownloadError) -> _FetchFailed:
    """Return a one-line reason for a yt-dlp failure, and whether trying again may help."""
    cause = _network_cause(err)
    if isinstance(cause, HTTPError):
        transient = _transient_status(cause.status)
        return _FetchFailed(f"{url}: HTTP {cause.status} {cause.reason}", transient)
    if isinstance(cause, TransportError):
        return _FetchFailed(f"{url}: network error: {cause}", transient=True)
    text = str(err).removeprefix("ERROR: ")
    # yt-dlp's downloader reports a failed GET only as text ("Got error: HTTP Error 503: ...")
    reported = _REPORTED_HTTP_ERROR.search(text)
    if reported:
        status, reason = int(reported[1]), reported[2].strip()
        return _FetchFailed(f"{url}: HTTP {status} {reason}", _transient_status(status))
    if "Unsupported URL" in text:
        return _FetchFailed(f"{url}: serves a web page, not audio (no media found)", False)
    return _FetchFailed(f"{url}: {text}", transient=False)


def _network_cause(err: BaseException) -> BaseException | None:
    """Return the yt-dlp network error that a DownloadError wraps, if any.

    yt-dlp nests it in exc_info (DownloadError, ExtractorError) or in .cause.
    """
    current: object = err
    for _ in range(8):  # the chain is short; a bound guards against cycles
        if isinstance(current, (HTTPError, TransportError)):
            return current
        exc_info = getattr(current, "exc_info", None)
        current = (exc_info[1] if exc_info else None) or getattr(current, "cause", None)
        if not isinstance(current, BaseException):
            return None
    return None


class _CollectingLogger:
    """yt-dlp's logger protocol: keep messages for error reasons, pass them to logging."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages

    def debug(self, msg: str) -> None:
        if not msg.startswith("[debug] "):
            self.messages.append(msg.strip())
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        self.messages.append(msg.strip())
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        self.messages.append(msg.strip())
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        self.messages.append(msg.strip())
        log.debug("yt-dlp: %s", msg)  # the raised DownloadError carries it to the user


class _ByteBar:
    """A tqdm byte bar on stderr, only when stderr is a terminal."""

    def __init__(self, url: str) -> None:
        label = Path(urllib.parse.urlsplit(url).path).name[:30] or "download"
        self.bar = tqdm(
            desc=label, unit="B", unit_scale=True, leave=False, disable=not sys.stderr.isatty()
        )

    def update_to(self, done: int, total: int | None) -> None:
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()
