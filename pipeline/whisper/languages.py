"""Language names on the command line, and how sure a detected language is.

Whisper takes ISO 639-1 codes in lower case ("sv", "fi"); people type "SV", "swedish" or
"svenska". Every language option is read through :func:`language_code` before any work,
so a typo is one line naming the option and the codes, never a traceback from deep inside
faster-whisper minutes later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import PodalignError

# The languages the pipeline's fixtures and benchmark cover (Swedish and Finnish podcasts).
TESTED_LANGUAGES = ("sv", "fi")
AUTO = "auto"

# Whisper's language codes, as faster_whisper.tokenizer._LANGUAGE_CODES lists them (read
# from there when it exists; this copy keeps the check free of the heavy import).
WHISPER_CODES = [
    "af",
    "am",
    "ar",
    "as",
    "az",
    "ba",
    "be",
    "bg",
    "bn",
    "bo",
    "br",
    "bs",
    "ca",
    "cs",
    "cy",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "eu",
    "fa",
    "fi",
    "fo",
    "fr",
    "gl",
    "gu",
    "ha",
    "haw",
    "he",
    "hi",
    "hr",
    "ht",
    "hu",
    "hy",
    "id",
    "is",
    "it",
    "ja",
    "jw",
    "ka",
    "kk",
    "km",
    "kn",
    "ko",
    "la",
    "lb",
    "ln",
    "lo",
    "lt",
    "lv",
    "mg",
    "mi",
    "mk",
    "ml",
    "mn",
    "mr",
    "ms",
    "mt",
    "my",
    "ne",
    "nl",
    "nn",
    "no",
    "oc",
    "pa",
    "pl",
    "ps",
    "pt",
    "ro",
    "ru",
    "sa",
    "sd",
    "si",
    "sk",
    "sl",
    "sn",
    "so",
    "sq",
    "sr",
    "su",
    "sv",
    "sw",
    "ta",
    "te",
    "tg",
    "th",
    "tk",
    "tl",
    "tr",
    "tt",
    "uk",
    "ur",
    "uz",
    "vi",
    "yi",
    "yo",
    "zh",
    "yue",
]

# Names people type for the languages a Nordic podcast is likely to need, in English and
# in the language itself; any other language is given by its code.
LANGUAGE_NAMES = {
    "swedish": "sv", "svenska": "sv", "finnish": "fi", "suomi": "fi", "english": "en",
    "norwegian": "no", "norsk": "no", "danish": "da", "dansk": "da", "icelandic": "is",
    "estonian": "et", "eesti": "et", "german": "de", "deutsch": "de", "french": "fr",
    "français": "fr", "spanish": "es", "español": "es", "russian": "ru", "dutch": "nl",
    "italian": "it", "polish": "pl", "portuguese": "pt", "latin": "la",
}  # fmt: skip

# A detected language below this probability is a guess: Whisper base gave Latin (p 0.29)
# for Swedish speech and Swedish above 0.7 whenever it was right on the benchmark audio.
SURE_LANGUAGE_PROBABILITY = 0.5
# Confidence ceiling for an episode in a language the pipeline was never tested on: its
# timings may be fine, but nothing here has measured them.
UNTESTED_CONFIDENCE = 0.5


def language_code(text: str | None, option: str, *, allow_auto: bool = True) -> str | None:
    """The Whisper code for what the user typed (None for auto/absent); PodalignError
    naming the option and the accepted codes otherwise."""
    if text is None:
        return None
    key = text.strip().lower()
    if allow_auto and key == AUTO:
        return None
    code = LANGUAGE_NAMES.get(key, key)
    if code in WHISPER_CODES:
        return code
    names = ", ".join(f"{n} ({c})" for n, c in LANGUAGE_NAMES.items() if c in TESTED_LANGUAGES)
    auto = f"{AUTO}, " if allow_auto else ""
    raise PodalignError(
        f"{option} {text!r}: unknown language; give {auto}a code ({', '.join(WHISPER_CODES)}) "
        f"or a name such as {names}"
    )


@dataclass(frozen=True)
class LanguageGuess:
    """A language detected from the audio, with Whisper's probability and runners-up."""

    language: str
    probability: float
    candidates: tuple[tuple[str, float], ...] = ()  # best first

    @property
    def sure(self) -> bool:
        return self.probability >= SURE_LANGUAGE_PROBABILITY


def guess_from(
    language: str, probability: float, ranked: Sequence[tuple[str, float]]
) -> LanguageGuess:
    """A LanguageGuess keeping the top three candidates Whisper ranked."""
    top = tuple((c, float(p)) for c, p in sorted(ranked, key=lambda cp: -cp[1])[:3])
    return LanguageGuess(language, float(probability), top)


def language_warnings(guess: LanguageGuess | None, untested: Sequence[str]) -> list[str]:
    """What to tell the user about the languages the episode was aligned in."""
    warnings = []
    if guess is not None and not guess.sure:
        top = ", ".join(f"{c} {p:.2f}" for c, p in guess.candidates) or guess.language
        warnings.append(
            f"the audio language is a guess: {guess.language} with probability "
            f"{guess.probability:.2f} (top candidates: {top}); give it with --lang, "
            "e.g. --lang sv"
        )
    if untested:
        warnings.append(
            f"podalign was tested on {' and '.join(TESTED_LANGUAGES)} only, not on "
            f"{' or '.join(untested)}: check the timings; confidence is capped at "
            f"{UNTESTED_CONFIDENCE}"
        )
    return warnings


def untested_languages(*languages: str | None) -> list[str]:
    """The languages given that the pipeline was never tested on, each once."""
    return list(dict.fromkeys(lang for lang in languages if lang and lang not in TESTED_LANGUAGES))


def confidence_ceiling(guess: LanguageGuess | None, untested: Sequence[str]) -> float:
    """The highest confidence an episode can claim given how its languages were known."""
    ceiling = 1.0
    if guess is not None and not guess.sure:
        ceiling = min(ceiling, guess.probability)
    if untested:
        ceiling = min(ceiling, UNTESTED_CONFIDENCE)
    return ceiling
