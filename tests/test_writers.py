from __future__ import annotations

import copy
import html
import json
import os
from pathlib import Path

import jsonschema
import pytest
import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PodalignError
from pipeline.formats import format_for_path, render_subtitles, write_subtitles
from pipeline.records import AlignedSentence, AlignedWord, Alignment, Cue
from pipeline.subtitles.cues import cues_from_alignment
from pipeline.subtitles.writers import TRANSCRIPT_JSON_SCHEMA, vtt_timestamp

TWO_CUES = [
    Cue(
        0,
        2500,
        ("Kunddelaktighet betyder att klienten", "aktivt deltar i planeringen,"),
        "Lehtinen",
        0.9,
        (
            AlignedWord("Kunddelaktighet", 0.0, 0.8),
            AlignedWord("betyder", 0.8, 1.1),
            AlignedWord("att", 1.1, 1.2),
            AlignedWord("klienten", 1.2, 1.6),
            AlignedWord("aktivt", 1.6, 1.9),
            AlignedWord("deltar", 1.9, 2.1),
            AlignedWord("i", 2.1, 2.15),
            AlignedWord("planeringen,", 2.15, 2.5),
        ),
    ),
    Cue(
        3_725_040,
        3_726_999,
        ("R&D <och> A --> B",),
        "Linnanmäki",
        0.4,
        (AlignedWord("R&D", 3725.04, 3725.5), AlignedWord("<och>", 3725.5, 3726.0)),
    ),
]


def test_vtt_golden() -> None:
    assert render_subtitles(TWO_CUES, "vtt", title="Kunddelaktighet") == (
        "WEBVTT Kunddelaktighet\n"
        "\n"
        "1\n"
        "00:00:00.000 --> 00:00:02.500\n"
        "<v Lehtinen>Kunddelaktighet betyder att klienten\n"
        "aktivt deltar i planeringen,\n"
        "\n"
        "2\n"
        "01:02:05.040 --> 01:02:06.999\n"
        "<v Linnanmäki>R&amp;D &lt;och&gt; A --&gt; B\n"
    )


def test_srt_golden() -> None:
    assert render_subtitles(TWO_CUES, "srt") == (
        "1\n"
        "00:00:00,000 --> 00:00:02,500\n"
        "Lehtinen: Kunddelaktighet betyder att klienten\n"
        "aktivt deltar i planeringen,\n"
        "\n"
        "2\n"
        "01:02:05,040 --> 01:02:06,999\n"
        "Linnanmäki: R&D <och> A --> B\n"
        "\n"
    )


def test_srt_labels_only_a_change_of_speaker() -> None:
    cues = [Cue(0, 1000, ("a",), "X"), Cue(1000, 2000, ("b",), "X"), Cue(2000, 3000, ("c",))]
    contents = [s.content for s in srt.parse(render_subtitles(cues, "srt"))]
    assert contents == ["X: a", "b", "c"]


def test_vtt_title_is_one_line_without_an_arrow() -> None:
    text = render_subtitles(TWO_CUES, "vtt", title="Del 1 ---> del 2\nav  3")
    assert text.splitlines()[0] == "WEBVTT Del 1 -> del 2 av 3"
    assert webvtt.from_string(text).header_text == "Del 1 -> del 2 av 3"


def test_vtt_speaker_with_markup_characters_is_escaped() -> None:
    cue = Cue(0, 1000, ("hej",), "A&B <X>")
    text = render_subtitles([cue], "vtt")
    assert "<v A&amp;B &lt;X&gt;>hej" in text
    assert html.unescape(webvtt.from_string(text).captions[0].voice) == "A&B <X>"


def test_json_golden_shape_and_cue_grouping() -> None:
    doc = json.loads(render_subtitles(TWO_CUES, "json"))
    jsonschema.validate(doc, TRANSCRIPT_JSON_SCHEMA)
    assert doc["version"] == "1.0.0"
    assert doc["segments"][0] == {
        "speaker": "Lehtinen",
        "startTime": 0.0,
        "endTime": 0.8,
        "body": "Kunddelaktighet",
    }
    assert doc["segments"][7]["body"] == "planeringen,\n"
    assert doc["segments"][8]["startTime"] == 3725.04
    assert [s["body"] for s in doc["segments"][8:]] == ["R&D", "<och>\n"]


def test_json_cue_without_words_is_one_segment_and_unknown_speaker_is_left_out() -> None:
    doc = json.loads(render_subtitles([Cue(1500, 2000, ("två", "rader"))], "json"))
    assert doc["segments"] == [{"startTime": 1.5, "endTime": 2.0, "body": "två rader\n"}]


def test_vtt_timestamp_keeps_hours_past_a_day() -> None:
    assert vtt_timestamp(0) == "00:00:00.000"
    assert vtt_timestamp(100 * 3_600_000 + 61_001) == "100:01:01.001"


# --- round trips through the real parsers -----------------------------------------

line_text = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=30
).filter(lambda s: s.strip())
line_text = st.one_of(line_text, st.sampled_from(["A --> B", "<b>&amp;</b>", "Linnanmäki ä"]))
speaker = st.one_of(st.none(), st.sampled_from(["Linnanmäki", "Satu Lehtinen", "X>Y&Z"]))


@st.composite
def cue_lists(draw: st.DrawFn) -> list[Cue]:
    cues = []
    t = draw(st.sampled_from([0, 1, 3_599_000, 3_600_000]))
    for _ in range(draw(st.integers(1, 6))):
        length = draw(st.integers(1, 9000))
        lines = tuple(draw(st.lists(line_text, min_size=1, max_size=2)))
        cues.append(Cue(t, t + length, lines, draw(speaker)))
        t += length + draw(st.integers(0, 4_000_000))
    return cues


@settings(max_examples=150, deadline=None)
@given(cue_lists(), st.one_of(st.none(), st.text(max_size=20)))
def test_vtt_round_trip_through_webvtt_py(cues: list[Cue], title: str | None) -> None:
    parsed = webvtt.from_string(render_subtitles(cues, "vtt", title=title))
    assert len(parsed.captions) == len(cues)
    for cue, caption in zip(cues, parsed.captions, strict=True):
        assert caption.start_time.in_milliseconds() == cue.start_ms
        assert caption.end_time.in_milliseconds() == cue.end_ms
        assert html.unescape(caption.text) == "\n".join(cue.lines)
        voice = caption.voice and html.unescape(caption.voice)
        assert voice == cue.speaker


@settings(max_examples=150, deadline=None)
@given(cue_lists())
def test_srt_round_trip_through_srt_parse(cues: list[Cue]) -> None:
    parsed = list(srt.parse(render_subtitles(cues, "srt")))
    assert len(parsed) == len(cues)
    previous = None
    for cue, sub in zip(cues, parsed, strict=True):
        assert sub.start.total_seconds() * 1000 == pytest.approx(cue.start_ms)
        assert sub.end.total_seconds() * 1000 == pytest.approx(cue.end_ms)
        label = f"{cue.speaker}: " if cue.speaker and cue.speaker != previous else ""
        assert sub.content == label + "\n".join(cue.lines)
        previous = cue.speaker


@settings(max_examples=100, deadline=None)
@given(cue_lists())
def test_json_validates_and_regroups_into_the_cues(cues: list[Cue]) -> None:
    doc = json.loads(render_subtitles(cues, "json"))
    jsonschema.validate(doc, TRANSCRIPT_JSON_SCHEMA)
    groups: list[list[dict[str, object]]] = [[]]
    for segment in doc["segments"]:
        assert set(segment) <= {"speaker", "startTime", "endTime", "body"}
        groups[-1].append(segment)
        if str(segment["body"]).endswith("\n"):
            groups.append([])
    assert groups.pop() == []
    assert len(groups) == len(cues)
    for cue, group in zip(cues, groups, strict=True):
        assert all(s.get("speaker") == cue.speaker for s in group)
        for segment in group:
            start, end = (round(float(segment[k]) * 1000) for k in ("startTime", "endTime"))
            assert cue.start_ms <= start <= end <= cue.end_ms


# --- files ------------------------------------------------------------------------


def test_write_subtitles_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    for name in ("ep.vtt", "ep.SRT", "ep.json"):
        out = write_subtitles(TWO_CUES, tmp_path / name)
        assert out.read_text(encoding="utf-8") == render_subtitles(TWO_CUES, format_for_path(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.SRT", "ep.json", "ep.vtt"]


def test_explicit_format_wins_over_the_suffix(tmp_path: Path) -> None:
    out = write_subtitles(TWO_CUES, tmp_path / "subs.txt", "vtt")
    assert out.read_text(encoding="utf-8").startswith("WEBVTT")


def test_unknown_format_names_it_and_the_choices(tmp_path: Path) -> None:
    with pytest.raises(PodalignError, match=r"'ass'.*vtt, srt, json"):
        write_subtitles(TWO_CUES, tmp_path / "x.vtt", "ass")
    with pytest.raises(PodalignError, match=r"x\.txt.*'txt'.*vtt, srt, json"):
        write_subtitles(TWO_CUES, tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


def test_failed_render_leaves_the_existing_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "ep.vtt"
    write_subtitles(TWO_CUES, out)
    good = out.read_bytes()
    with pytest.raises(ValueError, match="cue 2"):
        write_subtitles([TWO_CUES[0], Cue(-5, 10, ("x",))], out)
    assert out.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["ep.vtt"]


def test_folder_that_is_a_file_is_reported_with_the_path(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("keep me", encoding="utf-8")
    target = not_a_folder / "ep.vtt"
    with pytest.raises(PodalignError, match=r"notes\.txt/ep\.vtt"):
        write_subtitles(TWO_CUES, target)
    assert not_a_folder.read_text(encoding="utf-8") == "keep me"


def test_path_that_is_a_folder_is_reported_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "ep.srt"
    folder.mkdir()
    (folder / "inside").write_text("x", encoding="utf-8")
    with pytest.raises(PodalignError, match=r"ep\.srt"):
        write_subtitles(TWO_CUES, folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.srt"]
    assert [p.name for p in folder.iterdir()] == ["inside"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_keeps_the_old_file(tmp_path: Path) -> None:
    out = write_subtitles(TWO_CUES, tmp_path / "ep.vtt")
    good = out.read_bytes()
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(PodalignError, match=r"ep\.vtt"):
            write_subtitles(TWO_CUES[:1], out)
    finally:
        tmp_path.chmod(0o700)
    assert out.read_bytes() == good


def test_cues_from_a_real_alignment_survive_every_format(tmp_path: Path) -> None:
    text = "Eila Linnanmäki, vad innebär egentligen kunddelaktighet & kundorientering?"
    words = tuple(AlignedWord(w, 0.3 * k, 0.3 * k + 0.25) for k, w in enumerate(text.split()))
    sentence = AlignedSentence(0, 0, "Lehtinen", text, words)
    cues = cues_from_alignment(Alignment((sentence,), 10.0, "same-language"))
    parsed = webvtt.read(str(write_subtitles(cues, tmp_path / "ep.vtt")))
    assert " ".join(html.unescape(c.text).replace("\n", " ") for c in parsed) == text
    assert {c.voice for c in parsed} == {"Lehtinen"}
    subs = list(srt.parse((write_subtitles(cues, tmp_path / "ep.srt")).read_text("utf-8")))
    assert subs[0].content.startswith("Lehtinen: Eila")
    doc = json.loads(write_subtitles(cues, tmp_path / "ep.json").read_text("utf-8"))
    assert " ".join(s["body"].strip() for s in doc["segments"]) == text


# The JSON snippet of the Podcasting 2.0 transcripts spec (Podcastindex-org/podcast-namespace,
# transcripts/transcripts.md, "JSON"): the format's own example, not one podalign wrote.
NAMESPACE_JSON_EXAMPLE = {
    "version": "1.0.0",
    "segments": [
        {"speaker": "Darth Vader", "startTime": 0.5, "endTime": 0.75, "body": "I"},
        {"speaker": "Darth Vader", "startTime": 1, "endTime": 1.25, "body": "am"},
        {"speaker": "Darth Vader", "startTime": 1.5, "endTime": 2.0, "body": "your"},
        {"speaker": "Darth Vader", "startTime": 2.25, "endTime": 2.50, "body": "father.\n"},
        {"speaker": "Luke", "startTime": 2.75, "endTime": 3.0, "body": "Nooooo"},
    ],
}


def test_the_json_schema_accepts_the_namespace_example_and_refuses_its_breakages() -> None:
    jsonschema.validate(NAMESPACE_JSON_EXAMPLE, TRANSCRIPT_JSON_SCHEMA)
    for field in ("startTime", "body"):
        broken = copy.deepcopy(NAMESPACE_JSON_EXAMPLE)
        del broken["segments"][0][field]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, TRANSCRIPT_JSON_SCHEMA)
