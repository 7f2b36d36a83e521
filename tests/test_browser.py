"""The preview page in real headless Chromium: its own WebVTT parser reads podalign's cues.

One browser for the whole module (the machine is small); a fresh page per test. The
cue list is read back from ``track.cues`` with ``getCueAsHTML()``: a ``<v Name>`` voice
becomes ``<span title="Name">``, so the voice is the parser's, not a regex's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import srt
from episode_pages import SAMPLE_DIR, UNSURE_SENTENCE, sample_cues, write_episode

from pipeline.records import Cue
from pipeline.subtitles.preview import find_inputs, write_preview
from pipeline.subtitles.writers import TRANSCRIPT_JSON_SCHEMA

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # ignored by git


def _why_no_browser() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install playwright)"
    return None


NO_BROWSER = _why_no_browser()
pytestmark = [
    pytest.mark.slow,
    # in CI a missing browser is a failure (see the browser fixture), never a silent skip
    pytest.mark.skipif(
        NO_BROWSER is not None and not os.environ.get("CI"), reason=NO_BROWSER or ""
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if NO_BROWSER is not None:
        pytest.fail(f"CI is set but {NO_BROWSER}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Opened:
    """A preview page in the browser, with everything it asked the network for."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture()
def open_page(browser: Any) -> Iterator[Any]:
    contexts = []

    def open_(html_path: Path) -> Opened:
        context = browser.new_context(viewport={"width": 1100, "height": 760})
        contexts.append(context)
        opened = Opened(context.new_page())
        opened.page.on("request", lambda r: opened.requests.append(r.url))
        opened.page.on("pageerror", lambda e: opened.errors.append(str(e)))
        opened.page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
        opened.page.goto(html_path.resolve().as_uri())
        opened.page.wait_for_selector("html[data-state=ready]", timeout=10_000)
        return opened

    yield open_
    for context in contexts:
        context.close()


BROWSER_CUES_JS = """() => Array.from(document.getElementById("subtitles").track.cues, (cue) => {
  const fragment = cue.getCueAsHTML();
  const voice = fragment.querySelector("span[title]");
  return {start_ms: Math.round(cue.startTime * 1000), end_ms: Math.round(cue.endTime * 1000),
          text: fragment.textContent, voice: voice ? voice.getAttribute("title") : null};
})"""


def browser_cues(opened: Opened) -> list[dict[str, Any]]:
    """The cues as Chromium's WebVTT parser made them, times in whole milliseconds."""
    return opened.page.evaluate(BROWSER_CUES_JS)


def podalign_cues(cues: Sequence[Cue]) -> list[dict[str, Any]]:
    return [
        {"start_ms": c.start_ms, "end_ms": c.end_ms, "text": c.text, "voice": c.speaker}
        for c in cues
    ]


def active_rows(opened: Opened) -> list[int]:
    return opened.page.eval_on_selector_all(
        "#transcript li.active", "items => items.map(i => Number(i.dataset.index))"
    )


def seek(opened: Opened, seconds: float) -> None:
    """Set the audio's position and wait until the page has reacted to the seek."""
    opened.page.evaluate(
        """(t) => new Promise((done) => {
             const audio = document.getElementById("audio");
             audio.addEventListener("seeked", () => setTimeout(done, 0), {once: true});
             audio.currentTime = t;
           })""",
        seconds,
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Cue], Path]:
    """podalign's cues for the sample episode and the preview page made from them."""
    cues = sample_cues()
    folder = tmp_path_factory.mktemp("sample")
    return cues, write_episode(folder, cues, title="Kunddelaktighet (sample)")


@pytest.fixture(scope="module")
def aligned_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page for what `podalign align samples/sample-sv` writes (as `make demo` runs it),
    aligned here into tmp with the real model: a fresh clone has no episode.vtt."""
    folder = tmp_path_factory.mktemp("aligned")
    shutil.copyfile(SAMPLE_DIR / "episode.mp3", folder / "episode.mp3")
    formats = [arg for fmt in ("vtt", "srt", "json") for arg in ("--format", fmt)]
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "align", str(folder / "episode.mp3"),
         "--transcript", str(SAMPLE_DIR / "transcript.txt"), "--lang", "auto",
         "-o", str(folder / "episode.vtt"), *formats, "--cache-dir", str(folder / "cache")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return write_preview(find_inputs([folder]))


# --- the cue list --------------------------------------------------------------------------


def test_sample_episode_cues_in_the_browser_equal_podalign_cues(
    sample: tuple[list[Cue], Path], open_page: Any
) -> None:
    cues, html_path = sample
    opened = open_page(html_path)
    assert browser_cues(opened) == podalign_cues(cues)
    rows = opened.page.locator("#transcript li")
    assert rows.count() == len(cues)
    assert opened.page.locator("#transcript li .speaker").first.inner_text() == "Lehtinen"


EDGE_CASES: dict[str, list[Cue]] = {
    "long lines": [
        Cue(1000, 4000, ("A" * 120, "mycket " * 20 + "långt")),
        Cue(4000, 9000, ("x" * 400,), "Lehtinen"),
    ],
    "non-ASCII speakers": [
        Cue(0, 1000, ("Hej!",), "Linnanmäki"),
        Cue(1000, 2000, ("Tack.",), "Åsa Öström"),
        Cue(2000, 3000, ("Ja.",), "Δήμητρα Jääskeläinen"),
        Cue(3000, 4000, ("好",), "李"),
        Cue(4000, 5000, ("Nå?",), "Satu Lehtinen"),
    ],
    "zero and past an hour": [
        Cue(0, 1, ("första millisekunden",), "Linnanmäki"),
        Cue(3_599_999, 3_600_001, ("över timgränsen",), "Lehtinen"),
        Cue(3_723_456, 3_723_456, ("noll längd",)),
        Cue(36_000_000, 36_001_999, ("tio timmar",), "Linnanmäki"),
        Cue(360_000_000, 360_000_001, ("hundra timmar",), "Lehtinen"),
    ],
    "markup characters": [
        Cue(0, 1000, ("a < b && c > d", "A --> B"), "Lehtinen"),
        Cue(1000, 2000, ("<v Fake>inte en röst",)),
        Cue(2000, 3000, ("&amp; &lt; &#62; stays literal",), "A&B <X>"),
        Cue(3000, 4000, ("<b>fet?</b> <c.x>c</c> <00:00:03.500> ",), "Linnanmäki"),
        Cue(4000, 5000, ("00:00:01.000 --> 00:00:02.000",), "Lehtinen"),
        Cue(5000, 6000, ("NOTE not a comment", "WEBVTT"), "Lehtinen"),
    ],
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_case_cues_in_the_browser_equal_podalign_cues(
    case: str, tmp_path: Path, open_page: Any
) -> None:
    cues = EDGE_CASES[case]
    opened = open_page(write_episode(tmp_path, cues, title=f"edge case: {case} --> <&>"))
    assert browser_cues(opened) == podalign_cues(cues)
    assert opened.page.title() == f"edge case: {case} -> <&> · podalign preview"
    assert opened.errors == []


@pytest.mark.parametrize("run", ["sample", "aligned_sample"])
def test_sample_srt_and_json_agree_with_the_browser_cues(
    run: str, request: pytest.FixtureRequest, open_page: Any
) -> None:
    """The three files of one run describe the same cues, each read by its own parser."""
    made = request.getfixturevalue(run)
    html_path = made[1] if isinstance(made, tuple) else made
    opened = open_page(html_path)
    seen = browser_cues(opened)
    assert seen, "the browser found no cues"
    assert opened.page.locator("#transcript li").count() == len(seen)
    folder = html_path.parent
    subs = list(srt.parse((folder / "episode.srt").read_text(encoding="utf-8")))
    assert [(round(s.start.total_seconds() * 1000), round(s.end.total_seconds() * 1000))
            for s in subs] == [(c["start_ms"], c["end_ms"]) for c in seen]  # fmt: skip
    previous = None
    for sub, cue in zip(subs, seen, strict=True):
        label = f"{cue['voice']}: " if cue["voice"] and cue["voice"] != previous else ""
        assert sub.content == label + cue["text"]
        previous = cue["voice"]

    document = json.loads((folder / "episode.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, TRANSCRIPT_JSON_SCHEMA)
    groups: list[list[dict[str, Any]]] = [[]]
    for segment in document["segments"]:
        groups[-1].append(segment)
        if segment["body"].endswith("\n"):
            groups.append([])
    assert groups.pop() == []
    for group, cue in zip(groups, seen, strict=True):
        assert {s.get("speaker") for s in group} == {cue["voice"]}
        assert " ".join(s["body"].strip() for s in group) == cue["text"].replace("\n", " ")
        assert cue["start_ms"] <= round(group[0]["startTime"] * 1000)
        assert round(group[-1]["endTime"] * 1000) <= cue["end_ms"]


# --- the page at work ---------------------------------------------------------------------------


def test_clicking_a_line_seeks_the_audio_there(
    sample: tuple[list[Cue], Path], open_page: Any
) -> None:
    cues, html_path = sample
    opened = open_page(html_path)
    audio_position = "document.getElementById('audio').currentTime"
    assert opened.page.evaluate(audio_position) == 0
    opened.page.locator("#transcript li").nth(5).locator("button").click()
    opened.page.evaluate("document.getElementById('audio').pause()")
    position = opened.page.evaluate(audio_position)
    assert cues[5].start_ms / 1000 <= position < cues[5].start_ms / 1000 + 1.0
    assert active_rows(opened) == [5]


def test_the_cue_at_the_current_time_is_highlighted(
    sample: tuple[list[Cue], Path], open_page: Any
) -> None:
    cues, html_path = sample
    opened = open_page(html_path)
    assert active_rows(opened) == []  # 0 s: before the first cue
    seek(opened, (cues[3].start_ms + cues[3].end_ms) / 2000)
    assert active_rows(opened) == [3]
    assert opened.page.locator("#transcript li.active").get_attribute("aria-current") == "true"
    # where one cue ends as the next starts, the instant belongs to the next one only
    n = next(n for n in range(1, len(cues)) if cues[n - 1].end_ms == cues[n].start_ms)
    seek(opened, cues[n].start_ms / 1000)
    assert active_rows(opened) == [n]
    seek(opened, (cues[0].start_ms - 500) / 1000)  # silence before the first cue: none
    assert active_rows(opened) == []


def test_low_confidence_cues_are_marked(sample: tuple[list[Cue], Path], open_page: Any) -> None:
    cues, html_path = sample
    opened = open_page(html_path)
    marked = opened.page.eval_on_selector_all(
        "#transcript li.doubtful", "items => items.map(i => Number(i.dataset.index))"
    )
    unsure = [n for n, cue in enumerate(cues) if cue.confidence < 0.5]
    assert unsure, f"the sample's sentence {UNSURE_SENTENCE} should give unsure cues"
    assert marked == unsure
    assert opened.page.locator("#transcript li.doubtful .mark").first.inner_text() == "⚠ unsure"
    status = opened.page.locator("#status").inner_text()
    assert status == f"{len(cues)} cues, {len(unsure)} marked unsure."


def test_page_loads_nothing_but_its_own_files(
    sample: tuple[list[Cue], Path], open_page: Any
) -> None:
    _, html_path = sample
    opened = open_page(html_path)
    opened.page.wait_for_function("document.getElementById('audio').readyState >= 1")
    assert opened.errors == []
    assert {url.split(":", 1)[0] for url in opened.requests} <= {"file", "data"}
    assert any(url.endswith("/episode.mp3") for url in opened.requests)
    duration = opened.page.evaluate("document.getElementById('audio').duration")
    assert duration == pytest.approx(64.4, abs=0.5)  # the real audio, played from file://


def test_screenshot_of_the_sample_page(
    sample: tuple[list[Cue], Path], open_page: Any, tmp_path: Path
) -> None:
    cues, html_path = sample
    opened = open_page(html_path)
    seek(opened, (cues[5].start_ms + 200) / 1000)  # just after the unsure cues, so both show
    shot = opened.page.screenshot(full_page=True)
    (tmp_path / "preview.png").write_bytes(shot)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "preview.png").write_bytes(shot)
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
