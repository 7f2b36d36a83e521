from __future__ import annotations

import csv
import logging
import re
import tempfile
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loopback import LoopbackServer, Route

from pipeline.batch.feed import TranscriptLink
from pipeline.batch.matching import best_link, download_linked
from pipeline.errors import PodalignError
from pipeline.formats import FORMATS, TRANSCRIPT_SUFFIXES, form_for_type
from pipeline.inputs.transcript import (
    fuller_names,
    guess_text_language,
    parse_reference,
    read_reference,
    read_transcript,
    split_sentences,
)
from pipeline.records import Reference
from samples import render_transcripts as render

SEEDS = Path("/work/shared/seeds")
CLEAN_SEED = SEEDS / "000_7a72ba570e7071f8.txt"
PDF_SEED = SEEDS / "004_acc0c939657545ea.txt"
REALSPEECH = Path("/work/shared/realspeech")
# The two seeds differ only in these two typos of the clean file.
CLEAN_TYPOS = {"bllas": "bollas", "veckligt": "vekligt"}

FIRST_SENTENCE = (
    "Kunddelaktighet betyder att klienten aktivt deltar i planeringen, produktionen, "
    "utvecklingen och bedömningen av tjänster."
)

needs_seeds = pytest.mark.skipif(not PDF_SEED.exists(), reason="seed transcripts not present")


def _without_typos(text: str) -> str:
    for typo, fixed in CLEAN_TYPOS.items():
        text = text.replace(typo, fixed)
    return text


@pytest.fixture(scope="module")
def clean() -> Reference:
    return read_reference(CLEAN_SEED)


@pytest.fixture(scope="module")
def pdf() -> Reference:
    return read_reference(PDF_SEED)


# --- the two seed transcripts --------------------------------------------------


@needs_seeds
def test_seeds_give_identical_turns_apart_from_the_two_typos(
    clean: Reference, pdf: Reference
) -> None:
    assert [t.speaker for t in clean.turns] == [t.speaker for t in pdf.turns]
    assert [len(t.sentences) for t in clean.turns] == [len(t.sentences) for t in pdf.turns]
    differing = [
        (a.text, b.text) for a, b in zip(clean.sentences, pdf.sentences, strict=True) if a != b
    ]
    assert len(differing) == 2  # the typos really are there, and nothing else differs
    assert all(_without_typos(a) == b for a, b in differing)


@needs_seeds
def test_seed_speakers_alternate_starting_with_lehtinen(clean: Reference) -> None:
    speakers = [t.speaker for t in clean.turns]
    assert len(speakers) == 21
    assert speakers[::2] == ["Lehtinen"] * 11
    assert speakers[1::2] == ["Linnanmäki"] * 10


@needs_seeds
@pytest.mark.parametrize("seed", [CLEAN_SEED, PDF_SEED], ids=["clean", "pdf"])
def test_seed_headers_and_urls_are_not_sentences(seed: Path) -> None:
    reference = read_reference(seed)
    assert reference.sentences[0].text == FIRST_SENTENCE
    for sentence in reference.sentences:
        assert not re.search(r"http|Podcast:|Länk till|soundcloud|\*\*", sentence.text)
        assert sentence.text == " ".join(sentence.text.split())
    assert reference.language == "sv"


@needs_seeds
def test_unlabelled_paragraph_continues_lehtinen(clean: Reference, pdf: Reference) -> None:
    for reference in (clean, pdf):
        first_turn = reference.turns[0]
        assert first_turn.speaker == "Lehtinen"
        assert any(s.startswith("Eila Linnanmäki, du är ledande") for s in first_turn.sentences)
        assert (
            first_turn.sentences[-1] == "Eila Linnanmäki, vad innebär egentligen kunddelaktighet?"
        )


@needs_seeds
def test_page_break_inside_a_turn_keeps_one_turn(pdf: Reference) -> None:
    # The PDF repeats the link after this sentence, in the middle of Linnanmäki's answer.
    turn = next(
        t for t in pdf.turns if "Och särskilt om vi pratar om kunddelaktighet." in t.sentences
    )
    assert turn.speaker == "Linnanmäki"
    assert turn.sentences[0].startswith("Kundorientering kan tänkas vara")


# --- plain-text rules ------------------------------------------------------------


def test_plain_text_without_labels_is_one_anonymous_turn() -> None:
    reference = parse_reference("Tämä on ensimmäinen lause.\nToinen lause tulee tässä!\n\nKolmas?")
    assert len(reference.turns) == 1
    assert reference.turns[0].speaker is None
    assert reference.turns[0].sentences == (
        "Tämä on ensimmäinen lause.",
        "Toinen lause tulee tässä!",
        "Kolmas?",
    )


def test_text_before_the_first_label_is_an_anonymous_turn() -> None:
    text = "Podcast: **Titel**\n\nIntro utan talare.\n\nAnna: Hej.\nBo Ek: Hej själv.\nAnna: Bra."
    reference = parse_reference(text)
    assert [(t.speaker, t.sentences) for t in reference.turns] == [
        (None, ("Intro utan talare.",)),
        ("Anna", ("Hej.",)),
        ("Bo Ek", ("Hej själv.",)),
        ("Anna", ("Bra.",)),
    ]


def test_full_name_label_and_consecutive_paragraphs_of_one_speaker_merge() -> None:
    text = "Eila Linnanmäki: Ja.\n\nEila Linnanmäki: Säkert.\n\nMen visst.\n\nLehtinen: Tack."
    reference = parse_reference(text)
    assert [(t.speaker, t.sentences) for t in reference.turns] == [
        ("Eila Linnanmäki", ("Ja.", "Säkert.", "Men visst.")),
        ("Lehtinen", ("Tack.",)),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Istället går det ofta så här: man samlar in respons.",
        "Länk till podcasten, transkriberad nedan: och sedan mer text.",
        "Kl 10: vi börjar.",
        "Agent 007: Hej.",
        "En två tre fyra: för många ord.",
    ],
)
def test_colon_lines_that_are_not_speaker_labels(line: str) -> None:
    reference = parse_reference(f"Anna: Först.\n{line}")
    assert [t.speaker for t in reference.turns] == ["Anna"]


def test_wrapped_link_header_and_repeated_bare_urls_are_dropped() -> None:
    text = (
        "Länk till podcasten: https://example.org/user-\n"
        "123/some-episode?in=user-\n"
        "123/sets/series\n\n"
        "Anna: Det här är en mening som\n\n"
        "https://example.org/user-123/some-episode\n"
        "<https://example.org/x>\n\n"
        "fortsätter efter sidbrytningen. Nästa\u00a0mening  här.\n"
    )
    reference = parse_reference(text)
    assert [(t.speaker, t.sentences) for t in reference.turns] == [
        ("Anna", ("Det här är en mening som fortsätter efter sidbrytningen.", "Nästa mening här.")),
    ]


def test_label_alone_on_its_line_takes_the_following_text() -> None:
    reference = parse_reference("Anna:\nHej på dig.\n\nBo:\n\nHej.")
    assert [(t.speaker, t.sentences) for t in reference.turns] == [
        ("Anna", ("Hej på dig.",)),
        ("Bo", ("Hej.",)),
    ]


# --- subtitle files as reference --------------------------------------------------


def test_vtt_voice_spans_give_turns_and_sentences_span_cues(tmp_path: Path) -> None:
    path = tmp_path / "old.vtt"
    path.write_text(
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:02.000\n<v Lehtinen>Välkommen till podden. Idag talar vi\n\n"
        "00:00:02.000 --> 00:00:04.000\n<v Lehtinen>om <i>kunddelaktighet</i>.\n\n"
        "00:00:04.000 --> 00:00:06.000\n<v.loud Eila Linnanmäki>Tack.</v> Det är roligt.\n\n"
        "00:00:06.000 --> 00:00:07.000\nJa, verkligen.\n",
        encoding="utf-8",
    )
    reference = read_reference(path)
    assert [(t.speaker, t.sentences) for t in reference.turns] == [
        ("Lehtinen", ("Välkommen till podden.", "Idag talar vi om kunddelaktighet.")),
        ("Eila Linnanmäki", ("Tack.", "Det är roligt.", "Ja, verkligen.")),
    ]


def test_srt_leading_name_labels_give_turns(tmp_path: Path) -> None:
    path = tmp_path / "old.SRT"
    path.write_text(
        "1\n00:00:00,000 --> 00:00:02,000\nLehtinen: Mitä kuuluu?\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\nLinnanmäki: Hyvää kuuluu.\n<i>Kiitos</i> kysymästä.\n\n"
        "3\n00:00:04,000 --> 00:00:05,000\nLinnanmäki: Entä sinulle?\n",
        encoding="utf-8",
    )
    reference = read_reference(path)
    assert [(t.speaker, t.sentences) for t in reference.turns] == [
        ("Lehtinen", ("Mitä kuuluu?",)),
        ("Linnanmäki", ("Hyvää kuuluu.", "Kiitos kysymästä.", "Entä sinulle?")),
    ]


def test_malformed_vtt_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.vtt"
    path.write_text("this is not webvtt\n", encoding="utf-8")
    with pytest.raises(PodalignError, match=r"bad\.vtt.*WebVTT"):
        read_reference(path)


# --- input errors ------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(PodalignError, match=r"nope\.txt"):
        read_reference(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    "content", ["", "  \n\n \t\n", "Podcast: **Titel**\n\nLänk: https://example.org/a\n"]
)
def test_transcript_without_text_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PodalignError, match=r"empty\.txt has no transcript text"):
        read_reference(path)


def test_binary_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "episode.txt"
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x23TSSE\x00\x00\x00\x0f\x00\x00\x03Lavf")
    with pytest.raises(PodalignError, match=r"episode\.txt is a binary file"):
        read_reference(path)


def test_non_utf8_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Anna: Hej på dig.".encode("latin-1"))
    with pytest.raises(PodalignError, match=r"latin1\.txt is not UTF-8"):
        read_reference(path)


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("Anna: Hej på dig.".encode("utf-8-sig"))
    assert read_reference(path).turns[0].speaker == "Anna"


# --- sentence splitting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Vi såg t.ex. Helsingfors. Sedan gick vi.",
            ["Vi såg t.ex. Helsingfors.", "Sedan gick vi."],
        ),
        ("Det finns bl.a. Ett fall. Dvs. inte.", ["Det finns bl.a. Ett fall.", "Dvs. inte."]),
        ("Vi talade med A. Virtanen. Han kom.", ["Vi talade med A. Virtanen.", "Han kom."]),
        ("Se esim. Kela. Ja mm. Tampere.", ["Se esim. Kela.", "Ja mm. Tampere."]),
        ("Äpplen etc. används. Nästa.", ["Äpplen etc. används.", "Nästa."]),
        ("Var har man nytta, etc.? Hur då?", ["Var har man nytta, etc.?", "Hur då?"]),
        (
            'Han sa "Nej." Sedan gick han… Och 3 kom!',
            ['Han sa "Nej."', "Sedan gick han…", "Och 3 kom!"],
        ),
        ("social- och hälsovård. Ärligt", ["social- och hälsovård.", "Ärligt"]),
        ("   ", []),
    ],
)
def test_split_sentences_examples(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


_sentence_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=40
)


@given(st.lists(_sentence_text, max_size=8))
def test_split_sentences_round_trips(sentences: list[str]) -> None:
    joined = " ".join(sentences)
    out = split_sentences(joined)
    assert " ".join(out) == " ".join(joined.split())
    assert all(out) and all(s == s.strip() for s in out)


_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö", min_size=3, max_size=9)
_plain_sentence = st.builds(
    lambda words, end: " ".join(words).capitalize() + end,
    st.lists(_word, min_size=1, max_size=6),
    st.sampled_from([".", "?", "!", "…"]),
).filter(lambda s: not re.search(r"\b(esim|mm|ns|dvs)\.$", s.lower()))


@given(st.lists(_plain_sentence, min_size=1, max_size=6))
def test_split_sentences_finds_every_plain_sentence(sentences: list[str]) -> None:
    assert split_sentences(" ".join(sentences)) == sentences


# --- language guess -----------------------------------------------------------------------


def _realspeech_text(language: str) -> str:
    tsv = REALSPEECH / language / "transcripts.tsv"
    if not tsv.exists():
        pytest.skip(f"{tsv} not present")
    with tsv.open(encoding="utf-8", newline="") as f:
        return " ".join(row["sentence"] for row in csv.DictReader(f, delimiter="\t"))


@pytest.mark.parametrize("language", ["sv", "fi"])
def test_guess_language_of_real_sentences(language: str) -> None:
    assert guess_text_language(_realspeech_text(language)) == language


def test_guess_language_english_and_unknown() -> None:
    english = "The point is that it is the patient who knows what they need, and we listen to them."
    assert guess_text_language(english) in {"en", None}
    assert guess_text_language("Ja.") is None
    assert guess_text_language("") is None
    assert guess_text_language("12345 !!! ...") is None
    assert guess_text_language("Der Hund und die Katze schlafen im Garten.") is None


def test_reference_language_comes_from_the_text() -> None:
    reference = parse_reference("Anna: Minä olen täällä ja se on hyvä, mutta ei niin kuin ennen.")
    assert reference.language == "fi"


# --- sentences cut by page breaks or cue boundaries --------------------------------------


def test_page_break_before_a_capitalised_name_does_not_split_the_sentence() -> None:
    text = "Anna: Vi talade med\n\nhttps://example.org/repeated\n\nEila Linnanmäki igår. Bra."
    assert parse_reference(text).turns[0].sentences == (
        "Vi talade med Eila Linnanmäki igår.",
        "Bra.",
    )


def test_abbreviation_at_a_cue_boundary_does_not_split(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.srt"
    path.write_text(
        "1\n00:00:00,000 --> 00:00:02,000\nAnna: Vi besökte t.ex.\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\nHelsingfors och Åbo.\n",
        encoding="utf-8",
    )
    assert read_reference(path).turns[0].sentences == ("Vi besökte t.ex. Helsingfors och Åbo.",)


def test_speaker_label_without_text_does_not_split_the_other_speakers_turn() -> None:
    reference = parse_reference("Anna: Ett.\n\nBo:\n\nAnna: Två.")
    assert [(t.speaker, t.sentences) for t in reference.turns] == [("Anna", ("Ett.", "Två."))]


def test_two_voices_in_one_cue_give_two_turns(tmp_path: Path) -> None:
    path = tmp_path / "dialogue.vtt"
    path.write_text(
        "WEBVTT\n\n00:00.000 --> 00:02.000\n<v Anna>Kommer du?</v>\n<v Bo>Ja, nu.</v>\n",
        encoding="utf-8",
    )
    assert [(t.speaker, t.sentences) for t in read_reference(path).turns] == [
        ("Anna", ("Kommer du?",)),
        ("Bo", ("Ja, nu.",)),
    ]


def test_wrapped_podcast_title_is_dropped_with_its_header() -> None:
    text = "Podcast: En mycket lång titel som\nfortsätter här\n\nAnna: Hej."
    assert [(t.speaker, t.sentences) for t in parse_reference(text).turns] == [("Anna", ("Hej.",))]


@pytest.mark.parametrize("line", ["éva: inte en etikett.", "Anna ström: inte heller."])
def test_label_words_must_all_be_capitalised(line: str) -> None:
    assert [t.speaker for t in parse_reference(f"Bo: Först.\n{line}").turns] == ["Bo"]


@given(st.text())
def test_split_sentences_keeps_arbitrary_text(text: str) -> None:
    sentences = split_sentences(text)
    assert all(sentences) and all(s == s.strip() for s in sentences)
    assert " ".join(sentences) == " ".join(text.split())


@given(st.text())
def test_parse_reference_gives_nonempty_turns_or_the_no_text_error(text: str) -> None:
    try:
        reference = parse_reference(text)
    except PodalignError as exc:
        assert "has no transcript text" in str(exc)
        return
    assert all(turn.sentences and all(turn.sentences) for turn in reference.turns)
    for a, b in pairwise(reference.turns):
        assert a.speaker != b.speaker


# --- every label form and file form gives the clean seed's turns ------------------------


@pytest.fixture(scope="module")
def seed_turns() -> list[tuple[str, tuple[str, ...]]]:
    return render.seed_turns(render.SEED)


@pytest.fixture(scope="module")
def rendered(
    seed_turns: list[tuple[str, tuple[str, ...]]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, str]]:
    return render.render_all(seed_turns, tmp_path_factory.mktemp("forms"))


def test_the_seed_has_two_speakers_taking_turns(
    seed_turns: list[tuple[str, tuple[str, ...]]],
) -> None:
    assert {speaker for speaker, _ in seed_turns} == {"Lehtinen", "Linnanmäki"}
    assert len(seed_turns) > 10 and all(len(sentences) for _, sentences in seed_turns)


@pytest.mark.parametrize("fixture", [render.fixture_name(*f) for f in render.FIXTURES])
def test_every_form_reads_as_the_clean_seed(
    fixture: str,
    rendered: dict[str, tuple[Path, str]],
    seed_turns: list[tuple[str, tuple[str, ...]]],
) -> None:
    path, form = rendered[fixture]
    reading = read_transcript(path)
    got = [(t.speaker, t.sentences) for t in reading.reference.turns]
    assert got == render.expected_turns(seed_turns, form)
    assert reading.unread_label is None
    assert reading.form == next(f.name for f in FORMATS if path.suffix in f.suffixes)


@pytest.mark.parametrize("fixture", ["bracket-time.txt", "time-line.txt", "plain.html"])
def test_time_stamps_are_hints_not_text(
    fixture: str, rendered: dict[str, tuple[Path, str]]
) -> None:
    reading = read_transcript(rendered[fixture][0])
    hints = [t.start_hint for t in reading.reference.turns]
    assert hints == [i * render.TURN_SECONDS for i in range(len(hints))]
    assert not any(re.search(r"\d:\d\d", s.text) for s in reading.reference.sentences)
    assert reading.dropped["time stamp"] == (len(hints) if fixture.endswith(".html") else 0)


def test_pdf_page_headers_and_numbers_are_counted_as_dropped(
    rendered: dict[str, tuple[Path, str]],
) -> None:
    reading = read_transcript(rendered["plain.pdf"][0])
    pages = reading.dropped["page number"]
    assert pages >= 3  # the seed fills several pages, each numbered...
    assert reading.dropped["page header"] == pages - 1  # ...and headed from page 2 on


def test_reading_is_logged_with_form_speakers_and_dropped_lines(
    rendered: dict[str, tuple[Path, str]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pipeline.inputs.transcript"):
        reference = read_reference(rendered["title.docx"][0])
    (message,) = [r.getMessage() for r in caplog.records]
    assert "read as Word document" in message
    assert "2 speakers (Satu Lehtinen, Eila Linnanmäki)" in message
    assert f"{len(reference.turns)} turns, {len(reference.sentences)} sentences" in message
    assert "1 heading, 1 link" in message


# --- label rules ----------------------------------------------------------------------------


def test_one_person_named_two_ways_is_one_speaker_with_the_fuller_name() -> None:
    text = "Eila Linnanmäki: Hej.\nLehtinen: Tack.\nLinnanmäki: Ja.\nSatu Lehtinen: Bra."
    assert [(t.speaker, t.sentences) for t in parse_reference(text).turns] == [
        ("Eila Linnanmäki", ("Hej.",)),
        ("Satu Lehtinen", ("Tack.",)),
        ("Eila Linnanmäki", ("Ja.",)),
        ("Satu Lehtinen", ("Bra.",)),
    ]


def test_fuller_names_only_where_one_name_holds_the_short_one() -> None:
    assert fuller_names(["Anna Ek", "Bo Ek", "Ek", "Bo"]) == {"Bo": "Bo Ek"}
    assert fuller_names(["Talare 1", "Talare 12", "Talare"]) == {}
    assert fuller_names(["Host", "Host 2", "SPEAKER_00"]) == {}
    assert fuller_names(["Eila", "Eila Linnanmäki", "Linnanmäki"]) == {
        "Eila": "Eila Linnanmäki",
        "Linnanmäki": "Eila Linnanmäki",
    }


@pytest.mark.parametrize(
    ("text", "speakers"),
    [
        ("Medverkande 1: Hej.\nMedverkande 2: Hej.", ["Medverkande 1", "Medverkande 2"]),
        ("speaker 1: Hi there.\nSPEAKER 2: Hello.", ["Speaker 1", "Speaker 2"]),
        ("Talare 1: Ja.", ["Talare 1"]),
        ("Prof. Anna Ek (Helsingfors universitet): Ja.\nBo [01:02]: Nej.", ["Anna Ek", "Bo"]),
        ("*Anna:* Ja.\n* Bo: Nej.\n### Anna: Jo.", ["Anna", "Bo", "Anna"]),
    ],
)
def test_label_forms_beyond_the_table(text: str, speakers: list[str]) -> None:
    assert [t.speaker for t in parse_reference(text).turns] == speakers


def test_a_time_stamp_is_never_text() -> None:
    text = "[00:00:05]\nAnna: Hej [00:00:07] på dig.\n\n00:12\n\n(00:13) Fortsätter."
    reference = parse_reference(text)
    assert [(t.speaker, t.sentences, t.start_hint) for t in reference.turns] == [
        ("Anna", ("Hej på dig.", "Fortsätter."), 5.0)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Lehtinen - Hej på dig.\n\nLinnanmäki - Hej.\n\nLehtinen - Bra.",
        "<Lehtinen> Hej på dig.\n<Linnanmäki> Hej.",
        "1. Lehtinen: Hej på dig.\n2. Linnanmäki: Hej.",
    ],
)
def test_labels_that_cannot_be_read_are_warned_about_with_an_example(
    text: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "odd.txt"
    path.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipeline.inputs.transcript"):
        reading = read_transcript(path)
    assert reading.unread_label == text.splitlines()[0]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "odd.txt" in warning and "Hej på dig" in warning and "'Name:'" in warning


@pytest.mark.parametrize(
    "text",
    [
        "Anna: Målet är följande: kunden ska få hjälp.\nDet vill säga: mer.\nOch så: slut.",
        "Anna: Vi sa: ja.\nBo: Och sedan, du vet - mer.",
    ],
)
def test_colons_inside_text_give_no_label_warning(text: str) -> None:
    from pipeline.inputs.transcript_labels import text_pieces

    assert text_pieces(text).unread_label is None


def test_json_without_speakers_reads_labels_in_its_bodies(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        '{"version": "1.0.0", "segments": [{"startTime": 0, "endTime": 1, "body": "Anna: Hej."},'
        ' {"startTime": 1, "endTime": 2, "body": "Bo: Hej själv."}]}',
        encoding="utf-8",
    )
    assert [t.speaker for t in read_reference(path).turns] == ["Anna", "Bo"]


# --- the forms table ----------------------------------------------------------------------


def test_every_form_is_declared_once_and_rendered() -> None:
    suffixes = [suffix for form in FORMATS for suffix in form.suffixes]
    mime_types = [mime for form in FORMATS for mime in form.mime_types]
    assert len(set(suffixes)) == len(suffixes) and len(set(mime_types)) == len(mime_types)
    assert set(render.FILE_FORMS) <= set(TRANSCRIPT_SUFFIXES)
    assert {f.name for f in FORMATS} == {
        next(f.name for f in FORMATS if suffix in f.suffixes) for suffix in render.FILE_FORMS
    }
    assert form_for_type("text/HTML; charset=utf-8").name == "HTML"
    assert form_for_type("application/json").name == "Podcasting 2.0 JSON"
    assert form_for_type("image/png") is None


# --- files that are not readable transcripts ------------------------------------------------


UNREADABLE = {
    "encrypted pdf": "encrypted PDF that needs a password",
    "scanned pdf": "no text in it, only images",
    "docx not a document": "is not a Word document",
    "json not a transcript": "not a Podcasting 2.0 transcript",
}


@pytest.fixture(scope="module")
def unreadable(
    seed_turns: list[tuple[str, tuple[str, ...]]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    return render.render_unreadable(seed_turns, tmp_path_factory.mktemp("unreadable"))


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_files_name_the_file_and_what_to_do(
    case: str, unreadable: dict[str, Path]
) -> None:
    path = unreadable[case]
    with pytest.raises(PodalignError) as caught:
        read_reference(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and UNREADABLE[case] in message
    assert "\n" not in message and re.search(r"; (save|run|give)", message)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("text.docx", b"Anna: Hej.", "is not a Word document"),
        ("text.pdf", b"Anna: Hej.", "is not a readable PDF"),
        ("broken.json", b'{"segments": [', "is not valid JSON"),
        ("list.json", b'[{"body": "Hej."}]', "not a Podcasting 2.0 transcript"),
    ],
)
def test_files_of_the_wrong_form_are_clear_errors(
    name: str, content: bytes, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PodalignError, match=re.escape(expected)):
        read_reference(path)


# --- round trips: turns written in a form read back equal -----------------------------------

_NOT_NAMES = {"dr", "prof", "doc", "dos", "tri", "fil", "med", "mr", "mrs", "ms", "mx", "herr",
              "fru", "sir", "podcast", "podd", "avsnitt", "episode", "jakso", "title", "titel",
              "otsikko", "transcript", "date", "datum"}  # fmt: skip
_name_word = st.text(alphabet="abcdefghijklmnoprstuvyåäö", min_size=3, max_size=8).filter(
    lambda w: w not in _NOT_NAMES
)


@st.composite
def _turns(draw: st.DrawFn, max_speakers: int = 4) -> list[tuple[str, list[str]]]:
    """Turns of 1-4 speakers whose names share no word, never the same speaker twice running."""
    words = draw(st.lists(_name_word, min_size=max_speakers * 3, max_size=max_speakers * 3,
                          unique=True))  # fmt: skip
    count = draw(st.integers(1, max_speakers))
    sizes = draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    names, used = [], 0
    for size in sizes:
        names.append(" ".join(w.capitalize() for w in words[used : used + size]))
        used += size
    order = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=6))
    speakers = [s for i, s in enumerate(order) if i == 0 or s != order[i - 1]]
    return [(names[s], draw(st.lists(_plain_sentence, min_size=1, max_size=6))) for s in speakers]


@given(_turns(), st.sampled_from(sorted(render.LABEL_FORMS)))
def test_text_round_trip_in_every_label_form(turns: list[tuple[str, list[str]]], form: str) -> None:
    reference = parse_reference(render.render_text(turns, form))
    assert [(t.speaker, t.sentences) for t in reference.turns] == render.expected_turns(turns, form)


@settings(max_examples=30, deadline=None)
@given(
    turns=_turns(),
    suffix=st.sampled_from([".json", ".html", ".vtt", ".srt", ".docx", ".pdf"]),
    form=st.sampled_from(["plain", "talare", "bracket time", "title"]),
)
def test_file_round_trip_in_every_file_form(
    turns: list[tuple[str, list[str]]], suffix: str, form: str
) -> None:
    form = "plain" if suffix in render.MARKUP_SPEAKERS else form
    with tempfile.TemporaryDirectory() as folder:
        path = render.FILE_FORMS[suffix](turns, Path(folder) / f"t{suffix}", form)
        reference = read_reference(path)
    assert [(t.speaker, t.sentences) for t in reference.turns] == render.expected_turns(turns, form)


# --- feed-linked transcripts in the new forms ---------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".html", ".docx", ".pdf"])
def test_a_feed_linked_transcript_of_any_form_is_fetched_and_read(
    suffix: str,
    rendered: dict[str, tuple[Path, str]],
    seed_turns: list[tuple[str, tuple[str, ...]]],
    loopback: LoopbackServer,
    tmp_path: Path,
) -> None:
    form = next(f for f in FORMATS if suffix in f.suffixes)
    body = rendered[render.fixture_name(suffix, "plain")][0].read_bytes()
    # Served under a name without its suffix: the type alone says what it is.
    url = loopback.add("transcript", Route(body, form.mime_types[0]))
    links = (TranscriptLink(url, form.mime_types[0]), TranscriptLink(url, "image/png"))
    link = best_link(links)
    assert link == links[0]
    path = download_linked(link, tmp_path / "episode")
    assert path.suffix == suffix
    assert [(t.speaker, t.sentences) for t in read_reference(path).turns] == seed_turns
