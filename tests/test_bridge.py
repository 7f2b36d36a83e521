"""The lexical bridge (FreeDict + simplemma) and the cross-lingual DP's skipped speech."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.align.bridge import (
    bridge_matrix,
    entry_translations,
    finnish_to_swedish,
    translations,
)
from pipeline.align.crosslingual import _with_skips, dp_spans
from pipeline.records import Word
from pipeline.signal.speech_units import Units


def test_dictionaries_are_installed_and_read() -> None:
    table = finnish_to_swedish()
    assert len(table) > 10_000  # both FreeDict directions, ~15 000 headwords each
    assert "hund" in table["koira"]
    assert "hus" in translations("talossa")  # inflected: "in the house", via simplemma


def test_every_sense_of_an_entry_is_read_and_no_definition_is() -> None:
    # FreeDict entries as the Debian dictionaries hold them (fin-swe "paikka", "nähdä").
    paikka = [
        "paikka /pˈaikːa/ <n>",
        "1. punkt",
        "konkreettinen kohta, sijaintikohta",
        "2. lapp, plomb",
        "paikkaamiseen, reiän korjaamiseen käytettävä kappale",
        "3. plats, ställe",
        "tila, jossa voidaan käydä tai oleskella, oleskelupaikka",
    ]
    assert entry_translations(paikka) == ["punkt", "lapp", "plomb", "plats", "ställe"]
    nahda = ["nähdä /nˈæhdæ/ <v>", "1. se 2.", "aistia näköaistin avulla", " 3.",
             "ymmärtää, tajuta", "2. möta", "tehdä näköhavainto, havaita"]  # fmt: skip
    assert entry_translations(nahda) == ["se", "möta"]
    assert entry_translations(["-arki /ˈarkiː/ <affix>", "-arkia", "substantivsuffix"]) == [
        "-arkia"
    ]
    assert entry_translations(["hus <n>", "1. kyläläinen talo", "definition"]) == []


def test_the_installed_dictionaries_translate_numbered_entries() -> None:
    # Each of these is an entry of several numbered senses: the first parser lost them all.
    assert "plats" in translations("paikka")
    assert "se" in translations("nähdä")
    assert "känna" in translations("tuntui")  # inflected, via simplemma
    assert "vara" in translations("olla")  # from swe-fin's "vara": "2. olla 2."


def test_an_asr_word_supports_the_sentence_holding_its_translation() -> None:
    texts = ["Jag har en hund.", "Huset är stort.", "Vi har en hund och ett hus."]
    words = [Word("koira", 0.1, 0.4), Word("talossa", 1.1, 1.5), Word("ja", 1.6, 1.7)]
    support = bridge_matrix(texts, words, np.array([1.0, 2.0]))
    # "koira" (dog): sentences 0 and 2 hold "hund", each half; "talossa": "huset", "hus".
    assert support[0, 0] == support[2, 0] == 0.5 and support[1, 0] == 0
    assert support[1, 1] == support[2, 1] == 0.5 and support[0, 1] == 0


def units(seconds: list[float]) -> Units:
    end = np.cumsum(np.array(seconds) + 0.5)
    start = end - np.array(seconds)
    pause = start - np.concatenate([[0.0], end[:-1]])
    zeros = np.zeros(len(seconds))
    return Units(start, end, pause, zeros, zeros)


def test_an_aside_the_sentences_do_not_fit_is_skipped_when_skipping_is_cheap() -> None:
    u = units([2.0, 6.0, 2.0])  # two 2-second sentences around a 6-second aside
    chars, rates = np.array([30.0, 30.0]), np.array([15.0, 15.0])
    args = (u, chars, rates, np.array([False, True]), np.full(2, np.nan))
    assert dp_spans(*args) in ([(0, 1), (1, 3)], [(0, 2), (2, 3)])  # all covered
    assert dp_spans(*args, skip=np.full(3, 0.1)) == [(0, 1), (2, 3)]
    dear = dp_spans(*args, skip=np.full(3, 50.0))
    assert dear[0][0] == 0 and dear[0][1] == dear[1][0] and dear[1][1] == 3  # nothing skipped


@given(st.lists(st.floats(0, 10) | st.just(float("inf")), min_size=1, max_size=20), st.data())
def test_skipping_only_lowers_a_row_and_points_back(row: list[float], data: st.DataObject) -> None:
    costs = data.draw(st.lists(st.floats(0, 3), min_size=len(row) - 1, max_size=len(row) - 1))
    skipped = np.concatenate([[0.0], np.cumsum(costs)])
    best, came = _with_skips(np.array(row), skipped)
    assert np.all(best <= np.array(row) + 1e-9)  # float rounding of adding back the sums
    assert np.all(came <= np.arange(len(row)))
    finite = np.isfinite(best)
    assert np.allclose(best[finite], (np.array(row)[came] + skipped - skipped[came])[finite])
