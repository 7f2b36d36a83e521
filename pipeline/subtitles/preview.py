"""A self-contained HTML page that plays an episode with its subtitles: ``podalign preview``.

The page holds an ``<audio>`` player with the WebVTT attached as a ``<track>``, and
beside it a transcript built *in the browser* from the track's parsed cues
(``track.cues`` and ``VTTCue.getCueAsHTML()``), so what the reader sees is exactly what
the browser's own WebVTT parser made of podalign's file. The current cue is
highlighted as the audio plays, a click on a line seeks there, and cues whose timing
confidence is low are marked.

Why the VTT is embedded: Chromium refuses to load a ``<track>`` from a ``file://`` page
("'file:' URLs are treated as unique security origins"), so a page opened from the file
system would show no cues at all. The page therefore carries the .vtt file's exact
bytes as a ``data:`` URL; the audio, which browsers do play from ``file://``, is
referenced by relative path, and so are the subtitle files in the page's footer. The
page loads nothing from the network: a Content-Security-Policy forbids it.

Timing confidence is not in the Podcasting 2.0 JSON the writers produce; the page marks
cues from a ``"confidence"`` number on the JSON's word segments when there is one, or
from confidences handed to :func:`write_preview` (see :func:`confidences_from_cues`).
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from glob import escape as glob_escape
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

import webvtt

from pipeline.errors import PodalignError
from pipeline.files import publish_together, write_atomic
from pipeline.formats import format_of_suffix
from pipeline.records import LOW_CONFIDENCE, Cue

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".webm")
PAGE_SUFFIX = ".preview.html"


@dataclass(frozen=True)
class PreviewInputs:
    """The files one preview page is made from."""

    vtt: Path
    audio: Path
    json: Path | None = None  # the Podcasting 2.0 transcript, for confidences if it has them


# --- finding the files --------------------------------------------------------------------


def find_inputs(paths: Sequence[Path]) -> PreviewInputs:
    """The .vtt, audio and .json to preview, from an episode folder and/or named files.

    Files are told apart by suffix. A missing .vtt is looked for in the folder given (or
    the audio's folder); missing audio is the file with the .vtt's stem, or else the
    only audio file beside the .vtt; the .json is ``<stem>.json`` beside the .vtt if any.
    """
    if not paths:
        raise PodalignError("preview needs an episode folder or its audio and .vtt files")
    folders: list[Path] = []
    named: dict[str, Path] = {}
    for path in map(Path, paths):
        if path.is_dir():
            folders.append(path)
            continue
        if not path.is_file():
            raise PodalignError(f"no such file or folder: {path}")
        kind = _kind_of(path)
        if kind in named:
            raise PodalignError(f"two {kind} files given ({named[kind]}, {path}): give one")
        named[kind] = path
    if len(folders) > 1:
        raise PodalignError(f"several folders given ({', '.join(map(str, folders))}): give one")
    near = folders[0] if folders else (named["audio"].parent if "audio" in named else None)
    vtt = named.get("vtt") or _only_vtt_in(near)
    audio = named.get("audio") or _audio_beside(vtt)
    json_path = named.get("json") or _json_beside(vtt)
    return PreviewInputs(vtt=vtt, audio=audio, json=json_path)


def _kind_of(path: Path) -> str:
    """The kind of a file named on the command line: "vtt", "audio" or "json"."""
    suffix = path.suffix.lower()
    if (fmt := format_of_suffix(path)) in ("vtt", "json"):
        return fmt
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    hint = "; the page is built from the .vtt" if suffix == ".srt" else ""
    raise PodalignError(
        f"cannot use {path} in a preview: expected audio ({', '.join(AUDIO_SUFFIXES)}), "
        f".vtt or .json{hint}"
    )


def _only_vtt_in(folder: Path | None) -> Path:
    if folder is None:
        raise PodalignError("preview needs the .vtt file (or the episode folder holding it)")
    found = sorted(folder.glob("*.vtt"))
    if not found:
        raise PodalignError(f"no .vtt file in {folder}: run podalign align first")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise PodalignError(f"{folder} holds several .vtt files ({names}): name the one to use")
    return found[0]


def _audio_beside(vtt: Path) -> Path:
    audio = [p for p in sorted(vtt.parent.iterdir()) if p.suffix.lower() in AUDIO_SUFFIXES]
    same_stem = [p for p in audio if p.stem == vtt.stem]
    if same_stem:
        return same_stem[0]
    if len(audio) == 1:
        return audio[0]
    if not audio:
        raise PodalignError(f"no audio file beside {vtt}: name the episode's audio file too")
    names = ", ".join(p.name for p in audio)
    raise PodalignError(f"several audio files beside {vtt} ({names}): name the one to use")


def _json_beside(vtt: Path) -> Path | None:
    candidate = vtt.with_suffix(".json")
    return candidate if candidate.is_file() else None


def preview_path(vtt: Path) -> Path:
    """Where the page for a .vtt goes by default: ``<stem>.preview.html`` beside it."""
    return vtt.with_name(vtt.stem + PAGE_SUFFIX)


# --- reading the subtitles and confidences ---------------------------------------------------


@dataclass(frozen=True)
class _Subtitles:
    raw: bytes  # the file's exact bytes: the browser parses these, not a copy we made
    title: str
    cue_keys: tuple[str, ...]  # per cue in file order: its identifier, or its 1-based position


def _read_vtt(path: Path) -> _Subtitles:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PodalignError(f"cannot read {path}: {err.strerror or err}") from err
    return _parsed_vtt(raw, path)


def _parsed_vtt(raw: bytes, path: Path) -> _Subtitles:
    try:
        parsed = webvtt.from_string(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise PodalignError(f"{path} is not UTF-8 text, as WebVTT must be") from err
    except webvtt.errors.MalformedFileError as err:
        raise PodalignError(f"{path} is not a WebVTT file: {err}") from err
    keys = tuple(c.identifier or str(n) for n, c in enumerate(parsed.captions, start=1))
    return _Subtitles(raw=raw, title=(parsed.header_text or "").strip(), cue_keys=keys)


def confidences_from_cues(cues: Sequence[Cue]) -> dict[str, float]:
    """The cues' confidences keyed as the VTT writer numbers its cues (1, 2, ...)."""
    return {str(n): cue.confidence for n, cue in enumerate(cues, start=1)}


# --- the page -------------------------------------------------------------------------------


def write_preview(
    inputs: PreviewInputs,
    out: Path | None = None,
    *,
    confidences: Mapping[str, float] | None = None,
    threshold: float = LOW_CONFIDENCE,
    uncovered: Sequence[tuple[float, float]] = (),
) -> Path:
    """Write the preview page (atomically) and return its path.

    confidences: per cue key (the VTT cue identifier); they exist only while aligning
    (no subtitle format carries them), so a page made later marks none. uncovered:
    stretches of speech no cue covers, listed on the page
    (pipeline.signal.speakers.uncovered_speech).
    """
    out = Path(out) if out is not None else preview_path(inputs.vtt)
    subtitles = _read_vtt(inputs.vtt)
    page = render_page(inputs, out, subtitles, confidences or {}, threshold, uncovered=uncovered)
    try:
        write_atomic(out, page)
    except OSError as err:
        raise PodalignError(f"cannot write {out}: {err.strerror or err}") from err
    log.info("wrote preview of %d cues to %s", len(subtitles.cue_keys), out)
    return out


def page_for_outputs(
    outputs: Mapping[str, Path],
    vtt_text: str,
    audio: Path,
    confidences: Mapping[str, float],
    uncovered: Sequence[tuple[float, float]] = (),
) -> tuple[Path, str]:
    """(where, HTML) of the preview page for subtitles about to be written: the page is
    published with them (pipeline.files.publish_together), so it is made from their text."""
    vtt = outputs["vtt"]
    out = preview_path(vtt)
    inputs = PreviewInputs(vtt, audio, outputs.get("json"))
    subtitles = _parsed_vtt(vtt_text.encode("utf-8"), vtt)
    files = [outputs[f] for f in ("vtt", "srt", "json") if f in outputs]
    return out, render_page(
        inputs, out, subtitles, confidences, LOW_CONFIDENCE, files=files, uncovered=uncovered
    )


def render_page(
    inputs: PreviewInputs,
    out: Path,
    subtitles: _Subtitles,
    confidences: Mapping[str, float],
    threshold: float,
    *,
    files: Sequence[Path] | None = None,
    audio_url: str | None = None,
    uncovered: Sequence[tuple[float, float]] = (),
) -> str:
    """The page's HTML, with links relative to the folder it will be written to.

    files: the subtitle files to link (default: the .vtt, .srt and .json that exist);
    audio_url: where the audio is served, when it is not a file beside the page (a batch
    folder keeps no audio: its pages play the feed's enclosure)."""
    title = subtitles.title or inputs.vtt.stem
    audio_name = audio_url.rsplit("/", 1)[-1] if audio_url else inputs.audio.name
    data = {
        "audio": audio_name,
        "threshold": threshold,
        "confidence": {key: round(float(v), 4) for key, v in confidences.items()},
        "uncovered": [[round(a, 2), round(b, 2)] for a, b in uncovered],
    }
    if files is None:
        sources = [inputs.vtt, inputs.vtt.with_suffix(".srt"), inputs.json]
        files = [p for p in sources if p is not None and p.is_file()]
    links = " · ".join(
        f'<a href="{_attr(relative_url(p, out.parent))}">{html.escape(p.name)}</a>' for p in files
    )
    replacements = {
        "@TITLE@": html.escape(title),
        "@AUDIO_URL@": _attr(audio_url or relative_url(inputs.audio, out.parent)),
        "@AUDIO_NAME@": html.escape(audio_name),
        "@VTT_DATA_URL@": vtt_data_url(subtitles.raw),
        "@VTT_NAME@": html.escape(inputs.vtt.name),
        "@LINKS@": links,
        "@DATA@": _script_json(data),
        "@CSP@": _attr(content_security_policy(audio_url)),
    }
    page = page_template()
    for token, value in replacements.items():
        page = page.replace(token, value)
    return page


def page_template() -> str:
    """The page: HTML, CSS and script in one file beside this module, with @TOKEN@ slots."""
    page = resources.files("pipeline.subtitles").joinpath("preview_page.html")
    return page.read_text(encoding="utf-8")


def relative_url(target: Path, base: Path) -> str:
    """A URL for target relative to folder base, percent-encoded (spaces, #, ä ...)."""
    try:
        rel = Path(os.path.relpath(target.resolve(), base.resolve()))
    except ValueError:  # another drive on Windows: no relative path exists
        return target.resolve().as_uri()
    return quote(rel.as_posix())


def vtt_data_url(raw: bytes) -> str:
    """The .vtt bytes as a data: URL a <track> loads even from a file:// page."""
    return "data:text/vtt;charset=utf-8;base64," + base64.b64encode(raw).decode("ascii")


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _script_json(data: object) -> str:
    # "<" as \u003c: the JSON sits in a <script> element, which "</script>" would end
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


# No network: the page may only use its own inline code and style, and media from files
# or data: URLs (or its own server's, if someone serves the folder over HTTP).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "media-src 'self' file: data: blob:; img-src data:"
)


def content_security_policy(audio_url: str | None = None) -> str:
    """The page's policy: nothing from the network but, for a batch episode, its audio."""
    if not audio_url:
        return CONTENT_SECURITY_POLICY
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(audio_url))
    return CONTENT_SECURITY_POLICY.replace("media-src ", f"media-src {origin} ", 1)


# --- a batch folder: one page per episode and an index -------------------------------------

INDEX_NAME = "index.html"


def holds_several_episodes(paths: Sequence[Path]) -> bool:
    """Whether the preview was asked for a folder of several episodes (a batch's --out)."""
    return len(paths) == 1 and paths[0].is_dir() and len(list(paths[0].glob("*.vtt"))) > 1


def write_folder_preview(folder: Path, threshold: float = LOW_CONFIDENCE) -> list[Path]:
    """Write every episode's page in folder and index.html linking them, as one set;
    return the index, then the pages. An episode's audio is the file beside its .vtt with
    its stem, else the enclosure its batch report names."""
    files: dict[Path, str] = {}
    entries: list[tuple[str, Path]] = []
    for vtt in sorted(folder.glob("*.vtt")):
        out = preview_path(vtt)
        subtitles = _read_vtt(vtt)
        audio, url = _episode_audio(vtt)
        inputs = PreviewInputs(vtt, audio, _json_beside(vtt))
        files[out] = render_page(inputs, out, subtitles, {}, threshold, audio_url=url)
        entries.append((subtitles.title or vtt.stem, out))
    index = folder / INDEX_NAME
    files = {index: index_page(folder.resolve().name, entries, index), **files}
    try:
        published = publish_together(files)
    except OSError as err:
        raise PodalignError(f"cannot write {index}: {err.strerror or err}") from err
    log.info("wrote %d episode pages and %s", len(entries), index)
    return published


def _episode_audio(vtt: Path) -> tuple[Path, str | None]:
    """(local audio, None), or (a placeholder, the enclosure URL from the batch report)."""
    beside = [p for p in vtt.parent.glob(glob_escape(vtt.stem) + ".*")
              if p.suffix.lower() in AUDIO_SUFFIXES]  # fmt: skip
    if beside:
        return sorted(beside)[0], None
    report = vtt.with_name(vtt.stem + ".report.json")
    try:
        url = json.loads(report.read_text(encoding="utf-8"))["episode"]["enclosure"]
    except (OSError, ValueError, KeyError, TypeError):
        url = None
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise PodalignError(f"no audio for {vtt}: put the episode's audio beside it as "
                            f"{vtt.stem}.mp3 (or .m4a, ...)")  # fmt: skip
    return vtt, url


def index_page(title: str, entries: Sequence[tuple[str, Path]], out: Path) -> str:
    """A plain page linking each episode's preview, for a folder of episodes."""
    items = "\n".join(
        f'<li><a href="{_attr(relative_url(page, out.parent))}">{html.escape(name)}</a></li>'
        for name, page in entries
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_attr(CONTENT_SECURITY_POLICY)}">\n'
        f"<title>{html.escape(title)} · podalign preview</title>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<ol>\n{items}\n</ol>\n"
        "<p>made by podalign</p>\n</body>\n</html>\n"
    )
