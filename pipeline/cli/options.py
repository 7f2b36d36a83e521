"""The options the subcommands share, in one table: one grammar and one description each.

A row names the subcommands that take the option, its help (which always states the
default) and how argparse reads it; adding an option to align, run and batch is adding
one row. Options only one subcommand has (-o, -j, --name, ...) stay with that command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pipeline.formats import SUBTITLE_FORMATS, subtitle_choices
from pipeline.inputs.fetch import DEFAULT_MAX_BYTES
from pipeline.whisper.models import DEVICES

ALIGNING = ("align", "run", "batch")  # the commands that align episodes
FETCHING = ("align", "run", "batch")  # those that download (align and run: given a URL)
EVERY = ("align", "run", "batch", "models", "preview", "transcript")

EXIT_STATUS = """\
exit status:
  0    done (batch: every episode done, or skipped as done before)
  1    internal error: a bug in podalign (the traceback says where; please report it)
  2    bad input or environment, or a command line podalign cannot read: one line
       "podalign: error: ..." names the input and what to do; nothing was changed
  3    batch only: the batch ran but some episodes failed (the summary says why)
  130  interrupted (Ctrl-C); run the same command again (a batch resumes)
"""


def format_list(text: str) -> list[str]:
    """argparse type for --format: one format name (a comma list is read too)."""
    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in SUBTITLE_FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a subtitle format: choose {subtitle_choices()}"
        )
    return formats


def _whole_number_from(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of `least` or more."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{text!r} must be {least} or more")
        return value

    return whole_number


positive_int = _whole_number_from(1)  # argparse type: a whole number of 1 or more
count = _whole_number_from(0)  # argparse type: a whole number of 0 or more


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    commands: tuple[str, ...]
    help: str  # says the default
    settings: Mapping[str, Any] = field(default_factory=dict)  # add_argument's keywords


_FLAG = {"action": "store_true"}
# On a subcommand, -q/-v must not reset what was given before it (podalign -q align ...).
_LOUDNESS = {"action": "store_true", "default": argparse.SUPPRESS}

OPTIONS: tuple[Option, ...] = (
    Option(("-t", "--transcript"), ("align", "run"),
           "reference transcript: .txt with 'Name:' speaker labels, .pdf, .docx, .json "
           "(Podcasting 2.0), .html, or .vtt/.srt to re-time (default: none, subtitles from "
           "the speech recognition alone)",
           {"type": Path, "metavar": "FILE"}),
    Option(("--lang",), ALIGNING,
           "language of the audio: auto, a code (sv, fi, en, ...) or a name (swedish, "
           "svenska, finnish, suomi, ...), any case (default: auto: the transcript's "
           "language if Whisper hears it, else detected)",
           {"default": "auto", "metavar": "LANG"}),
    Option(("--audio-lang",), ALIGNING,
           "language of the audio, overriding --lang (default: as --lang)",
           {"metavar": "LANG"}),
    Option(("--text-lang",), ALIGNING,
           "language of the transcript (default: guessed from its words)",
           {"metavar": "LANG"}),
    Option(("--model",), ALIGNING,
           "Whisper model: base (embedded), a hub name (small, large-v3, ...; needs a "
           "network once) or a local CTranslate2 folder (default: base)",
           {"default": "base", "metavar": "NAME|PATH"}),
    Option(("--format",), ALIGNING,
           "subtitle format: vtt, srt or json; repeat for several: --format vtt --format "
           "srt (default: the -o file's suffix; else vtt for align, all three for run and "
           "batch; -o's suffix is always written)",
           {"action": "extend", "type": format_list, "dest": "formats", "metavar": "FORMAT"}),
    Option(("--vad",), ALIGNING,
           "Silero voice-activity filter before Whisper's own speech recognition (the "
           "cross-lingual and ASR-only passes; forced alignment is unaffected) "
           "(default: off)", _FLAG),
    Option(("--keep-unheard",), ALIGNING,
           "keep transcript text the audio lacks in the subtitles, marked unsure "
           "(default: off: left out, and a warning names its sentences and times)", _FLAG),
    Option(("--strict",), ALIGNING,
           "fail the episode (exit 2, nothing written) where speech has no subtitle or "
           "sentences are crammed faster than anyone speaks (default: off: warnings only)",
           _FLAG),
    Option(("--device",), ALIGNING,
           "where Whisper runs: auto (a CUDA GPU when present), cpu or cuda (default: auto)",
           {"choices": DEVICES, "default": "auto"}),
    Option(("--compute-type",), ALIGNING,
           "CTranslate2 compute type: int8, int8_float16, float16, float32, ... "
           "(default: int8 on a CPU, float16 on a GPU)", {"metavar": "TYPE"}),
    Option(("--preview",), ("align", "run"),
           "also write <stem>.preview.html, the episode playing with its subtitles, unsure "
           "cues marked; needs vtt among the formats; a downloaded episode's audio is then "
           "kept beside it (default: off)", _FLAG),
    Option(("--cache-dir",), ALIGNING,
           "transcription cache folder (default: ~/.cache/podalign/transcripts; batch: "
           "OUT/.podalign/cache)", {"type": Path, "metavar": "DIR"}),
    Option(("--max-size",), FETCHING,
           "refuse downloads larger than this many megabytes "
           f"(default: {DEFAULT_MAX_BYTES // 1_000_000})",
           {"type": positive_int, "default": DEFAULT_MAX_BYTES // 1_000_000, "metavar": "MB"}),
    Option(("--retries",), FETCHING,
           "retries of a download that failed on a network error or a 5xx/429 reply; a 404 "
           "or a web page is not retried (default: 3)",
           {"type": count, "default": 3, "metavar": "N"}),
    Option(("-v", "--verbose"), EVERY, "debug logging (default: off)", _LOUDNESS),
    Option(("-q", "--quiet"), EVERY, "warnings and errors only (default: off)", _LOUDNESS),
)  # fmt: skip


class CommandLineParser(argparse.ArgumentParser):
    """argparse, with its errors as podalign's: one line, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"podalign: error: {message} (see {self.prog} --help)\n")


if TYPE_CHECKING:
    # The subcommand parsers of podalign's own parser (argparse is generic only in typeshed).
    Subcommands = argparse._SubParsersAction[CommandLineParser]


def add_command(
    subparsers: Subcommands, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand's parser: description as written (wrapped by hand), exit statuses
    after the options. Its shared options are added with add_options."""
    return subparsers.add_parser(
        name, help=help, description=description, epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Add every shared option that command takes, in the table's order."""
    for option in OPTIONS:
        if command in option.commands:
            parser.add_argument(*option.flags, help=option.help, **option.settings)
