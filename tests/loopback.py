"""A real HTTP server on 127.0.0.1 for tests and benchmarks: serves feeds, audio and failures.

Remote sources cannot be reached here, so tests drive the real yt-dlp and the real feed
reader against this server instead. Each path maps to a Route: a body with a content type,
or a status code, optionally failing the first requests (to exercise retries) or sending
slowly (to stand in for a real network in the benchmark).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True)
class Route:
    body: bytes = b""
    content_type: str = "application/octet-stream"
    status: int = 200
    fail_first: int = 0  # answer this many requests with fail_status first
    fail_status: int = 503
    fail_from: int | None = None  # answer every request from this one (0-based) with fail_status
    bytes_per_second: float | None = None  # throttle the body
    send_length: bool = True  # False: no Content-Length, the body ends with the connection


class _Server(ThreadingHTTPServer):
    """A client hanging up mid-answer (yt-dlp giving up on a 404, a retry abandoning a
    slow body) is what real servers see all day: not a traceback on the test's stderr,
    where it was read as part of podalign's own error output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """ThreadingHTTPServer on an ephemeral loopback port; use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def add(self, path: str, route: Route) -> str:
        """Serve route at path; return its full URL."""
        self.routes["/" + path.lstrip("/")] = route
        return self.url(path)

    def count_hit(self, path: str) -> int:
        """Record a request for path; return how many came before it."""
        with self._lock:
            before = self.hits[path]
            self.hits[path] += 1
            return before

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def _answer(self, send_body: bool) -> None:
            path = self.path.split("?", 1)[0]
            route = server.routes.get(path)
            earlier = server.count_hit(path)
            if route is None:
                route = Route(body=b"not found", content_type="text/plain", status=404)
            elif earlier < route.fail_first or (
                route.fail_from is not None and earlier >= route.fail_from
            ):
                route = Route(b"try later", "text/plain", status=route.fail_status)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.send_length:
                self.send_header("Content-Length", str(len(route.body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if send_body:
                # The client may hang up once it has read enough (yt-dlp sniffs a body's start).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send_body(route)

        def _send_body(self, route: Route) -> None:
            if not route.bytes_per_second:
                self.wfile.write(route.body)
                return
            chunk = max(1024, int(route.bytes_per_second / 20))
            for start in range(0, len(route.body), chunk):
                self.wfile.write(route.body[start : start + chunk])
                self.wfile.flush()
                time.sleep(chunk / route.bytes_per_second)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: tests assert on hits, not on access logs

    return Handler


@dataclass(frozen=True)
class FeedItem:
    title: str
    enclosure_url: str | None
    guid: str | None = None
    enclosure_type: str = "audio/mpeg"
    transcripts: tuple[tuple[str, str], ...] = ()  # (url, type) -> <podcast:transcript>
    published: str = "Mon, 01 Jan 2024 10:00:00 GMT"


def rss_feed(title: str, items: list[FeedItem]) -> bytes:
    """Return an RSS 2.0 podcast feed with the Podcasting 2.0 namespace, XML-escaped."""
    body = "".join(_rss_item(item) for item in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>{escape(title)}</title><link>http://127.0.0.1/</link>{body}"
        "</channel></rss>\n"
    ).encode()


def _rss_item(item: FeedItem) -> str:
    parts = [f"<title>{escape(item.title)}</title>", f"<pubDate>{item.published}</pubDate>"]
    if item.guid:
        parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
    if item.enclosure_url:
        parts.append(
            f"<enclosure url={quoteattr(item.enclosure_url)} "
            f'type="{item.enclosure_type}" length="0"/>'
        )
    for url, kind in item.transcripts:
        parts.append(f'<podcast:transcript url={quoteattr(url)} type="{kind}" language="sv"/>')
    return "<item>" + "".join(parts) + "</item>"
