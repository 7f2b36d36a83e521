"""Command line: `podalign align|transcript|models|run|batch|preview`. Logs to stderr, data
to files (and `transcript` to stdout).

One grammar for every subcommand: the shared options come from pipeline.cli.options (one
row each), -q/-v go before or after the subcommand, every help states the defaults and
ends with the exit statuses.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.cli.options import EXIT_STATUS, CommandLineParser, add_command, add_options
from pipeline.errors import PodalignError
from pipeline.formats import SUBTITLE_FORMATS, format_of_suffix

if TYPE_CHECKING:
    from pipeline.cli.options import Subcommands
    from pipeline.episode import AlignOptions
    from pipeline.inputs.fetch import FetchOptions

log = logging.getLogger("podalign")
EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130
ALL_FORMATS = tuple(SUBTITLE_FORMATS)


def build_parser() -> argparse.ArgumentParser:
    from pipeline.cli import batch, preview

    parser = CommandLineParser(
        prog="podalign",
        description="Timed, speaker-labelled subtitles from podcast audio and its transcript.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"podalign {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (default: off)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="warnings and errors only (default: off)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_align(sub)
    _add_transcript(sub)
    models = add_command(sub, "models", help="list the Whisper models usable offline",
                         description="List the Whisper models usable offline.")  # fmt: skip
    add_options(models, "models")
    models.set_defaults(func=cmd_models)
    batch.add_commands(sub)
    preview.add_commands(sub)
    return parser


def _add_align(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "align",
        help="align a reference transcript onto an episode's audio and write subtitles",
        description="Same-language forced alignment, or cross-lingual when the transcript's\n"
        "language differs from the audio's (e.g. Swedish text on Finnish speech).\n"
        "EPISODE may be a URL: it is fetched as `podalign run` fetches it.",
    )
    p.add_argument("audio", metavar="EPISODE", help="audio file (mp3, m4a, wav, ...) or URL")
    default = " (default: EPISODE.vtt beside the audio; for a URL, the current folder)"
    p.add_argument("-o", "--output", action="append", metavar="FILE|DIR", help=OUTPUT_HELP
                   + default)  # fmt: skip
    add_options(p, "align")
    p.set_defaults(func=cmd_align)


OUTPUT_HELP = (
    "a file named by its format's suffix (ep.sv.vtt, ep.SRT; the other formats get its "
    "stem), or a folder to write into, stem from the episode (a name without a suffix, "
    "or ending in /; made if missing)"
)


@dataclass(frozen=True)
class OutputTarget:
    """Where -o says the outputs go."""

    folder: Path
    stem: str | None  # None: from the episode (its audio file's name, or its title)
    named: Path | None  # the -o file as typed, for the format its suffix names
    formats: tuple[str, ...]
    is_folder: bool = False  # -o named a folder: made if missing

    def made(self) -> OutputTarget:
        """This target, its folder made first if -o named one."""
        if self.is_folder:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise PodalignError(
                    f"-o {self.folder}: cannot make the folder: {err.strerror or err}"
                ) from None
        return self


def output_target(
    given: list[str] | None,
    formats: list[str] | None,
    default_folder: Path,
    default_formats: tuple[str, ...],
    *,
    folder_only: bool = False,
) -> OutputTarget:
    """Read -o and --format: a file whose suffix names its format (any case), or a folder.

    An unknown suffix is an error, not a second suffix; so is -o given twice."""
    if given and len(given) > 1:
        raise PodalignError(
            f"-o given {len(given)} times ({', '.join(given)}): give it once; for several "
            "formats add --format (-o ep.vtt --format srt writes ep.vtt and ep.srt)"
        )
    chosen = tuple(formats or ())
    if not given:
        return OutputTarget(default_folder, None, None, _unique(chosen or default_formats))
    text = given[0]
    path = Path(text).expanduser()
    if folder_only or text.endswith(("/", os.sep)) or path.is_dir() or not path.suffix:
        return OutputTarget(path, None, None, _unique(chosen or default_formats), True)
    fmt = format_of_suffix(path)
    if fmt is None:
        raise PodalignError(
            f"-o {text}: {path.suffix!r} is not a subtitle suffix: end the file name with "
            f"{', '.join(f.suffix for f in SUBTITLE_FORMATS.values())} (any case), or give a "
            "folder ending in /"
        )
    return OutputTarget(path.parent, path.stem, path, _unique((fmt, *chosen)))


def _unique(formats: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(formats))


def align_options(args: argparse.Namespace, formats: tuple[str, ...]) -> AlignOptions:
    """The AlignOptions the shared options ask for; languages checked before any work."""
    from pipeline.episode import AlignOptions
    from pipeline.whisper.languages import language_code

    audio_lang = language_code(args.audio_lang, "--audio-lang") or language_code(
        args.lang, "--lang"
    )
    return AlignOptions(
        audio_lang=audio_lang,
        text_lang=language_code(args.text_lang, "--text-lang"),
        model=args.model,
        formats=formats,
        vad=args.vad,
        cache_dir=args.cache_dir,
        keep_unheard=args.keep_unheard,
        preview=getattr(args, "preview", False),
        strict=args.strict,
        device=args.device,
        compute_type=args.compute_type,
    )


def fetch_options(args: argparse.Namespace) -> FetchOptions:  # imported late: yt-dlp is heavy
    from pipeline.inputs.fetch import FetchOptions

    return FetchOptions(
        max_bytes=args.max_size * 1_000_000, retries=args.retries, progress=sys.stderr.isatty()
    )


def cmd_align(args: argparse.Namespace) -> int:
    from pipeline.episode import align_episode
    from pipeline.inputs.fetch import is_url

    url = is_url(args.audio)
    default_folder = Path(".") if url else Path(args.audio).parent
    target = output_target(args.output, args.formats, default_folder, ("vtt",))
    options = align_options(args, target.formats)
    if url:
        from pipeline.batch.feedrun import run_one

        result = run_one(
            args.audio, args.transcript, target.folder, options, fetch_options(args),
            name=target.stem, named=target.named, report=False,
        )  # fmt: skip
    else:
        audio = Path(args.audio)
        target.made()
        stem = target.folder / (target.stem or audio.stem)
        result = align_episode(audio, args.transcript, stem, options, named=target.named)
    log.info(
        "%s alignment of %.0f s of audio in %.1f s, confidence %.2f",
        result.mode, result.audio_duration, result.seconds, result.confidence,
    )  # fmt: skip
    for path in result.outputs.values():
        print(path)
    return EXIT_OK


def _add_transcript(sub: Subcommands) -> None:
    p = add_command(
        sub,
        "transcript",
        help="print a reference transcript's turns as podalign reads them (no audio needed)",
        description="Check a transcript before aligning: its speakers and sentences, one\n"
        "turn after another; how it was read goes to stderr.",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="transcript (.txt, .pdf, .docx, "
                   ".json, .html, .vtt, .srt)")  # fmt: skip
    add_options(p, "transcript")
    p.set_defaults(func=cmd_transcript)


def cmd_transcript(args: argparse.Namespace) -> int:
    from pipeline.inputs.transcript import read_transcript
    from pipeline.subtitles.writers import vtt_timestamp

    for turn in read_transcript(args.file).reference.turns:
        hint = ""
        if turn.start_hint is not None:  # the transcript's own time stamp, HH:MM:SS
            hint = f" [{vtt_timestamp(round(turn.start_hint * 1000))[:8]}]"
        print(f"{turn.speaker or '(no speaker named)'}{hint}:")
        for sentence in turn.sentences:
            print(f"    {sentence}")
        print()
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from pipeline.whisper.models import HUB_NAMES, local_models

    for name, where in local_models():
        print(f"{name}\t{where}")
    print(f"# also by name where a network exists: {', '.join(HUB_NAMES)}; or a local folder",
          file=sys.stderr)  # fmt: skip
    return EXIT_OK


def configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr, format="podalign: %(message)s")
    # faster-whisper logs "Processing audio with duration ..." per call at INFO: podalign
    # says what it does itself; Whisper's own lines are debug output.
    logging.getLogger("faster_whisper").setLevel(logging.DEBUG if verbose else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "verbose", False), getattr(args, "quiet", False))
    try:
        return args.func(args)
    except PodalignError as exc:
        print(f"podalign: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("podalign: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
