from __future__ import annotations

import csv
import re
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import PodalignError
from pipeline.records import Reference
from pipeline.transcript import (
    guess_text_language,
    parse_reference,
    read_reference,
    split_sentences,
)

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
