"""The `run` and `batch` subcommands, registered on pipeline.cli.commands's parser by add_commands.

    podalign run URL [--transcript T.txt] -o OUT
    podalign batch FEED --transcripts DIR --out DIR [--jobs N] [--engine local|ray]

Exit statuses are pipeline.cli.options.EXIT_STATUS: 0 all went well; 2 nothing could run (bad
feed, locked folder, bad input), as for every podalign command; 3 the batch ran but some
episodes failed (the summary says which and why); 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.batch.matching import HOW_TRANSCRIPTS_ARE_FOUND
from pipeline.batch.runner import ENGINES
from pipeline.cli.options import add_command, add_options, positive_int
from pipeline.errors import PodalignError

if TYPE_CHECKING:
    from pipeline.cli.options import Subcommands

log = logging.getLogger(__name__)
EXIT_OK, EXIT_ERROR, EXIT_SOME_FAILED, EXIT_INTERRUPTED = 0, 2, 3, 130  # options.EXIT_STATUS


BATCH_DESCRIPTION = f"""\
Process every episode of an RSS/Atom feed or SoundCloud set. Running it again on the
same --out processes only what is new, changed or failed before.

{HOW_TRANSCRIPTS_ARE_FOUND}
The summary table goes to stdout, the per-episode log to stderr."""


def add_commands(subparsers: Subcommands) -> None:
    """Register `run` and `batch` on pipeline.cli.commands's subparsers."""
    from pipeline.cli.commands import OUTPUT_HELP

    run = add_command(
        subparsers, "run",
        help="fetch one episode (SoundCloud track, media URL or local file) and align it",
        description="Fetch one episode with yt-dlp (audio only) and write its subtitles, and\n"
        "<stem>.report.json saying where its inputs came from.",
    )  # fmt: skip
    run.add_argument("source", metavar="URL", help="a SoundCloud track, media URL or local path")
    run.add_argument("-o", "--out", action="append", metavar="DIR|FILE",
                     help=OUTPUT_HELP + " (default: the current folder)")  # fmt: skip
    run.add_argument("--name", help="output file stem (default: from the episode's title)")
    add_options(run, "run")
    run.set_defaults(func=cmd_run)

    batch = add_command(
        subparsers, "batch",
        help="align every episode of a podcast feed or SoundCloud set; reruns do only new work",
        description=BATCH_DESCRIPTION,
    )  # fmt: skip
    batch.add_argument("feed", metavar="FEED", help="RSS/Atom feed URL or file, or a set URL")
    batch.add_argument("--transcripts", type=Path, metavar="DIR",
                       help="folder of reference transcripts, matched as above (default: none: "
                       "only transcripts the feed links)")  # fmt: skip
    batch.add_argument(
        "-o", "--out", action="append", required=True, metavar="DIR",
        help="output folder, made if missing; it also keeps the batch state, so rerun on the "
        "same one (required)",
    )  # fmt: skip
    batch.add_argument("-j", "--jobs", type=positive_int, default=1, metavar="N",
                       help="episodes aligned at a time, each by its own process sharing the "
                       "cores (default: 1)")  # fmt: skip
    batch.add_argument(
        "--download-archive", type=Path, metavar="FILE",
        help="yt-dlp download archive to honour and extend (default: OUT/download-archive.txt)",
    )  # fmt: skip
    batch.add_argument(
        "--publish-url", metavar="BASE",
        help="URL the subtitle files will be served from, for the <podcast:transcript> tags "
        "(default: none: the tags name the files alone)",
    )  # fmt: skip
    add_options(batch, "batch")
    _add_engine_arguments(batch)
    batch.set_defaults(func=cmd_batch)


# --- engines: where a batch runs -------------------------------------------------------


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


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.batch.feedrun import run_one
    from pipeline.cli.commands import ALL_FORMATS, align_options, fetch_options, output_target

    target = output_target(args.out, args.formats, Path("."), ALL_FORMATS)
    result = run_one(
        args.source,
        args.transcript,
        target.folder,
        align_options(args, target.formats),
        fetch_options(args),
        name=args.name or target.stem,
        named=target.named,
    )
    for path in result.outputs.values():
        print(path)
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from pipeline.batch.feedrun import BatchOptions, run_batch
    from pipeline.batch.reports import summary_table
    from pipeline.cli.commands import ALL_FORMATS, align_options, fetch_options, output_target

    _check_engine_arguments(args)
    target = output_target(args.out, args.formats, Path("."), ALL_FORMATS, folder_only=True)
    options = BatchOptions(
        feed=args.feed,
        out_dir=target.folder,
        align=align_options(args, target.formats),
        transcripts_dir=args.transcripts,
        jobs=args.jobs,
        fetch=replace(fetch_options(args), progress=False),
        archive_file=args.download_archive,
        publish_base_url=args.publish_url,
        progress=sys.stderr.isatty(),
        engine=args.engine,
        ray_address=args.ray_address,
    )
    try:
        summary = run_batch(options)
    except KeyboardInterrupt:
        print("podalign: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(summary_table(summary.outcomes, summary.seconds))
    return EXIT_SOME_FAILED if summary.count("failed") else EXIT_OK
