"""Measure speaker-change detection on concatenated Common Voice clips and espeak-ng voices.

Run: /work/venv/bin/python bench/bench_speakers.py [--episodes N] [--seed S] [--built DIR]

Prints, per language, the AUC of change scores (true changes vs same-voice pauses), the
share of true boundaries that best_turn_boundaries places within 0.5 s (boundary k vs true
boundary k), with and without a ±2 s timing estimate, and how many adjacent true turns
the two-voice model tells apart. First on our own concatenations of Common Voice clips
(short turns of 1-2 clips), then, with --built DIR, on samples.make_episodes' episodes
(built into DIR if missing: synthetic ones take ~40 s each).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from bench import voice_scores
from pipeline.signal import speakers

SR = 16000
REAL = Path("/work/shared/realspeech")


def load_clips(lang: str) -> dict[str, list[np.ndarray]]:
    """Decoded clips per speaker, leading/trailing silence trimmed."""
    from faster_whisper import decode_audio

    by_speaker: dict[str, list[np.ndarray]] = defaultdict(list)
    with open(REAL / lang / "transcripts.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            audio = decode_audio(str(REAL / lang / "clips" / row["path"]), sampling_rate=SR)
            by_speaker[row["speaker"]].append(trim(audio))
    return dict(by_speaker)


def trim(audio: np.ndarray) -> np.ndarray:
    regions = speakers.speech_regions(audio, SR)
    if not regions:
        return audio
    a, b = regions[0][0], regions[-1][1]
    return audio[max(0, int((a - 0.05) * SR)) : int((b + 0.05) * SR)]


def episode(
    clips: dict[str, list[np.ndarray]],
    rng: np.random.Generator,
    n_turns: int,
    lang: str,
    max_clips_per_turn: int = 2,
) -> tuple[np.ndarray, list[float], list[float], list[tuple[float, float]]]:
    """Alternating turns of two voices, clips separated by 0.4-0.9 s pauses.

    Returns audio, true change times (pause midpoints between voices), same-voice pause
    midpoints (between two clips of one voice) and the (start, end) of each turn.
    """
    names = sorted(clips)
    if lang == "fi":  # S01 has 45 clips; the other voices only a few each
        a, b = "S01", str(rng.choice([n for n in names if n != "S01"]))
    else:
        a, b = (str(x) for x in rng.choice(names, size=2, replace=False))
    parts: list[np.ndarray] = []
    changes: list[float] = []
    same: list[float] = []
    spans: list[tuple[float, float]] = []
    t = 0.0
    for turn in range(n_turns):
        pool = clips[a if turn % 2 == 0 else b]
        for k in range(int(rng.integers(1, max_clips_per_turn + 1))):
            if parts:
                pause = float(rng.uniform(0.4, 0.9))
                (same if k > 0 else changes).append(t + pause / 2)
                parts.append(np.zeros(int(pause * SR), dtype=np.float32))
                t += pause
            if k == 0:
                spans.append((t, t))
            clip = pool[int(rng.integers(len(pool)))]
            parts.append(clip)
            t += len(clip) / SR
            spans[-1] = (spans[-1][0], t)
    audio = np.concatenate(parts)
    # A faint noise floor, as in any real recording, instead of digital silence in pauses.
    return audio + rng.normal(0, 1e-3, len(audio)).astype(np.float32), changes, same, spans


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random true change scores above a random same-voice pause."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def placed(chosen: list[float], truth: list[float], tolerance: float = 0.5) -> int:
    """How many boundaries k are placed within `tolerance` s of true boundary k."""
    return sum(abs(c - t) <= tolerance for c, t in zip(chosen, truth, strict=False))


def evaluate(lang: str, n_episodes: int, seed: int, max_clips: int) -> None:
    clips = load_clips(lang)
    rng = np.random.default_rng(seed)
    pos: list[float] = []
    neg: list[float] = []
    hits = hits_prior = total = alternating = pairs = 0
    for _ in range(n_episodes):
        audio, changes, same, spans = episode(clips, rng, 8, lang, max_clips)
        pos += list(voice_scores.voice_change_scores(audio, SR, changes))
        neg += list(voice_scores.voice_change_scores(audio, SR, same))
        cands = speakers.turn_boundary_candidates(audio, SR)
        hits += placed(speakers.best_turn_boundaries(cands, len(changes)), changes)
        # A rough timing estimate, as from text length: true time ± 2 s.
        guess = list(np.asarray(changes) + rng.normal(0, 2.0, len(changes)))
        hits_prior += placed(speakers.best_turn_boundaries(cands, len(changes), guess), changes)
        total += len(changes)
        agreement = voice_scores.alternation_agreement(
            voice_scores.turn_voice_scores(audio, SR, spans)
        )
        alternating += round(agreement * (len(spans) - 1))
        pairs += len(spans) - 1
    print(
        f"{lang}: episodes={n_episodes} (8 turns of 1-{max_clips} clips) "
        f"true changes={len(pos)} same-voice pauses={len(neg)}\n"
        f"  change-score AUC={auc(pos, neg):.3f} "
        f"(mean {np.mean(pos):.2f} at changes vs {np.mean(neg):.2f} at same-voice pauses)\n"
        f"  best_turn_boundaries within 0.5 s: {hits}/{total} ({hits / total:.0%}) "
        f"without prior, {hits_prior}/{total} ({hits_prior / total:.0%}) with expected±2 s\n"
        f"  true turns judged alternating: {alternating}/{pairs} ({alternating / pairs:.0%})"
    )


def evaluate_built(kind: str, root: Path, seed: int) -> None:
    """The same figures on an episode from samples.make_episodes, against its truth.json."""
    import json

    from faster_whisper import decode_audio

    from samples.make_episodes import build

    truth_path = root / kind / "truth.json"
    if not truth_path.exists():
        build(kind, root / kind)
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    audio = decode_audio(str(truth_path.parent / truth["audio"]), sampling_rate=SR)
    turns = [(t["start"], t["end"]) for t in truth["turns"]]
    changes = [(a[1] + b[0]) / 2 for a, b in itertools.pairwise(turns)]
    sentences = truth["sentences"]
    same = [
        (a["end"] + b["start"]) / 2
        for a, b in itertools.pairwise(sentences)
        if a["turn"] == b["turn"]
    ]
    pos = voice_scores.voice_change_scores(audio, SR, changes)
    neg = voice_scores.voice_change_scores(audio, SR, same)
    cands = speakers.turn_boundary_candidates(audio, SR)
    rng = np.random.default_rng(seed)
    guess = list(np.asarray(changes) + rng.normal(0, 2.0, len(changes)))
    hits = placed(speakers.best_turn_boundaries(cands, len(changes)), changes)
    hits_prior = placed(speakers.best_turn_boundaries(cands, len(changes), guess), changes)
    voices = voice_scores.turn_voice_scores(audio, SR, turns)
    differ = sum(a * b < 0 for a, b in itertools.pairwise(voices))
    names = sorted({t["speaker"] for t in truth["turns"]})
    n = len(changes)
    print(
        f"{kind}: {truth['duration']:.0f} s, {len(turns)} turns, voices {names}, "
        f"{len(cands)} candidate pauses\n"
        f"  change-score AUC={auc(list(pos), list(neg)):.3f} "
        f"(mean {np.mean(pos):.2f} at {n} changes vs {np.mean(neg):.2f} at {len(same)} "
        f"sentence pauses)\n"
        f"  best_turn_boundaries within 0.5 s: {hits}/{n} without prior, "
        f"{hits_prior}/{n} with expected±2 s\n"
        f"  adjacent true turns told apart: {differ}/{n}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-clips-per-turn", type=int, default=2)
    parser.add_argument("--built", type=Path, help="also evaluate make_episodes kinds here")
    args = parser.parse_args()
    for lang in ("fi", "sv"):
        evaluate(lang, args.episodes, args.seed, args.max_clips_per_turn)
    if args.built:
        for kind in ("synthetic-fi", "synthetic-sv", "real-fi", "real-sv"):
            evaluate_built(kind, args.built, args.seed)


if __name__ == "__main__":
    main()
