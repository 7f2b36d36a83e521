"""The `run` and `batch` subcommands, registered on pipeline.cli's parser by add_commands.

    podalign run URL [--transcript T.txt] -o OUT
    podalign batch FEED --transcripts DIR --out DIR [--jobs N] [--engine local|ray]

Exit codes: 0 all went well; 2 nothing could run (bad feed, locked folder, bad input), as
for every podalign command; 3 the batch ran but some episodes failed (the summary says
which and why); 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline.errors import PodalignError
from pipeline.fetch import DEFAULT_MAX_BYTES, FetchOptions
from pipeline.models import add_device_arguments
from pipeline.runner import ENGINES

log = logging.getLogger(__name__)
EXIT_OK, EXIT_ERROR, EXIT_SOME_FAILED, EXIT_INTERRUPTED = 0, 2, 3, 130


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `run` and `batch` on pipeline.cli's subparsers."""
    run = subparsers.add_parser(
        "run",
        help="fetch one episode (SoundCloud track, media URL or local file) and align it",
        description="Fetch one episode with yt-dlp (audio only) and write its subtitles.",
    )
    run.add_argument("source", metavar="URL", help="a SoundCloud track, media URL or local path")
    run.add_argument("-t", "--transcript", type=Path, help="reference transcript (omit: ASR only)")
    run.add_argument("-o", "--out", type=Path, default=Path("."), help="output folder")
    run.add_argument("--name", help="output file stem (default: from the episode's title)")
    _add_shared_arguments(run)
    run.set_defaults(func=cmd_run)

    batch = subparsers.add_parser(
        "batch",
        help="align every episode of a podcast feed or SoundCloud set; reruns do only new work",
        description="Process every episode of an RSS/Atom feed or SoundCloud set. Running it "
        "again on the same --out processes only what is new, changed or failed before.",
    )
    batch.add_argument("feed", metavar="FEED", help="RSS/Atom feed URL or file, or a set URL")
    batch.add_argument("--transcripts", type=Path, metavar="DIR", help="reference transcripts")
    batch.add_argument(
        "-o", "--out", type=Path, required=True, metavar="DIR",
        help="output folder; it also keeps the batch state, so rerun on the same one",
    )  # fmt: skip
    batch.add_argument("-j", "--jobs", type=_positive_int, default=1, help="parallel aligners")
    batch.add_argument(
        "--download-archive", type=Path, metavar="FILE",
        help="yt-dlp download archive to honour and extend (default: OUT/download-archive.txt)",
    )  # fmt: skip
    batch.add_argument(
        "--publish-url", metavar="BASE",
        help="URL the subtitle files will be served from, for the <podcast:transcript> tags",
    )  # fmt: skip
    _add_shared_arguments(batch)
    _add_engine_arguments(batch)
    batch.set_defaults(func=cmd_batch)


# --- engines (issue 13): where a batch runs --------------------------------------------


def _add_engine_arguments(batch: argparse.ArgumentParser) -> None:
    batch.add_argument(
        "--engine", choices=ENGINES, default="local",
        help="local: this machine's processes (default); ray: a Ray cluster, with --jobs "
        "aligner actors (pip install 'podalign[ray]')",
    )  # fmt: skip
    batch.add_argument(
        "--ray-address", metavar="HOST:PORT",
        help="join the Ray cluster whose head is there (default: the Ray instance started "
        "on this machine, else start one)",
    )  # fmt: skip


def _check_engine_arguments(args: argparse.Namespace) -> None:
    if args.ray_address and args.engine != "ray":
        raise PodalignError("--ray-address needs --engine ray")


# --- end of engines ----------------------------------------------------------------------


def _add_shared_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audio-lang", help="language spoken (default: detect)")
    parser.add_argument("--text-lang", help="language of the transcript (default: guess)")
    parser.add_argument("--model", default="base", help="Whisper model (default: base)")
    parser.add_argument(
        "--formats", default="vtt,srt,json", help="subtitle formats (default: vtt,srt,json)"
    )
    parser.add_argument("--vad", action="store_true", help="skip non-speech before the ASR")
    parser.add_argument("--cache-dir", type=Path, help="transcription cache folder")
    parser.add_argument(
        "--max-size", type=_positive_int, default=DEFAULT_MAX_BYTES // 1_000_000, metavar="MB",
        help="refuse downloads larger than this (default: %(default)s MB)",
    )  # fmt: skip
    parser.add_argument("--retries", type=int, default=3, help="retries of a failed download")
    add_device_arguments(parser)


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.feedrun import run_one

    try:
        result = run_one(
            args.source,
            args.transcript,
            args.out,
            _align_options(args),
            _fetch_options(args, progress=sys.stderr.isatty()),
            name=args.name,
        )
    except PodalignError as err:
        print(f"podalign: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    for path in result.outputs.values():
        print(path)
    for warning in result.warnings:
        log.warning("%s", warning)
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from pipeline.feedrun import BatchOptions, run_batch
    from pipeline.reports import summary_table

    try:
        _check_engine_arguments(args)
    except PodalignError as err:
        print(f"podalign: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    options = BatchOptions(
        feed=args.feed,
        out_dir=args.out,
        align=_align_options(args),
        transcripts_dir=args.transcripts,
        jobs=args.jobs,
        fetch=_fetch_options(args, progress=False),
        archive_file=args.download_archive,
        publish_base_url=args.publish_url,
        progress=sys.stderr.isatty(),
        engine=args.engine,
        ray_address=args.ray_address,
    )
    try:
        summary = run_batch(options)
    except PodalignError as err:
        print(f"podalign: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("podalign: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(summary_table(summary.outcomes, summary.seconds))
    return EXIT_SOME_FAILED if summary.count("failed") else EXIT_OK


def _align_options(args: argparse.Namespace):  # -> AlignOptions; imported late (heavy)
    from pipeline.episode import AlignOptions

    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    return AlignOptions(
        audio_lang=args.audio_lang,
        text_lang=args.text_lang,
        model=args.model,
        formats=formats,
        vad=args.vad,
        cache_dir=args.cache_dir,
        device=args.device,
        compute_type=args.compute_type,
    )


def _fetch_options(args: argparse.Namespace, progress: bool) -> FetchOptions:
    return FetchOptions(
        max_bytes=args.max_size * 1_000_000, retries=max(0, args.retries), progress=progress
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value
