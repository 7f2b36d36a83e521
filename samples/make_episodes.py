"""Build test and benchmark episodes whose timing ground truth is known exactly.

    python -m samples.make_episodes KIND --out DIR [--limit-seconds N]

KIND is one of `synthetic-sv`, `synthetic-fi` (the seed transcript spoken by espeak-ng in
Swedish, or in our Finnish rendering of it), `real-sv`, `real-fi` (Common Voice read speech
concatenated into speaker turns) and `real-fi-sv` (the Finnish clips with our Swedish
translation as the reference). DIR gets `episode.mp3`, `transcript.txt` (what the aligner
reads: one `Speaker: ` paragraph per turn) and `truth.json` (where each reference sentence
is actually spoken). Everything is seeded, so a rebuild gives the same truth.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path

import numpy as np

from pipeline.files import write_atomic
from pipeline.inputs.transcript import read_reference, split_sentences

RATE = 16_000  # Hz; Whisper resamples to 16 kHz anyway
FRAME = RATE // 100  # 10 ms energy frames
SEED = 20240611
HERE = Path(__file__).resolve().parent
SEED_TRANSCRIPT = HERE / "seed-sv.txt"  # a byte-exact copy of shared/seeds/000_7a72ba570e7071f8.txt
SEED_FI = HERE / "seed_fi.tsv"
REAL_FI_SV = HERE / "realspeech_fi_sv.tsv"
SENTENCE_PAUSE = (0.3, 0.8)  # seconds of silence between sentences of one turn
TURN_PAUSE = (0.9, 1.5)  # ... and between turns
# bitexact: the same samples always give the same bytes.
MP3 = ("-c:a", "libmp3lame", "-b:a", "64k", "-fflags", "+bitexact")


def realspeech_dir() -> Path:
    """shared/realspeech: beside the repository (CI's fresh clone) or in /work/shared."""
    if env := os.environ.get("PODALIGN_REALSPEECH"):
        return Path(env)
    beside = HERE.parent.parent / "shared" / "realspeech"
    return beside if beside.is_dir() else Path("/work/shared/realspeech")


@dataclass(frozen=True)
class Line:
    """One reference sentence and how to get the audio that speaks it."""

    turn: int
    speaker: str | None
    text: str  # the reference sentence: what transcript.txt and truth.json carry
    load: Callable[[], np.ndarray]  # mono float32 samples at RATE
    trim: bool  # cut the audio to its speech (synthetic); real clips keep their room noise
    gain_db: float = 0.0  # a quieter voice (a remote guest): the whole clip, room noise too


@dataclass(frozen=True)
class Plan:
    audio_language: str
    text_language: str
    lines: list[Line]
    intro: bool  # synthetic "music" before the first sentence, absent from the transcript


# --- audio ---------------------------------------------------------------------------


def ffmpeg(args: list[str], data: bytes | None = None) -> bytes:
    cmd = ["ffmpeg", "-v", "error", *args]
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def decode(source: Path | bytes) -> np.ndarray:
    """An audio file (or its bytes) as mono float32 samples at RATE."""
    name, data = ("-", source) if isinstance(source, bytes) else (str(source), None)
    raw = ffmpeg(["-i", name, "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"], data)
    return np.frombuffer(raw, dtype=np.float32).copy()


def espeak(voice: str, text: str) -> np.ndarray:
    # Text on stdin so that a leading "-" or quote is never taken for an option.
    cmd = ["espeak-ng", "-v", voice, "-s", "160", "--stdout", "--stdin"]
    return decode(subprocess.run(cmd, input=text.encode(), capture_output=True, check=True).stdout)


def frame_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    rms = np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME).astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-10)


def highpassed(x: np.ndarray, cutoff: float = 120.0) -> np.ndarray:
    """x without its rumble and mains hum, which some clips have long after the speech."""
    spectrum = np.fft.rfft(x)
    spectrum[: int(cutoff * len(x) / RATE)] = 0
    return np.fft.irfft(spectrum, len(x))


def speech_bounds(x: np.ndarray) -> tuple[int, int]:
    """(onset, offset) sample of the speech in a clip, by energy with hysteresis.

    Frames within 20 dB of the clip's loud frames are surely speech; the speech extends
    from the first to the last of them, outwards while frames stay clearly above the room
    noise (measured above 120 Hz: below it some clips hum on after the speech).
    """
    db = frame_db(highpassed(x))
    floor, peak = np.percentile(db, 10), np.percentile(db, 99)
    weak = max(floor + 12, peak - 35)
    strong = db > max(peak - 20, floor + 15)
    # Vowels last 50 ms or more; a click at the clip's start or a knock does not.
    runs = np.flatnonzero(np.convolve(strong, np.ones(5), mode="valid") == 5)
    if not len(runs):
        raise ValueError("no speech found in a clip")
    first, last = runs[0], runs[-1] + 4
    while first > 0 and db[first - 1] > weak:
        first -= 1
    while last + 1 < len(db) and db[last + 1] > weak:
        last += 1
    return first * FRAME, (last + 1) * FRAME


def levelled(x: np.ndarray, onset: int, offset: int) -> np.ndarray:
    """Speech at about -20 dBFS RMS, like a mastered podcast, never clipping."""
    speech = x[onset:offset]
    rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    gain = min(0.1 / max(rms, 1e-6), 0.9 / max(float(np.abs(x).max()), 1e-6))
    return (x * gain).astype(np.float32)


def intro_music(seconds: float = 5.0) -> np.ndarray:
    """A few soft tones: non-speech audio the aligner must not take for the first sentence."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = 0.03 * np.sin(2 * np.pi * 220.0 * t) * np.minimum(1, np.minimum(t, seconds - t) / 0.5)
    note = seconds / 4
    for i, freq in enumerate((440.0, 554.37, 659.25, 880.0)):
        on = (t >= i * note) & (t < (i + 1) * note)
        local = t[on] - i * note
        out[on] += 0.08 * np.sin(2 * np.pi * freq * local) * np.exp(-3 * local)
    return out.astype(np.float32)


def pink_noise(n: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))  # 1/f power
    noise = np.fft.irfft(spectrum, n)
    noise *= 10 ** (dbfs / 20) / np.sqrt(np.mean(noise**2))
    return noise.astype(np.float32)


def write_mp3(x: np.ndarray, path: Path) -> None:
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    # To a file, not a pipe: only a seekable output gets the LAME header whose encoder delay
    # lets decoders restore the exact timing (through a pipe, everything shifts by ~70 ms).
    part = path.with_name(f".{path.name}.part.mp3")
    ffmpeg(["-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-", *MP3, str(part)], pcm)
    os.replace(part, path)


# --- assembly --------------------------------------------------------------------------


def assemble(plan: Plan, limit_seconds: float | None) -> tuple[np.ndarray, list[dict]]:
    """The episode's samples and one truth record per spoken line, in order."""
    rng = random.Random(SEED)
    parts: list[np.ndarray] = []
    cursor = 0  # samples so far

    def silence(bounds: tuple[float, float]) -> None:
        nonlocal cursor
        parts.append(np.zeros(int(rng.uniform(*bounds) * RATE), dtype=np.float32))
        cursor += len(parts[-1])

    if plan.intro:
        parts.append(intro_music())
        cursor += len(parts[-1])
        silence(TURN_PAUSE)
    truth: list[dict] = []
    for i, line in enumerate(plan.lines):
        if i:
            silence(TURN_PAUSE if line.turn != plan.lines[i - 1].turn else SENTENCE_PAUSE)
        x = line.load()
        onset, offset = speech_bounds(x)
        if line.trim:  # keep 50 ms either side so the synthetic onsets stay soft
            cut = max(0, onset - 5 * FRAME)
            x, onset, offset = x[cut : offset + 5 * FRAME], onset - cut, offset - cut
        parts.append(levelled(x, onset, offset) * np.float32(10 ** (line.gain_db / 20)))
        start, end = (cursor + onset) / RATE, (cursor + offset) / RATE
        said = {"index": i, "turn": line.turn, "speaker": line.speaker, "text": line.text}
        truth.append(said | {"start": round(start, 3), "end": round(end, 3)})
        cursor += len(x)
        if limit_seconds is not None and end >= limit_seconds:
            break
    parts.append(np.zeros(RATE, dtype=np.float32))  # a second of room tone to close
    audio = np.concatenate(parts)
    audio += pink_noise(len(audio), -40.0, np.random.default_rng(SEED))
    return audio, truth


def by_turn(truth: list[dict]) -> list[list[dict]]:
    return [list(group) for _, group in groupby(truth, key=lambda s: s["turn"])]


def transcript_text(truth: list[dict]) -> str:
    """One paragraph per turn, `Speaker: ` labelled, as the aligner's reference."""
    paragraphs = [" ".join(s["text"] for s in turn) for turn in by_turn(truth)]
    labels = [f"{turn[0]['speaker']}: " if turn[0]["speaker"] else "" for turn in by_turn(truth)]
    return "\n\n".join(label + text for label, text in zip(labels, paragraphs, strict=True)) + "\n"


def turn_spans(truth: list[dict]) -> list[dict]:
    return [
        {"speaker": t[0]["speaker"], "start": t[0]["start"], "end": t[-1]["end"]}
        for t in by_turn(truth)
    ]


def build(kind: str, out: Path, limit_seconds: float | None = None) -> Path:
    """Write episode.mp3, transcript.txt and truth.json for `kind` into `out`; truth's path."""
    if kind not in PLANNERS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(PLANNERS)}")
    plan = PLANNERS[kind]()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    audio, sentences = assemble(plan, limit_seconds)
    write_mp3(audio, out / "episode.mp3")
    write_atomic(out / "transcript.txt", transcript_text(sentences))
    truth = {
        "kind": kind,
        "audio": "episode.mp3",
        "audio_language": plan.audio_language,
        "text_language": plan.text_language,
        "duration": round(len(audio) / RATE, 3),
        "sentences": sentences,
        "turns": turn_spans(sentences),
    }
    return write_atomic(out / "truth.json", json.dumps(truth, ensure_ascii=False, indent=1) + "\n")


# --- the kinds -----------------------------------------------------------------------


def read_tsv(path: Path) -> list[dict[str, str]]:
    # QUOTE_NONE: prompts contain unbalanced quotes ('käsirautani."') that must stay as is.
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def voices_for(language: str, speakers: list[str | None]) -> dict[str | None, str]:
    """A distinct espeak-ng voice per speaker, in order of first appearance."""
    variants = ("f2", "m3", "f4", "m1", "f1", "m7")
    order = list(dict.fromkeys(speakers))
    return {spk: f"{language}+{variants[i % len(variants)]}" for i, spk in enumerate(order)}


def seed_fi_rows() -> list[dict[str, str]]:
    """seed_fi.tsv, checked against the parsed seed so that an edit to either is caught."""
    seed = read_reference(SEED_TRANSCRIPT).sentences
    rows = read_tsv(SEED_FI)
    if len(rows) != len(seed):
        raise ValueError(f"{SEED_FI.name} has {len(rows)} rows, the seed {len(seed)} sentences")
    for row, s in zip(rows, seed, strict=True):
        if (int(row["index"]), row["speaker"], row["sv"]) != (s.index, s.speaker, s.text):
            raise ValueError(f"{SEED_FI.name} row {row['index']} does not match seed: {s.text!r}")
    return rows


def plan_synthetic(language: str) -> Plan:
    seed = read_reference(SEED_TRANSCRIPT).sentences
    spoken = [s.text for s in seed] if language == "sv" else [r["fi"] for r in seed_fi_rows()]
    voices = voices_for(language, [s.speaker for s in seed])
    lines = [
        Line(s.turn, s.speaker, s.text, partial(espeak, voices[s.speaker], said), trim=True)
        for s, said in zip(seed, spoken, strict=True)
    ]
    return Plan(language, "sv", lines, intro=True)


def as_one_sentence(text: str) -> str:
    """A prompt the transcript reader reads back as exactly one sentence.

    Some prompts lack final punctuation ("Mitä kuuluu") or hold two sentences in one clip
    ("nukutusaine… Miten"); joined into a paragraph they would merge with the next prompt
    or split in two, and the truth would no longer match the reference sentence for sentence.
    """
    text = " ".join(text.split())
    pieces = split_sentences(text)
    text = pieces[0]
    for piece in pieces[1:]:
        text = f"{text.rstrip('.?!…')}, {piece[0].lower()}{piece[1:]}"
    if text.rstrip("\"'”’»)")[-1:] not in (".", "?", "!", "…"):
        text = text.rstrip(":;,") + "."
    return text


def schedule(speakers: list[str], rng: random.Random) -> list[list[int]]:
    """Clip indices grouped into turns of 2-4 clips, alternating speakers where possible.

    The speaker with the most clips left speaks next (never twice in a row), so a dominant
    voice is interleaved with all the others rather than left for a monologue at the end.
    """
    pools: dict[str, list[int]] = {}
    for i, spk in enumerate(speakers):
        pools.setdefault(spk, []).append(i)
    turns: list[list[int]] = []
    previous: str | None = None
    while any(pools.values()):
        others = [s for s in pools if pools[s] and s != previous]
        if not others:  # only the previous speaker has clips left: their turn goes on
            assert previous is not None  # on the first pass every speaker is an other
            turns[-1].extend(pools.pop(previous))
            break
        spk = max(others, key=lambda s: len(pools[s]))  # first-appearing wins ties
        rest = sum(len(p) for s, p in pools.items() if s != spk)
        size = rng.randint(2, 4) if len(pools[spk]) <= 3 * rest else 4
        turns.append(pools[spk][:size])
        del pools[spk][:size]
        previous = spk
    return turns


def speaker_names(ids: list[str], word: str) -> dict[str, str]:
    """`Talare A`, `Talare B`, ... per Common Voice voice: a label the transcript reader
    accepts (no digits) that still means exactly one real voice."""
    order = sorted(set(ids))
    return {sid: f"{word} {chr(ord('A') + i)}" for i, sid in enumerate(order)}


def plan_real(audio_language: str, text_language: str, quiet_db: float = 0.0) -> Plan:
    """Common Voice clips in turns; with quiet_db, every other voice that much quieter."""
    folder = realspeech_dir() / audio_language
    clips = read_tsv(folder / "transcripts.tsv")
    texts = [c["sentence"] for c in clips]
    if text_language != audio_language:
        texts = translations(clips)
    ids = [c["speaker"] for c in clips]
    names = speaker_names(ids, "Talare" if text_language == "sv" else "Puhuja")
    quiet = set(sorted(set(ids))[1::2])
    lines = []
    for turn, members in enumerate(schedule(ids, random.Random(SEED))):
        for i in members:
            audio = partial(decode, folder / "clips" / clips[i]["path"])
            text = as_one_sentence(texts[i])
            gain = -quiet_db if ids[i] in quiet else 0.0
            lines.append(Line(turn, names[ids[i]], text, audio, trim=False, gain_db=gain))
    return Plan(audio_language, text_language, lines, intro=False)


def translations(clips: list[dict[str, str]]) -> list[str]:
    """Our Swedish for each Finnish clip, checked against the clip prompts to catch drift."""
    rows = {r["path"]: r for r in read_tsv(REAL_FI_SV)}
    stale = [c["path"] for c in clips if rows.get(c["path"], {}).get("fi") != c["sentence"]]
    if stale:
        raise ValueError(f"{REAL_FI_SV.name} lacks or differs from the prompts of {stale}")
    return [rows[c["path"]]["sv"] for c in clips]


PLANNERS: dict[str, Callable[[], Plan]] = {
    "synthetic-sv": partial(plan_synthetic, "sv"),
    "synthetic-fi": partial(plan_synthetic, "fi"),
    "real-sv": partial(plan_real, "sv", "sv"),
    "real-fi": partial(plan_real, "fi", "fi"),
    "real-fi-sv": partial(plan_real, "fi", "sv"),
    # Stress, no target: half the voices 12 dB down, as a remote guest on a weaker line.
    "real-sv-uneven": partial(plan_real, "sv", "sv", 12.0),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m samples.make_episodes", description=__doc__)
    parser.add_argument("kind", choices=list(PLANNERS))
    parser.add_argument("--out", type=Path, required=True)
    limit_help = "stop after the sentence that crosses this many seconds"
    parser.add_argument("--limit-seconds", type=float, default=None, help=limit_help)
    args = parser.parse_args(argv)
    print(build(args.kind, args.out, args.limit_seconds))


if __name__ == "__main__":
    main()
