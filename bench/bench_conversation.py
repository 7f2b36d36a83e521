"""Conversation benchmark: interviews built from real voices (samples.conversation).

Run: python -m bench.bench_conversation [--out bench-out] [--split held-out|tuning]
         [--kinds conv-sv,conv-fi,conv-fi-sv] [--seeds 10,11,12]

For each kind and each layout seed of the split (default: the held-out seeds, which no
constant was tuned on; `--seeds` names other layouts instead, fresh ones that check a
change tuned on the tuning split carries over) it builds the episode, then runs in fresh
processes podalign's alignment as a user gets it (`alignment_for`, mode chosen from the
text and the audio) and plain faster-whisper transcription of the same audio (beam 5, word
timestamps). Pooled over the layouts it prints: sentence start error median / p90 and
share within 0.5 s, end error p90, reference words placed inside the untranscribed aside
(a word counts when its middle is there), reference words starting before the speech
under the intro, reference words out in order, speakers right (cues), and the time ratio
against plain transcription.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.bench_align import peak_memory_mb, run_plain, speaker_share

KINDS = ("conv-sv", "conv-fi", "conv-fi-sv")
# Whisper-sized slack: a first word starting this much before the speech under a jingle is
# an edge error (counted in the start figures), further is a word placed on the music.
INTRO_SLACK = 0.2


def run_align(folder: Path) -> dict:
    from pipeline.episode import AlignOptions, alignment_for
    from pipeline.inputs.audio import load_audio
    from pipeline.inputs.transcript import read_reference
    from pipeline.subtitles.cues import cues_from_alignment
    from pipeline.whisper.models import load_model

    load_model("base")  # loading and decoding outside the timing, as in run_plain
    samples = load_audio(folder / "episode.mp3")
    # A fresh transcription cache: conv-fi-sv has conv-fi's audio, and a cached transcription
    # would time the cross-lingual aligner without its ASR.
    with tempfile.TemporaryDirectory(prefix="podalign-bench-") as cache:
        options = AlignOptions(cache_dir=Path(cache))
        started = time.monotonic()
        alignment = alignment_for(samples, read_reference(folder / "transcript.txt"), options)
        cues = cues_from_alignment(alignment)
        seconds = time.monotonic() - started
    return {
        "seconds": seconds,
        "mode": alignment.mode,
        "sentences": [
            [s.start, s.end, s.confidence, [[w.text, w.start, w.end] for w in s.words]]
            for s in alignment.sentences
        ],
        "cues": [[c.start_ms / 1000, c.end_ms / 1000, c.speaker] for c in cues],
        "warnings": list(alignment.warnings),
    }


def measured(mode: str, folder: Path, language: str) -> dict:
    """One measurement in a child process: its own wall time and peak memory."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_conversation", "--child", mode, str(folder), language],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


@dataclass
class Pool:
    """Figures gathered over the layouts of one kind."""

    start_err: list[float]
    end_err: list[float]
    aside_words: list[int]  # per layout
    aside_alone_words: list[int]  # per layout: in the aside, outside any spoken sentence
    intro_words: list[int]  # per layout
    words_right: int = 0
    words_total: int = 0
    cues_right: float = 0.0
    cues: int = 0
    seconds: float = 0.0
    plain_seconds: float = 0.0
    low_confidence_wrong: int = 0  # sentences off by > 0.5 s that have confidence < 0.5
    wrong: int = 0


def added(pool: Pool, ours: dict, plain: dict, truth: dict) -> None:
    said = truth["sentences"]
    starts = np.array([s[0] for s in ours["sentences"]])
    ends = np.array([s[1] for s in ours["sentences"]])
    start_err = np.abs(starts - [s["start"] for s in said])
    pool.start_err += start_err.tolist()
    pool.end_err += np.abs(ends - [s["end"] for s in said]).tolist()
    words = [w for s in ours["sentences"] for w in s[3]]
    mids = [(w[1] + w[2]) / 2 for w in words]
    pool.aside_words.append(sum(a["start"] <= m <= a["end"] for a in truth["asides"] for m in mids))
    pool.aside_alone_words.append(len(aside_alone(mids, truth["asides"], said)))
    pool.intro_words.append(sum(w[1] < truth["speech_start"] - INTRO_SLACK for w in words))
    ref = [w for s in said for w in s["text"].split()]
    out = [w[0] for w in words]
    pool.words_right += sum(a == b for a, b in zip(out, ref, strict=False))
    pool.words_total += len(ref)
    pool.cues_right += speaker_share(ours["cues"], said) * len(ours["cues"])
    pool.cues += len(ours["cues"])
    pool.seconds += ours["seconds"]
    pool.plain_seconds += plain["seconds"]
    conf = np.array([s[2] for s in ours["sentences"]])
    pool.wrong += int(np.sum(start_err > 0.5))
    pool.low_confidence_wrong += int(np.sum((start_err > 0.5) & (conf < 0.5)))


def aside_alone(mids: list[float], asides: list[dict], said: list[dict]) -> list[float]:
    """The word middles inside an aside but outside every sentence's true span: the issue
    lets an overlapping turn touch the aside's edge, so its words there do not count."""
    return [
        m
        for m in mids
        if any(a["start"] <= m <= a["end"] for a in asides)
        and not any(s["start"] <= m <= s["end"] for s in said)
    ]


def report(kind: str, pool: Pool, seeds: list[int]) -> None:
    start, end = np.array(pool.start_err), np.array(pool.end_err)
    print(f"\n== {kind}: {len(start)} sentences over layouts {seeds} (pooled)")
    print(f"  start error median / p90   {np.median(start):.3f} / {np.percentile(start, 90):.3f} s")
    print(f"  starts within 0.5 s        {np.mean(start <= 0.5):.1%}")
    print(f"  end error median / p90     {np.median(end):.3f} / {np.percentile(end, 90):.3f} s")
    print(f"  reference words in aside   {pool.aside_words} (per layout)")
    print(f"    outside overlapping turns {pool.aside_alone_words} (per layout)")
    print(f"  words before speech/intro  {pool.intro_words} (per layout)")
    print(f"  reference words in order   {pool.words_right / pool.words_total:.1%}")
    print(f"  speakers right (cues)      {pool.cues_right / max(pool.cues, 1):.1%}")
    print(f"  starts off > 0.5 s marked  {pool.low_confidence_wrong} of {pool.wrong} "
          "with confidence < 0.5")  # fmt: skip
    ratio = pool.seconds / pool.plain_seconds
    print(f"  time vs plain transcription {ratio:.3f} (podalign {pool.seconds:.1f} s, "
          f"plain faster-whisper {pool.plain_seconds:.1f} s)")  # fmt: skip


# Plain transcription per audio content: conv-fi-sv has conv-fi's audio, measured once a run.
_plain_by_audio: dict[str, dict] = {}


def plain_for(folder: Path, language: str) -> dict:
    key = hashlib.sha256((folder / "episode.mp3").read_bytes()).hexdigest() + language
    if key not in _plain_by_audio:
        _plain_by_audio[key] = measured("plain", folder, language)
    return _plain_by_audio[key]


def bench_kind(kind: str, seeds: list[int], out: Path) -> None:
    from samples.conversation import build

    pool = Pool([], [], [], [], [])
    for seed in seeds:
        folder = out / f"{kind}-{seed}"
        if not (folder / "truth.json").is_file():
            build(kind, seed, folder)
        truth = json.loads((folder / "truth.json").read_text())
        ours = measured("align", folder, truth["audio_language"])
        plain = plain_for(folder, truth["audio_language"])
        print(f"  {kind} seed {seed}: mode {ours['mode']}, {len(truth['sentences'])} sentences, "
              f"{truth['duration']:.0f} s", flush=True)  # fmt: skip
        added(pool, ours, plain, truth)
    report(kind, pool, seeds)


def child(mode: str, folder: Path, language: str) -> None:
    result = run_align(folder) if mode == "align" else run_plain(folder, language)
    result["peak_mb"] = peak_memory_mb()
    print(json.dumps(result, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    from samples.conversation import HELD_OUT_SEEDS, TUNING_SEEDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out") / "conversation")
    parser.add_argument("--split", choices=("held-out", "tuning"), default="held-out")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seeds", help="comma-separated layout seeds, instead of --split")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return
    if args.seeds:
        seeds, split = [int(s) for s in args.seeds.split(",")], "named"
    else:
        split = args.split
        seeds = list(HELD_OUT_SEEDS if split == "held-out" else TUNING_SEEDS)
    print(f"podalign conversation benchmark ({split} layouts {seeds}; Whisper base, CPU)")
    for kind in args.kinds.split(","):
        bench_kind(kind, seeds, args.out)


if __name__ == "__main__":
    main()
