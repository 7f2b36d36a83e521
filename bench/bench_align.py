"""Same-language benchmark: podalign's alignment against plain faster-whisper transcription.

Run: python -m bench.bench_align [--out bench-out] [--kinds synthetic-sv,real-sv,real-fi]
         [--peers-python .peers-venv/bin/python] [--device cpu|cuda]

For each fixture (built by samples.make_episodes, with measured ground truth) it runs, each
in a fresh process so time and peak memory are its own: podalign's alignment (same model,
language auto-detected from the text) and plain faster-whisper transcription of the same
audio (beam 5, word timestamps). It prints sentence start/end errors, the share of reference
words in the output in order, the share of cues with the right speaker, wall time, peak
memory and the time ratio against plain transcription. With --peers-python (the venv that
bench/peers_setup.sh builds) it also runs stable-ts `align()` with the same model on the same
audio and prints its figures and the time ratio (what a user would pick instead).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DEVICE_ENV = "PODALIGN_BENCH_DEVICE"  # the parent's --device, for its measuring children

# The last is a stress episode with no target: half the voices 12 dB down (remote guests).
KINDS = ("synthetic-sv", "real-sv", "real-fi", "real-sv-uneven")


def run_align(folder: Path) -> dict:
    from pipeline.episode import AlignOptions, alignment_for
    from pipeline.inputs.audio import load_audio
    from pipeline.inputs.transcript import read_reference
    from pipeline.subtitles.cues import cues_from_alignment
    from pipeline.whisper.models import load_model

    device = _device()
    load_model("base", device=device)  # loading and decoding are outside both timings
    samples = load_audio(folder / "episode.mp3")
    started = time.monotonic()
    reference = read_reference(folder / "transcript.txt")
    alignment = alignment_for(samples, reference, AlignOptions(device=device))
    cues = cues_from_alignment(alignment)
    return {
        "seconds": time.monotonic() - started,
        "mode": alignment.mode,
        "sentences": [[s.start, s.end, [w.text for w in s.words]] for s in alignment.sentences],
        "cues": [[c.start_ms / 1000, c.end_ms / 1000, c.speaker] for c in cues],
        "warnings": list(alignment.warnings),
    }


def run_plain(folder: Path, language: str) -> dict:
    from faster_whisper import decode_audio

    from pipeline.whisper.models import load_model

    model = load_model("base", device=_device())
    samples = decode_audio(str(folder / "episode.mp3"), sampling_rate=16000)
    started = time.monotonic()
    segments, _ = model.transcribe(samples, language=language, beam_size=5, word_timestamps=True)
    count = len(list(segments))
    return {"seconds": time.monotonic() - started, "segments": count}


def _device() -> str:
    import os

    return os.environ.get(DEVICE_ENV, "cpu")


def measured(mode: str, folder: Path, language: str) -> dict:
    """Run one measurement in a child process: its own wall time and peak memory."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_align", "--child", mode, str(folder), language],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def sentence_figures(result: dict, truth: dict) -> dict:
    starts = np.array([s[0] for s in result["sentences"]])
    ends = np.array([s[1] for s in result["sentences"]])
    t_starts = np.array([s["start"] for s in truth["sentences"]])
    t_ends = np.array([s["end"] for s in truth["sentences"]])
    start_err, end_err = np.abs(starts - t_starts), np.abs(ends - t_ends)
    ref_words = [w for s in truth["sentences"] for w in s["text"].split()]
    out_words = [w for s in result["sentences"] for w in s[2]]
    in_order = sum(a == b for a, b in zip(out_words, ref_words, strict=False)) / len(ref_words)
    return {
        "start median": float(np.median(start_err)),
        "start p90": float(np.percentile(start_err, 90)),
        "start within 0.5 s": float(np.mean(start_err <= 0.5)),
        "end median": float(np.median(end_err)),
        "end p90": float(np.percentile(end_err, 90)),
        "words in order": in_order,
        "speakers right": speaker_share(result["cues"], truth["sentences"]),
    }


def speaker_share(cues: list, sentences: list[dict]) -> float:
    """Share of cues whose speaker is the speaker of the true sentence they overlap most."""
    right = 0
    for start, end, speaker in cues:
        overlaps = [min(end, s["end"]) - max(start, s["start"]) for s in sentences]
        right += sentences[int(np.argmax(overlaps))]["speaker"] == speaker
    return right / max(len(cues), 1)


def even_spread(truth: dict) -> float:
    """Median start error of the naive baseline: sentences spread by length over the audio."""
    lengths = np.array([len(s["text"]) for s in truth["sentences"]], dtype=float)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) / lengths.sum() * truth["duration"]
    return float(np.median(np.abs(starts - [s["start"] for s in truth["sentences"]])))


def bench_kind(kind: str, out: Path, peers_python: str | None = None) -> None:
    from samples.make_episodes import build

    folder = out / kind
    truth_path = folder / "truth.json"
    if not truth_path.is_file():
        build(kind, folder)
    truth = json.loads(truth_path.read_text())
    ours = measured("align", folder, truth["audio_language"])
    plain = measured("plain", folder, truth["audio_language"])
    figures = sentence_figures(ours, truth)
    print(f"\n== {kind}: {truth['duration']:.0f} s, {len(truth['sentences'])} sentences, "
          f"mode {ours['mode']}")  # fmt: skip
    for name, value in figures.items():
        print(f"  {name:<22} {value:.3f}")
    print(f"  {'even-spread baseline':<22} start median {even_spread(truth):.2f} s")
    print(f"  {'wall time':<22} podalign {ours['seconds']:.1f} s, plain faster-whisper "
          f"{plain['seconds']:.1f} s, ratio {ours['seconds'] / plain['seconds']:.3f}")  # fmt: skip
    print(
        f"  {'peak memory':<22} podalign {ours['peak_mb']:.0f} MB, plain {plain['peak_mb']:.0f} MB"
    )
    for warning in ours["warnings"]:
        print(f"  warning: {warning}")
    if peers_python:
        print_peer(ours, truth, folder, peers_python)


def print_peer(ours: dict, truth: dict, folder: Path, peers_python: str) -> None:
    """stable-ts `align()` on the same audio in the same run: what a user would pick instead."""
    from bench.bench_peers import measured as peer_measured

    peer = peer_measured("stable-ts", folder, truth["audio_language"], python=peers_python)
    if "error" in peer:
        print(f"  stable-ts: FAILED: {peer['error']}")
        return
    peer["cues"] = []
    figures = sentence_figures(peer, truth)
    print(f"  {'stable-ts align':<22} start median {figures['start median']:.3f}, "
          f"p90 {figures['start p90']:.3f}, within 0.5 s {figures['start within 0.5 s']:.3f}, "
          f"end median {figures['end median']:.3f}, p90 {figures['end p90']:.3f}")  # fmt: skip
    print(f"  {'time vs stable-ts':<22} podalign {ours['seconds']:.1f} s, stable-ts "
          f"{peer['seconds']:.1f} s, ratio {ours['seconds'] / peer['seconds']:.3f}; "
          f"stable-ts peak {peer['peak_mb']:.0f} MB")  # fmt: skip


def child(mode: str, folder: Path, language: str) -> None:
    result = run_align(folder) if mode == "align" else run_plain(folder, language)
    result["peak_mb"] = peak_memory_mb()
    print(json.dumps(result, ensure_ascii=False))


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent that spawned it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fixture_parser(description: str, child_role: str) -> argparse.ArgumentParser:
    """--out and --kinds, and the hidden --child ROLE FOLDER LANG a parent uses to run one
    measurement in a fresh process."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument(
        "--child", nargs=3, metavar=(child_role, "FOLDER", "LANG"), help=argparse.SUPPRESS
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = fixture_parser(__doc__.splitlines()[0], "MODE")
    parser.add_argument(
        "--peers-python",
        help="python of the venv bench/peers_setup.sh builds: also run stable-ts align",
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return
    from pipeline.whisper.models import cuda_devices, resolved_device

    if args.device == "cuda" and not cuda_devices():
        print("bench: no CUDA GPU here (CTranslate2 sees none); nothing to measure on a GPU")
        return
    import os

    os.environ[DEVICE_ENV] = args.device
    args.out.mkdir(parents=True, exist_ok=True)
    device, compute_type = resolved_device(args.device)
    print(f"podalign same-language benchmark (Whisper base, {compute_type}, {device})")
    for kind in args.kinds.split(","):
        bench_kind(kind, args.out, args.peers_python)


if __name__ == "__main__":
    main()
