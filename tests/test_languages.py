"""Language options: codes and names in any case, unknown ones refused in one line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import PodalignError
from pipeline.whisper.languages import (
    LANGUAGE_NAMES,
    WHISPER_CODES,
    confidence_ceiling,
    guess_from,
    language_code,
)


def test_the_codes_are_whisper_s_own() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert tuple(WHISPER_CODES) == tuple(_LANGUAGE_CODES)
    assert set(LANGUAGE_NAMES.values()) <= set(WHISPER_CODES)


def _any_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True))


@given(st.data())
def test_codes_and_names_are_read_in_any_case(data: st.DataObject) -> None:
    typed = data.draw(st.sampled_from([*WHISPER_CODES, *LANGUAGE_NAMES]))
    expected = LANGUAGE_NAMES.get(typed, typed)
    assert language_code(_any_case(data.draw, typed), "--lang") == expected
    assert language_code(f" {typed} ", "--lang") == expected


@given(st.text(min_size=1, max_size=12))
def test_anything_else_is_one_line_naming_the_option(text: str) -> None:
    key = text.strip().lower()
    if key in WHISPER_CODES or key in LANGUAGE_NAMES or key == "auto":
        return
    with pytest.raises(PodalignError) as raised:
        language_code(text, "--text-lang")
    message = str(raised.value)
    assert message.startswith("--text-lang ") and "\n" not in message.replace(text, "")


@given(st.floats(0.0, 1.0), st.sampled_from(["sv", "fi", "la", "en"]))
def test_the_ceiling_never_exceeds_an_unsure_guess(probability: float, language: str) -> None:
    guess = guess_from(language, probability, [(language, probability), ("sv", 0.01)])
    untested = [] if language in ("sv", "fi") else [language]
    ceiling = confidence_ceiling(guess, untested)
    assert 0.0 <= ceiling <= 1.0
    if probability < 0.5:
        assert ceiling <= probability
    if untested:
        assert ceiling <= 0.5
    if probability >= 0.5 and not untested:
        assert ceiling == 1.0
