"""Long-episode benchmark: does the aligner keep the thread for two hours, in flat memory?

Run: python -m bench.bench_long [--out bench-out] [--kinds long,quarter]

Fixtures (samples.long_episode, built when missing): `long`, eight synthetic sections
(about two hours; clean and hard alternating: intro music and an ad read, a sentence missing
from the audio under 15 dB noise, 3 minutes missing from the audio, 3 minutes missing from
the transcript under noise), and `quarter`, its first (clean) section alone (about 15
minutes), for memory against length. Each measurement runs in its own process (own wall
time and peak memory; model loading and audio decoding outside the timing). It prints per
section the sentence start median/p90 and the share of the section's reference words
placed inside it (a cue's words counted by their middles), how long after (and before)
each missing passage starts stray more than 0.5 s, peak memory, the warnings, and wall time
against plain faster-whisper transcription (beam 5, word timestamps) of the first section,
scaled to the episode's length: plain transcription of two hours is not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.bench_align import peak_memory_mb
from samples.long_episode import PRESETS, build_long, recoveries, section_scores

KINDS = ("long", "quarter")
_SECTIONS = {"long": PRESETS["long"], "quarter": PRESETS["long"][:1]}


def run_align(folder: Path) -> dict:
    from pipeline.episode import AlignOptions, alignment_for
    from pipeline.inputs.audio import load_pcm
    from pipeline.inputs.transcript import read_reference
    from pipeline.whisper.models import load_model

    load_model("base")
    samples = load_pcm(folder / "episode.mp3")  # as align_episode holds it
    started = time.monotonic()
    alignment = alignment_for(samples, read_reference(folder / "transcript.txt"), AlignOptions())
    return {
        "seconds": time.monotonic() - started,
        "starts": [s.start for s in alignment.sentences],
        "words": [[[w.start, w.end] for w in s.words] for s in alignment.sentences],
        "warnings": list(alignment.warnings),
    }


def run_plain(folder: Path, start: float, end: float) -> dict:
    """Plain transcription of one section of the episode (decoded alone by ffmpeg)."""
    import numpy as np

    from pipeline.whisper.models import load_model
    from samples.make_episodes import RATE, ffmpeg

    model = load_model("base")
    raw = ffmpeg(["-ss", str(start), "-t", str(end - start), "-i", str(folder / "episode.mp3"),
                  "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"])  # fmt: skip
    samples = np.frombuffer(raw, dtype=np.float32)
    started = time.monotonic()
    segments, _ = model.transcribe(samples, language="sv", beam_size=5, word_timestamps=True)
    count = len(list(segments))
    return {"seconds": time.monotonic() - started, "segments": count}


def measured(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_long", "--child", *args],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def bench_kind(kind: str, out: Path) -> None:
    folder = out / kind
    if not (folder / "truth.json").is_file():
        build_long(_SECTIONS[kind], folder, kind=kind)
    truth = json.loads((folder / "truth.json").read_text())
    ours = measured("align", str(folder))
    first = truth["sections"][0]
    plain = measured("plain", str(folder), str(first["start"]), str(first["end"]))
    plain_scaled = plain["seconds"] * truth["duration"] / (first["end"] - first["start"])
    print(f"\n== {kind}: {truth['duration'] / 60:.1f} min, {len(truth['sections'])} sections, "
          f"{len(truth['sentences'])} sentences")  # fmt: skip
    print(f"  {'section':<16} {'start median':>12} {'p90':>7} {'words in own section':>21}")
    for score in section_scores(truth, ours["starts"], ours["words"]):
        print(f"  {score.name:<16} {score.start_median:>12.3f} {score.start_p90:>7.3f} "
              f"{100 * score.words_in_section:>20.1f}%")  # fmt: skip
    for r in recoveries(truth, ours["starts"]):
        print(f"  after {r.kind} at {r.at / 60:.1f} min: off by > 0.5 s for {r.before:.0f} s "
              f"before, {r.after:.0f} s after")  # fmt: skip
    print(f"  {'wall time':<16} podalign {ours['seconds']:.1f} s, plain faster-whisper "
          f"{plain['seconds']:.1f} s on section 1 ({plain_scaled:.0f} s scaled to the "
          f"episode), ratio {ours['seconds'] / plain_scaled:.3f}")  # fmt: skip
    print(f"  {'peak memory':<16} podalign {ours['peak_mb']:.0f} MB, plain on section 1 "
          f"{plain['peak_mb']:.0f} MB")  # fmt: skip
    for warning in ours["warnings"]:
        print(f"  warning: {warning}")


def child(args: list[str]) -> None:
    if args[0] == "align":
        result = run_align(Path(args[1]))
    else:
        result = run_plain(Path(args[1]), float(args[2]), float(args[3]))
    result["peak_mb"] = peak_memory_mb()
    print(json.dumps(result, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    print("podalign long-episode benchmark (Whisper base, int8, CPU)")
    for kind in args.kinds.split(","):
        bench_kind(kind, args.out)


if __name__ == "__main__":
    main()
