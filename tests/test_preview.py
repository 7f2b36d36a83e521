"""podalign preview: which files it picks, the page it writes, and its one-line errors.

What the page does in a browser is tested in test_browser.py.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from episode_pages import write_episode

from pipeline.cli.preview import add_commands
from pipeline.errors import PodalignError
from pipeline.formats import write_subtitles
from pipeline.records import Cue
from pipeline.subtitles.preview import PreviewInputs, find_inputs, write_preview

CUES = [
    Cue(0, 1500, ("Hej och välkommen.",), "Lehtinen", 0.9),
    Cue(1500, 3200, ("Tack, Satu.",), "Linnanmäki", 0.2),
]


class _Page(HTMLParser):
    """What a browser would find in the page: element attributes and script contents."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.attrs: dict[str, dict[str, str | None]] = {}  # by id
        self.scripts: dict[str, str] = {}  # by id
        self.title = ""
        self.csp: str | None = None
        self._in: tuple[str, str | None] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if named.get("http-equiv") == "Content-Security-Policy":
            self.csp = named.get("content")
        if named.get("id"):
            self.attrs[str(named["id"])] = named
        if tag in ("script", "title"):
            self._in = (tag, named.get("id"))

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == ("title", None):
            self.title += data
        elif self._in and self._in[0] == "script" and self._in[1]:
            self.scripts[self._in[1]] = self.scripts.get(self._in[1], "") + data


def parsed(path: Path) -> _Page:
    return _Page(path.read_text(encoding="utf-8"))


def embedded_vtt(page: _Page) -> bytes:
    src = str(page.attrs["subtitles"]["src"])
    prefix = "data:text/vtt;charset=utf-8;base64,"
    assert src.startswith(prefix)
    return base64.b64decode(src[len(prefix) :])


def episode(folder: Path, stem: str = "episode", cues: list[Cue] = CUES) -> Path:
    """folder with <stem>.mp3 (a stand-in: preview never decodes it) and the subtitles."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.mp3").write_bytes(b"ID3 not really audio")
    for fmt in ("vtt", "srt", "json"):
        write_subtitles(cues, folder / f"{stem}.{fmt}")
    return folder


# --- finding the files ----------------------------------------------------------------------


def test_episode_folder_gives_its_vtt_audio_and_json_but_not_other_json(tmp_path: Path) -> None:
    folder = episode(tmp_path)
    (folder / "truth.json").write_text("{}", encoding="utf-8")
    (folder / "transcript.txt").write_text("Lehtinen: Hej.", encoding="utf-8")
    assert find_inputs([folder]) == PreviewInputs(
        vtt=folder / "episode.vtt", audio=folder / "episode.mp3", json=folder / "episode.json"
    )


def test_vtt_alone_finds_the_audio_with_its_stem_among_others(tmp_path: Path) -> None:
    folder = episode(tmp_path, stem="avsnitt 3")
    (folder / "intro.mp3").write_bytes(b"x")
    inputs = find_inputs([folder / "avsnitt 3.vtt"])
    assert inputs.audio == folder / "avsnitt 3.mp3"


def test_only_audio_file_beside_the_vtt_is_used_whatever_its_name(tmp_path: Path) -> None:
    episode(tmp_path)
    (tmp_path / "episode.mp3").rename(tmp_path / "ep-42.m4a")
    (tmp_path / "episode.json").unlink()
    inputs = find_inputs([tmp_path])
    assert (inputs.audio, inputs.json) == (tmp_path / "ep-42.m4a", None)


def test_named_files_win_over_what_lies_beside_the_vtt(tmp_path: Path) -> None:
    folder = episode(tmp_path / "subs")
    elsewhere = tmp_path / "audio" / "master.wav"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"RIFF")
    inputs = find_inputs([elsewhere, folder / "episode.vtt"])
    assert inputs.audio == elsewhere
    assert inputs.json == folder / "episode.json"


def test_audio_alone_finds_the_vtt_in_its_folder(tmp_path: Path) -> None:
    episode(tmp_path)
    assert find_inputs([tmp_path / "episode.mp3"]).vtt == tmp_path / "episode.vtt"


@pytest.mark.parametrize(
    ("arrange", "args", "message"),
    [
        (lambda d: None, lambda d: [d / "nope"], r"no such file or folder: .*nope$"),
        (lambda d: (d / "a.mp3").write_bytes(b"x"), lambda d: [d],
         r"no \.vtt file in .*: run podalign align first"),
        (lambda d: [(d / n).write_text("WEBVTT\n") for n in ("a.vtt", "b.vtt")],
         lambda d: [d], r"holds several \.vtt files \(a\.vtt, b\.vtt\): name the one to use"),
        (lambda d: (d / "a.vtt").write_text("WEBVTT\n"), lambda d: [d],
         r"no audio file beside .*a\.vtt: name the episode's audio file too"),
        (lambda d: [(d / n).write_text("x") for n in ("a.vtt", "x.mp3", "y.ogg")],
         lambda d: [d], r"several audio files beside .*\(x\.mp3, y\.ogg\)"),
        (lambda d: (d / "a.srt").write_text("x"), lambda d: [d / "a.srt"],
         r"cannot use .*a\.srt in a preview: .*; the page is built from the \.vtt$"),
        (lambda d: (d / "a.txt").write_text("x"), lambda d: [d / "a.txt"],
         r"cannot use .*a\.txt in a preview: expected audio \(\.mp3"),
        (lambda d: [(d / n).write_text("x") for n in ("a.vtt", "b.vtt")],
         lambda d: [d / "a.vtt", d / "b.vtt"], r"two vtt files given .*: give one"),
        (lambda d: None, lambda d: [], r"needs an episode folder"),
    ],
    ids=["missing", "no-vtt", "two-vtt", "no-audio", "two-audio", "srt", "txt", "two-named",
         "nothing"],
)  # fmt: skip
def test_unusable_inputs_are_one_line_errors_naming_them(
    tmp_path: Path,
    arrange: Callable[[Path], object],
    args: Callable[[Path], list[Path]],
    message: str,
) -> None:
    arrange(tmp_path)
    with pytest.raises(PodalignError, match=message) as caught:
        find_inputs(args(tmp_path))
    assert "\n" not in str(caught.value)


# --- the page -------------------------------------------------------------------------------


def test_page_lies_beside_the_vtt_and_embeds_its_exact_bytes(tmp_path: Path) -> None:
    folder = episode(tmp_path)
    page_path = write_preview(find_inputs([folder]))
    assert page_path == folder / "episode.preview.html"
    page = parsed(page_path)
    assert embedded_vtt(page) == (folder / "episode.vtt").read_bytes()
    assert page.attrs["audio"]["src"] == "episode.mp3"
    assert page.title == "episode · podalign preview"


def test_audio_is_linked_relative_to_the_page_and_percent_encoded(tmp_path: Path) -> None:
    folder = episode(tmp_path / "avsnitt #1", stem="min episod ä")
    out = tmp_path / "pages" / "p.html"
    out.parent.mkdir()
    write_preview(find_inputs([folder]), out)
    src = parsed(out).attrs["audio"]["src"]
    assert src == "../avsnitt%20%231/min%20episod%20%C3%A4.mp3"
    assert 'href="../avsnitt%20%231/min%20episod%20%C3%A4.srt"' in out.read_text("utf-8")


def test_names_and_title_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    folder = episode(tmp_path, stem='x<!--<script>&"')
    write_subtitles(CUES, folder / 'x<!--<script>&".vtt', title="<script>alert(1)</script> & co")
    inputs = find_inputs([folder])
    # a cue identifier can be any text: "</script>" in the embedded data must not end it
    page = parsed(write_preview(inputs, confidences={"</script><b>": 0.1}))
    assert page.title == "<script>alert(1)</script> & co · podalign preview"
    data = json.loads(page.scripts["podalign-data"])
    assert data["audio"] == 'x<!--<script>&".mp3'
    assert data["confidence"] == {"</script><b>": 0.1}
    assert page.attrs["audio"]["src"] == "x%3C%21--%3Cscript%3E%26%22.mp3"
    assert "alert" not in "".join(page.scripts.values())


def test_page_refers_to_no_other_site(tmp_path: Path) -> None:
    page_path = write_preview(find_inputs([episode(tmp_path)]))
    assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", page_path.read_text("utf-8")) == []
    policy = _Page(page_path.read_text("utf-8")).csp
    assert policy is not None and policy.startswith("default-src 'none';")


def test_confidences_given_are_embedded_by_cue_number(tmp_path: Path) -> None:
    inputs = find_inputs([episode(tmp_path)])
    page = parsed(write_preview(inputs, confidences={"1": 0.9, "2": 0.2}, threshold=0.25))
    data = json.loads(page.scripts["podalign-data"])
    assert data["confidence"] == {"1": 0.9, "2": 0.2}
    assert data["threshold"] == 0.25


def test_the_sample_page_is_written_with_every_cue(tmp_path: Path) -> None:
    cues = [*CUES, Cue(3_600_000, 3_601_000, ("över en timme",), "Linnanmäki", 1.0)]
    page = parsed(write_episode(tmp_path, cues))
    assert embedded_vtt(page).decode("utf-8").count(" --> ") == 3


def test_unwritable_page_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    inputs = find_inputs([episode(tmp_path)])
    with pytest.raises(PodalignError, match=r"cannot write .*missing/p\.html: "):
        write_preview(inputs, tmp_path / "missing" / "p.html")


def test_a_vtt_that_is_not_webvtt_is_named(tmp_path: Path) -> None:
    folder = episode(tmp_path)
    (folder / "episode.vtt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHej\n")
    with pytest.raises(PodalignError, match=r"episode\.vtt is not a WebVTT file"):
        write_preview(find_inputs([folder]))
    (folder / "episode.vtt").write_bytes(b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xe4\n")
    with pytest.raises(PodalignError, match=r"episode\.vtt is not UTF-8 text"):
        write_preview(find_inputs([folder]))


# --- command line ------------------------------------------------------------------------------


def _cli() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podalign")
    add_commands(parser.add_subparsers(dest="command"))
    return parser


def test_preview_command_writes_the_page_and_prints_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = episode(tmp_path)
    args = _cli().parse_args(["preview", str(folder), "--low-confidence", "0.3"])
    assert args.func(args) == 0
    page_path = folder / "episode.preview.html"
    assert capsys.readouterr().out.strip() == str(page_path)
    assert json.loads(parsed(page_path).scripts["podalign-data"])["threshold"] == 0.3


def test_preview_command_takes_files_and_an_output(tmp_path: Path) -> None:
    folder = episode(tmp_path)
    out = tmp_path / "elsewhere.html"
    args = _cli().parse_args(
        ["preview", str(folder / "episode.mp3"), str(folder / "episode.vtt"), "-o", str(out)]
    )
    assert args.func(args) == 0
    assert parsed(out).attrs["audio"]["src"] == "episode.mp3"
