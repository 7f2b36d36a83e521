"""The lexical bridge (FreeDict + simplemma) and the cross-lingual DP: skipped speech and
how sure its starts are."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.align.bridge import (
    bridge_matrix,
    entry_translations,
    finnish_to_swedish,
    opens_alike,
    spelling_key,
    translations,
)
from pipeline.align.crosslingual import UNSURE_SHIFT, SpanCosts, _with_skips, dp_spans
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


def test_a_word_the_dictionaries_lack_supports_the_sentences_spelling_it_alike() -> None:
    texts = [
        "Den demokratiska regeringen föll.",
        "Polohalerna och demokratin.",
        "Hunden sov hos Eila.",
    ]
    assert not translations("demokraattisella") and not translations("polohalaisille")
    words = [
        Word("demokraattisella", 0.1, 0.9),  # "temok-": sentences 0 and 1, half each
        Word("polohalaisille", 1.1, 1.8),  # "poloh-": sentence 1 alone
        Word("koira", 2.1, 2.4),  # translated ("hund"): no spelling match is looked for
        Word("Eila", 2.5, 2.8),  # a stem needs five letters: "eila" is too short to match
    ]
    support = bridge_matrix(texts, words, np.array([1.0, 2.0, 3.0]))
    assert support[:, 0].tolist() == [0.5, 0.5, 0.0]
    assert support[:, 1].tolist() == [0.0, 1.0, 0.0]
    assert support[:, 2].tolist() == [0.0, 0.0, 1.0]
    assert spelling_key("Tack") == "tak" and spelling_key("kiitos") == "kitos"


def test_a_short_word_opens_the_sentence_it_translates_the_first_words_of() -> None:
    # "ja", "nyt" are too short, or too common, for the bridge; at a sentence's start
    # they say the sentence's own first words are being said.
    assert not translations("ja") and opens_alike("Ja", "Och sedan går vi hem.")
    assert opens_alike("nyt,", "Nu öppnas bastudörren.")
    assert opens_alike("sitten", "Men sedan om man tänker efter.")  # the second word
    assert not opens_alike("Ja", "Vi går hem och äter.")  # "och", but not at the start
    assert not opens_alike("Hyttys,", "Och sedan går vi hem.")
    assert not opens_alike("", "Och sedan.") and not opens_alike("ja", "")


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


def test_a_start_two_places_explain_equally_is_unsure_and_a_clear_one_is_not() -> None:
    # 2 + 2 + 2 s of speech; each sentence's text predicts sqrt(8) s, so 2 + 4 and 4 + 2 s
    # fit equally well: the second sentence may start at unit 1 or unit 2, 2.5 s apart.
    tied = SpanCosts(units([2.0, 2.0, 2.0]), np.full(2, np.sqrt(8.0)), np.ones(2),
                     np.zeros(2, dtype=bool), np.full(2, np.nan))  # fmt: skip
    forward = tied.forward()
    margins = tied.start_margins(forward, tied.best_spans(forward))
    assert margins[1] == pytest.approx(0.0, abs=1e-9)
    clear = SpanCosts(units([3.0, 3.0]), np.full(2, 3.0), np.ones(2),
                      np.zeros(2, dtype=bool), np.full(2, np.nan))  # fmt: skip
    forward = clear.forward()
    assert clear.start_margins(forward, clear.best_spans(forward))[1] > 5.0


def _brute_force(costs: SpanCosts) -> dict[tuple[int, ...], float]:
    """Every monotonic placement of the sentences (their first units) and its least cost."""
    n, m, skipped = costs.n, costs.m, costs.skipped
    out: dict[tuple[int, ...], float] = {}
    for bounds in itertools.combinations_with_replacement(range(m + 1), 2 * n):
        firsts, ends = bounds[0::2], bounds[1::2]
        lengths = [b - a for a, b in zip(firsts, ends, strict=True)]
        if min(lengths) < 1 or max(lengths) > costs.max_span:
            continue
        gaps = [firsts[0], *(a - b for a, b in zip(firsts[1:], ends, strict=False)), m - ends[-1]]
        if skipped is None and any(gaps):
            continue
        placed = enumerate(zip(firsts, lengths, strict=True))
        total = sum(float(costs.cost(i, k)[a]) for i, (a, k) in placed)
        if skipped is not None:
            edges = [0, *bounds, m]
            total += sum(skipped[edges[2 * g + 1]] - skipped[edges[2 * g]] for g in range(n + 1))
        out[firsts] = min(out.get(firsts, np.inf), total)
    return out


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_dp_finds_the_cheapest_placement_and_its_rivals(data: st.DataObject) -> None:
    m = data.draw(st.integers(1, 5))
    n = data.draw(st.integers(1, min(m, 3)))
    seconds = data.draw(st.lists(st.floats(0.2, 4.0), min_size=m, max_size=m))
    u = units(seconds)
    change = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=m, max_size=m)))
    u = Units(u.start, u.end, u.pause, u.punct, change)
    chars = np.array(data.draw(st.lists(st.floats(5, 60), min_size=n, max_size=n)))
    turn_start = np.array([i > 0 and data.draw(st.booleans()) for i in range(n)])
    skip = data.draw(st.none() | st.lists(st.floats(0, 3), min_size=m, max_size=m))
    costs = SpanCosts(u, chars, np.full(n, 15.0), turn_start, np.full(n, np.nan),
                      skip=None if skip is None else np.array(skip))  # fmt: skip
    every = _brute_force(costs)
    forward = costs.forward()
    spans = costs.best_spans(forward)
    best = min(every.values())
    assert forward.total[n, m] == pytest.approx(best)
    assert every[tuple(a for a, _ in spans)] == pytest.approx(best)
    margins = costs.start_margins(forward, spans)
    for i, (a, _) in enumerate(spans):
        far = [c for f, c in every.items() if abs(u.start[f[i]] - u.start[a]) > UNSURE_SHIFT]
        assert margins[i] == pytest.approx(min(far, default=np.inf) - best)
