"""Measure speaker-change detection on concatenated Common Voice clips and espeak-ng voices.

Run: /work/venv/bin/python bench/bench_speakers.py [--episodes N] [--seed S]
Prints per-language AUC of change scores (true changes vs same-speaker pauses) and the
share of true boundaries that best_turn_boundaries places within 0.5 s.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import speakers

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
    clips: dict[str, list[np.ndarray]], rng: np.random.Generator, n_turns: int, lang: str
) -> tuple[np.ndarray, list[float], list[float]]:
    """Alternating turns of two voices; returns audio, true change times, same-voice pause times."""
    names = sorted(clips)
    if lang == "fi":
        a, b = "S01", str(rng.choice([n for n in names if n != "S01"]))
    else:
        a, b = (str(x) for x in rng.choice(names, size=2, replace=False))
    pools = {a: list(clips[a]), b: list(clips[b])}
    parts: list[np.ndarray] = []
    changes: list[float] = []
    same: list[float] = []
    t = 0.0
    for turn in range(n_turns):
        voice = a if turn % 2 == 0 else b
        n_clips = int(rng.integers(1, 3))
        for k in range(n_clips):
            clip = pools[voice][int(rng.integers(len(pools[voice])))]
            if parts:
                pause = float(rng.uniform(0.4, 0.9))
                (same if k > 0 else changes).append(t + pause / 2)
                parts.append(np.zeros(int(pause * SR), dtype=np.float32))
                t += pause
            parts.append(clip)
            t += len(clip) / SR
    audio = np.concatenate(parts)
    noise = rng.normal(0, 1e-3, len(audio)).astype(np.float32)
    return audio + noise, changes, same


def auc(pos: list[float], neg: list[float]) -> float:
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def evaluate(lang: str, n_episodes: int, seed: int) -> None:
    clips = load_clips(lang)
    rng = np.random.default_rng(seed)
    pos: list[float] = []
    neg: list[float] = []
    hits = total = 0
    for _ in range(n_episodes):
        audio, changes, same = episode(clips, rng, n_turns=8, lang=lang)
        pos += list(speakers.voice_change_scores(audio, SR, changes))
        neg += list(speakers.voice_change_scores(audio, SR, same))
        cands = speakers.turn_boundary_candidates(audio, SR)
        chosen = speakers.best_turn_boundaries(cands, len(changes))
        hits += sum(min(abs(c - t) for c in chosen) <= 0.5 for t in changes) if chosen else 0
        total += len(changes)
    print(
        f"{lang}: episodes={n_episodes} changes={len(pos)} same-voice pauses={len(neg)} "
        f"AUC={auc(pos, neg):.3f} mean change={np.mean(pos):.3f} mean same={np.mean(neg):.3f} "
        f"best_turn_boundaries within 0.5 s={hits}/{total} ({hits / total:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for lang in ("fi", "sv"):
        evaluate(lang, args.episodes, args.seed)


if __name__ == "__main__":
    main()
