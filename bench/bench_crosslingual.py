"""Cross-lingual alignment (Swedish transcript onto Finnish speech) against known timings.

Run: /work/venv/bin/python -m bench.bench_crosslingual [OUT_DIR] [--kinds synthetic-fi,real-fi-sv]

Builds (or reuses) the `synthetic-fi` and `real-fi-sv` episodes in OUT_DIR (default
bench-out/), transcribes each in Finnish with the embedded Whisper base (timed: plain
faster-whisper transcription; the result is kept as asr-fi.json beside the episode, and a
rerun reuses it and reports the time measured when it was made), finds speaker-change
candidates and aligns (timed); then aligns it as the CLI does (`alignment_for`: its own
cached transcription, the intro and false-start handling; untimed, bench_conversation
times that path). Prints per fixture: median/p90 sentence start error, share of starts
within 0.5 s, turn starts within 0.5 s, speaker labels right (the truth speaker at each
aligned sentence's midpoint), the wall-time ratio (our total / transcription) and the same
figures for spreading the sentences evenly over the speech, and for a stressed run
(speech regions blind to pauses under 1 s, no voice-change candidates).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

from pipeline.align.crosslingual import align_cross_lingual
from pipeline.inputs.transcript import read_reference
from pipeline.records import Alignment, Segment, Transcription, Word
from pipeline.signal.speakers import speech_regions, turn_boundary_candidates
from samples.make_episodes import RATE, build, decode

KINDS = ("synthetic-fi", "real-fi-sv")


def finnish_asr(samples: np.ndarray, folder: Path) -> tuple[Transcription, float]:
    """Whisper base, Finnish, beam 5, word times; cached in `folder` with its measured time."""
    cache = folder / "asr-fi.json"
    if not cache.is_file():
        from pipeline.whisper.models import load_model

        model = load_model("base")
        began = time.perf_counter()
        segs, info = model.transcribe(samples, language="fi", beam_size=5, word_timestamps=True)
        segments = [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": [[w.word, w.start, w.end, w.probability] for w in s.words or []],
            }
            for s in segs
        ]
        seconds = time.perf_counter() - began
        data = {"language": info.language, "language_probability": info.language_probability}
        data |= {"duration": info.duration, "segments": segments, "seconds": seconds}
        cache.write_text(json.dumps(data, ensure_ascii=False))
    data = json.loads(cache.read_text())
    segments = tuple(
        Segment(s["start"], s["end"], s["text"], tuple(Word(*w) for w in s["words"]))
        for s in data["segments"]
    )
    asr = Transcription(data["language"], data["language_probability"], data["duration"], segments)
    return asr, float(data["seconds"])


def as_a_user_gets_it(folder: Path) -> Alignment:
    """The episode aligned as the CLI does it; its transcription is cached in
    `folder`/podalign-cache for reruns."""
    from pipeline.episode import AlignOptions, alignment_for
    from pipeline.inputs.audio import load_audio

    options = AlignOptions(cache_dir=folder / "podalign-cache")
    return alignment_for(
        load_audio(folder / "episode.mp3"), read_reference(folder / "transcript.txt"), options
    )


def even_spread(alignment: Alignment, speech: list[tuple[float, float]]) -> list[float]:
    """Baseline: sentence starts spread over the speech time in proportion to characters."""
    chars = np.array([len(s.text) for s in alignment.sentences], dtype=float)
    lengths = np.array([b - a for a, b in speech])
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    at = cum[-1] * np.concatenate([[0.0], np.cumsum(chars)[:-1]]) / chars.sum()
    k = np.clip(np.searchsorted(cum, at, side="right") - 1, 0, len(speech) - 1)
    return [float(speech[i][0] + t - cum[i]) for i, t in zip(k, at, strict=True)]


def scores(starts: list[float], mids: list[float], truth: dict) -> dict[str, float]:
    """Start errors, turn starts within 0.5 s and speaker labels right, against truth."""
    said = truth["sentences"][: len(starts)]
    err = np.abs(np.array(starts) - np.array([s["start"] for s in said]))
    turn_first = [i for i, s in enumerate(said) if i == 0 or s["turn"] != said[i - 1]["turn"]]
    spans = truth["turns"]

    def speaker_at(t: float) -> str | None:
        return min(spans, key=lambda s: max(s["start"] - t, t - s["end"], 0.0))["speaker"]

    right = [speaker_at(m) == s["speaker"] for m, s in zip(mids, said, strict=True)]
    return {
        "median": float(np.median(err)),
        "p90": float(np.percentile(err, 90)),
        "within": float(np.mean(err <= 0.5)),
        "turns": float(np.mean(err[turn_first] <= 0.5)),
        "speakers": float(np.mean(right)),
    }


def line(name: str, s: dict[str, float]) -> str:
    return (
        f"  {name:<12} start error median {s['median']:.2f} s, p90 {s['p90']:.2f} s, "
        f"within 0.5 s {s['within']:.0%}; turn starts within 0.5 s {s['turns']:.0%}; "
        f"speaker labels right {s['speakers']:.0%}"
    )


def bench(kind: str, out: Path) -> None:
    folder = out / kind
    if not (folder / "truth.json").is_file():
        build(kind, folder)
    truth = json.loads((folder / "truth.json").read_text())
    reference = read_reference(folder / "transcript.txt")
    samples = decode(folder / "episode.mp3")
    asr, asr_seconds = finnish_asr(samples, folder)
    began = time.perf_counter()
    speech = speech_regions(samples, RATE)
    candidates = turn_boundary_candidates(samples, RATE)
    alignment = align_cross_lingual(reference, asr, speech, candidates)
    ours = time.perf_counter() - began
    sentences = alignment.sentences
    in_order = all(a.end <= b.start for a, b in itertools.pairwise(sentences))
    n_ref = len(reference.sentences)
    print(
        f"{kind}: {n_ref} Swedish sentences, {len(truth['turns'])} turns, "
        f"{truth['duration']:.0f} s audio"
    )
    print(f"  every sentence timed, in order: {len(sentences) == n_ref and in_order}")
    mids = [(s.start + s.end) / 2 for s in sentences]
    print(line("aligner", scores([s.start for s in sentences], mids, truth)))
    as_cli = as_a_user_gets_it(folder)
    cli_mids = [(s.start + s.end) / 2 for s in as_cli.sentences]
    print(line("as the CLI", scores([s.start for s in as_cli.sentences], cli_mids, truth)))
    base = even_spread(alignment, speech)
    base_mids = [*((a + b) / 2 for a, b in itertools.pairwise(base)), base[-1] + 1.0]
    print(line("even spread", scores(base, base_mids, truth)))
    print(
        f"  time: transcription {asr_seconds:.1f} s, speakers + alignment {ours:.1f} s, "
        f"wall-time ratio {(asr_seconds + ours) / asr_seconds:.2f}"
    )
    for warning in alignment.warnings:
        print(f"  warning: {warning}")
    # Stress: speech detection blind to pauses under 1 s and no voice evidence, so only
    # lengths, the ASR's sentence ends and word starts place the sentences.
    blind = speech_regions(samples, RATE, min_pause=1.0)
    stressed = align_cross_lingual(reference, asr, blind, ())
    starts = [s.start for s in stressed.sentences]
    print(
        line("stressed", scores(starts, [(s.start + s.end) / 2 for s in stressed.sentences], truth))
    )
    err = np.abs(np.array(starts) - [s["start"] for s in truth["sentences"][: len(starts)]])
    conf = np.array([s.confidence for s in stressed.sentences])
    print(
        f"  stressed confidence: {conf[err <= 0.5].mean():.2f} mean where within 0.5 s, "
        f"{conf[err > 0.5].mean() if (err > 0.5).any() else float('nan'):.2f} elsewhere; "
        f"{len(stressed.warnings)} warnings"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("bench-out"))
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args(argv)
    for kind in args.kinds.split(","):
        bench(kind, args.out)


if __name__ == "__main__":
    main()
