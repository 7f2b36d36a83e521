"""`podalign preview`: the page that plays an episode with its subtitles."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.cli.options import add_command, add_options
from pipeline.errors import PodalignError
from pipeline.records import LOW_CONFIDENCE

if TYPE_CHECKING:
    from pipeline.cli.options import Subcommands
from pipeline.subtitles.preview import (
    INDEX_NAME,
    find_inputs,
    holds_several_episodes,
    write_folder_preview,
    write_preview,
)


def add_commands(subparsers: Subcommands) -> None:
    """Register ``podalign preview`` on the CLI's subcommand parsers."""
    parser = add_command(
        subparsers, "preview",
        help="write an HTML page that plays the episode with its subtitles",
        description=(
            "Write <stem>.preview.html beside the subtitles: the audio with the WebVTT as\n"
            "its track, the transcript beside it (current line highlighted, click to seek,\n"
            "unsure lines marked). Works offline, opened straight from the file system.\n"
            "A folder of several episodes (a batch's --out) gets a page per episode and\n"
            "index.html linking them; a page without its audio beside it plays the\n"
            "enclosure its batch report names."
        ),
    )  # fmt: skip
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="EPISODE_DIR_OR_FILES",
        help="the episode folder, or its audio, .vtt and (optional) .json files, or a "
        "batch's output folder",
    )
    parser.add_argument(
        "-o", "--output", type=Path,
        help="the page to write, for one episode (default: <stem>.preview.html beside the "
        ".vtt; for a folder of episodes, FOLDER/index.html and a page per episode)",
    )  # fmt: skip
    parser.add_argument(
        "--low-confidence",
        type=float,
        default=LOW_CONFIDENCE,
        metavar="X",
        help=f"mark cues whose timing confidence is below X (default: {LOW_CONFIDENCE})",
    )
    add_options(parser, "preview")
    parser.set_defaults(func=run_preview)


def run_preview(args: argparse.Namespace) -> int:
    """``podalign preview``: write the page(s) and print where they are."""
    if holds_several_episodes(args.paths):
        if args.output is not None:
            raise PodalignError(
                f"{args.paths[0]} holds several episodes: it gets one page each and "
                f"{INDEX_NAME}; leave out -o"
            )
        for page in write_folder_preview(args.paths[0], args.low_confidence):
            print(page)
        return 0
    inputs = find_inputs(args.paths)
    page = write_preview(inputs, args.output, threshold=args.low_confidence)
    print(page)
    return 0
