"""Command line: `podalign align|models|run|batch|preview`. Logs to stderr, data to files."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.errors import PodalignError
from pipeline.models import add_device_arguments
from pipeline.writers import WRITERS

if TYPE_CHECKING:
    from pipeline.episode import EpisodeResult

log = logging.getLogger("podalign")


def build_parser() -> argparse.ArgumentParser:
    from pipeline import batch, preview

    parser = argparse.ArgumentParser(
        prog="podalign",
        description="Timed, speaker-labelled subtitles from podcast audio and its transcript.",
    )
    parser.add_argument("--version", action="version", version=f"podalign {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_align(sub)
    models = sub.add_parser("models", help="list the Whisper models usable offline")
    models.set_defaults(func=cmd_models)
    batch.add_commands(sub)
    preview.add_commands(sub)
    return parser


def _add_align(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "align",
        help="align a reference transcript onto an episode's audio and write subtitles",
        description="Same-language forced alignment, or cross-lingual when the transcript's "
        "language differs from the audio's (e.g. Swedish text on Finnish speech).",
    )
    p.add_argument("audio", type=Path, metavar="EPISODE", help="audio file (mp3, m4a, wav, ...)")
    p.add_argument("-t", "--transcript", type=Path, help="reference transcript (.txt, .vtt, .srt); "
                   "omit for subtitles from the speech recognition alone")  # fmt: skip
    p.add_argument("--lang", default="auto", help="audio language: sv, fi, ... or auto (default)")
    p.add_argument("--audio-lang", help="force the audio language (overrides --lang)")
    p.add_argument("--text-lang", help="force the transcript language (default: guess)")
    p.add_argument("--model", default="base", help="base (embedded, default), small, large-v3, "
                   "or a local CTranslate2 folder")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, help="output file (default: next to the audio, "
                   "EPISODE.vtt); other formats get the same stem")  # fmt: skip
    p.add_argument("--format", action="append", choices=sorted(WRITERS), dest="formats",
                   help="output format, repeatable (default: -o suffix, else vtt)")  # fmt: skip
    p.add_argument("--vad", action="store_true", help="voice-activity filter for the ASR passes")
    p.add_argument("--cache-dir", type=Path, help="transcription cache folder")
    add_device_arguments(p)
    p.add_argument("--preview", action="store_true", help="also write <stem>.preview.html: the "
                   "episode with its subtitles in a browser, unsure cues marked")  # fmt: skip
    p.set_defaults(func=cmd_align)


def align_targets(
    output: Path | None, audio: Path, formats: list[str] | None
) -> tuple[Path, tuple[str, ...]]:
    """(output stem, formats) from -o and --format: `-o ep.sv.vtt` -> (ep.sv, ("vtt",))."""
    target = output or audio.with_suffix(".vtt")
    suffix_format = next((f for f, w in WRITERS.items() if target.suffix == w.suffix), None)
    stem = target.with_suffix("") if suffix_format else target
    chosen = tuple(formats) if formats else (suffix_format or "vtt",)
    return stem, tuple(dict.fromkeys(chosen))


def cmd_align(args: argparse.Namespace) -> int:
    from pipeline.episode import AlignOptions, align_episode

    stem, formats = align_targets(args.output, args.audio, args.formats)
    if args.preview and "vtt" not in formats:
        raise PodalignError("--preview plays the WebVTT file: add --format vtt")
    audio_lang = args.audio_lang or (None if args.lang == "auto" else args.lang)
    options = AlignOptions(
        audio_lang, args.text_lang, args.model, formats, args.vad, args.cache_dir,
        device=args.device, compute_type=args.compute_type,
    )  # fmt: skip
    result = align_episode(args.audio, args.transcript, stem, options)
    log.info(
        "%s alignment of %.0f s of audio in %.1f s, confidence %.2f",
        result.mode, result.audio_duration, result.seconds, result.confidence,
    )  # fmt: skip
    for path in result.outputs.values():
        print(path)
    if args.preview:
        print(_preview_of(result, args.audio))
    return 0


def _preview_of(result: EpisodeResult, audio: Path) -> Path:
    # Confidences exist only in memory: the subtitle formats have no place for them.
    from pipeline.preview import PreviewInputs, confidences_from_cues, write_preview

    inputs = PreviewInputs(result.outputs["vtt"], audio, result.outputs.get("json"))
    return write_preview(inputs, confidences=confidences_from_cues(result.cues))


def cmd_models(args: argparse.Namespace) -> int:
    from pipeline.models import HUB_NAMES, local_models

    for name, where in local_models():
        print(f"{name}\t{where}")
    print(f"# also by name where a network exists: {', '.join(HUB_NAMES)}; or a local folder",
          file=sys.stderr)  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr, format="podalign: %(message)s")
    try:
        return args.func(args)
    except PodalignError as exc:
        print(f"podalign: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("podalign: interrupted", file=sys.stderr)
        return 130
