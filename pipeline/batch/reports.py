"""What a batch leaves besides subtitles: per-episode JSON reports, Podcasting 2.0
<podcast:transcript> snippets for publishers, and the run summary table."""

from __future__ import annotations

import json
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline.files import write_atomic
from pipeline.formats import SUBTITLE_FORMATS
from pipeline.names import printable

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ET.register_namespace("podcast", PODCAST_NS)


# What a batch did with an episode this run (its state row keeps the lasting Status).
Outcome = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class EpisodeOutcome:
    key: str
    title: str | None
    stem: str | None
    status: Outcome
    reason: str  # for done: how it was aligned; otherwise why
    seconds: float = 0.0


@dataclass(frozen=True)
class PublishedEpisode:
    """What a publisher needs to point a feed item at its subtitle files."""

    guid: str
    title: str | None
    outputs: dict[str, str]  # format -> file name in the output folder
    language: str | None = None


def report_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}.report.json"


def snippet_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}.podcast.xml"


def write_report(out_dir: Path, stem: str, report: dict[str, Any]) -> Path:
    text = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    return write_atomic(report_path(out_dir, stem), text)


def transcript_url(file_name: str, base_url: str | None) -> str:
    """Return where a subtitle file will be served: base_url/name, or the bare name."""
    quoted = urllib.parse.quote(file_name)
    return f"{base_url.rstrip('/')}/{quoted}" if base_url else quoted


def item_element(episode: PublishedEpisode, base_url: str | None) -> ET.Element:
    """Return an RSS <item> with the episode's GUID and a <podcast:transcript> per file."""
    item = ET.Element("item")
    guid = ET.SubElement(item, "guid", isPermaLink="false")
    guid.text = episode.guid
    if episode.title:
        ET.SubElement(item, "title").text = episode.title
    for fmt, name in episode.outputs.items():
        form = SUBTITLE_FORMATS.get(fmt)
        if form is None:  # the report, the preview page
            continue
        attrs = {"url": transcript_url(name, base_url), "type": form.mime_type}
        if episode.language:
            attrs["language"] = episode.language
        if form.captions:
            attrs["rel"] = "captions"
        ET.SubElement(item, f"{{{PODCAST_NS}}}transcript", attrs)
    return item


def write_item_snippet(
    out_dir: Path, stem: str, episode: PublishedEpisode, base: str | None
) -> Path:
    """Write stem.podcast.xml: the <item> tags to merge into the episode's feed item."""
    xml = ET.tostring(item_element(episode, base), encoding="unicode")
    return _write_if_changed(
        snippet_path(out_dir, stem), f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}\n'
    )


def write_feed_snippet(
    path: Path, title: str | None, episodes: Iterable[PublishedEpisode], base: str | None
) -> Path:
    """Write an RSS skeleton of every done episode's transcript tags, matched by GUID."""
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = title or "podalign transcripts"
    for episode in episodes:
        channel.append(item_element(episode, base))
    ET.indent(rss)
    xml = ET.tostring(rss, encoding="unicode")
    return _write_if_changed(path, f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}\n')


def _write_if_changed(path: Path, text: str) -> Path:
    """Write text atomically unless path already holds it: every run republishes every
    snippet, and rewriting unchanged files would churn mtimes and disks for nothing."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    return write_atomic(path, text)


def summary_table(outcomes: Sequence[EpisodeOutcome], seconds: float) -> str:
    """Return the run summary: one row per episode, then the totals."""
    rows = [("STATUS", "EPISODE", "DETAIL")]
    rows += [(o.status, _clip(o.title or o.key, 44), printable(o.reason)) for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{s:<{widths[0]}}  {t:<{widths[1]}}  {d}".rstrip() for s, t, d in rows]
    counts = Counter(o.status for o in outcomes)
    lines.append(
        f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed "
        f"in {seconds:.1f} s"
    )
    return "\n".join(lines)


def summary_json(outcomes: Sequence[EpisodeOutcome], figures: dict[str, float]) -> str:
    counts = Counter(o.status for o in outcomes)
    data = {
        "counts": {k: counts[k] for k in ("done", "skipped", "failed")},
        **figures,
        "episodes": [asdict(o) for o in outcomes],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _clip(text: str, width: int) -> str:
    text = printable(text)  # a title with newlines or escapes must not break the table
    return text if len(text) <= width else text[: width - 1] + "…"
