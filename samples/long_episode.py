"""Long episodes built from the synthetic sections, with their truth section by section.

    python -m samples.long_episode PRESET --out DIR [--section-seconds N] [--passage-seconds N]

PRESET `long` is eight sections of the spoken seed transcript (about two hours), clean and
hard ones alternating; `hour` is four (about an hour): clean, a passage missing from the
audio, clean, a stretch missing from the transcript. The hard sections carry what breaks
windowed aligners on long audio: intro music, an ad read the transcript lacks, a sentence
missing from the audio, 15 dB pink noise, and a passage (3 minutes by default) missing
from the audio or from the transcript. `--section-seconds` builds the same structure at
reduced scale (each section cut to its first N seconds), as the tests do.

DIR gets `episode.mp3`, `transcript.txt` and `truth.json` as `samples.make_episodes` writes
them, plus in truth.json: each sentence's `section` (and `start`/`end` null for sentences
the audio lacks), the `sections` with their audio spans, and the `gaps` (the passages
missing from one side) with their audio times. The text repeats from section to section,
so a scorer must work section by section (`section_scores`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.files import write_atomic
from samples.make_episodes import (
    RATE,
    SEED,
    Line,
    Plan,
    assemble,
    espeak,
    pink_noise,
    plan_synthetic,
    speech_bounds,
    transcript_text,
    turn_spans,
    write_mp3,
)

# Speech is levelled to about -20 dBFS; noise at -35 dBFS is the 15 dB SNR.
NOISE_DBFS = -35.0
# The recovery case: 3 minutes missing from the audio or from the transcript.
PASSAGE_SECONDS = 180.0
# Where in its section a missing passage begins: well inside, so the aligner has the
# thread before it and a long stretch after it to show whether it found it again.
_PASSAGE_AT = 0.35
# Estimated pause per sentence, only for choosing which sentences make up a passage.
_MEAN_PAUSE = 0.7
# An ad read in another voice, in mid-section: speech that no transcript carries.
AD_TEXT = (
    "Det här avsnittet sponsras av Solgläntans kaffe.",
    "Vårt kaffe rostas långsamt i små partier i Västerbotten.",
    "Beställ före fredag så får du fri frakt och en extra påse på köpet.",
    "Ange koden podd tjugo i kassan, så får du tjugo procent rabatt.",
    "Solgläntans kaffe, för långa samtal och tidiga morgnar.",
)
_AD_VOICE = "sv+m1"
_TURN_STRIDE = 1000  # turn numbers per section: sections never share a turn


@dataclass(frozen=True)
class Section:
    """One spoken pass over the seed transcript, with what makes it hard."""

    name: str
    intro: bool = False  # synthetic music before the first sentence
    ad: bool = False  # an ad read in mid-section that the transcript lacks
    noise_dbfs: float | None = None  # extra pink noise over the section
    unspoken_sentence: bool = False  # one sentence in the transcript, not in the audio
    unspoken_passage: bool = False  # PASSAGE_SECONDS in the transcript, not in the audio
    untranscribed_passage: bool = False  # PASSAGE_SECONDS in the audio, not in the transcript


PRESETS: dict[str, tuple[Section, ...]] = {
    "long": (
        Section("clean-1"),
        Section("intro-ad", intro=True, ad=True),
        Section("clean-2"),
        Section("noise-unspoken", noise_dbfs=NOISE_DBFS, unspoken_sentence=True),
        Section("clean-3"),
        Section("audio-missing", unspoken_passage=True),
        Section("clean-4"),
        Section("text-missing", untranscribed_passage=True, noise_dbfs=NOISE_DBFS),
    ),
    "hour": (
        Section("clean-1"),
        Section("audio-missing", unspoken_passage=True),
        Section("clean-2"),
        Section("text-missing", untranscribed_passage=True),
    ),
}


@dataclass(frozen=True)
class Scale:
    section_seconds: float | None = None  # None: the whole seed transcript per section
    passage_seconds: float = PASSAGE_SECONDS


@cache
def _seed_lines() -> tuple[Line, ...]:
    """The seed transcript's spoken lines, each synthesised once however often it is used."""
    return tuple(replace(line, load=cache(line.load)) for line in plan_synthetic("sv").lines)


@cache
def _ad_lines() -> tuple[Line, ...]:
    return tuple(
        Line(-1, "Reklam", text, cache(lambda t=text: espeak(_AD_VOICE, t)), trim=True)
        for text in AD_TEXT
    )


def _spoken_seconds(line: Line) -> float:
    onset, offset = speech_bounds(line.load())
    return (offset - onset) / RATE


def _estimated_starts(lines: Sequence[Line], limit: float = float("inf")) -> list[float]:
    """Rough start of each line in its section, up to the first at or past `limit`: enough
    to pick passages by duration (and only the lines used are synthesised)."""
    starts, t = [], 0.0
    for line in lines:
        if t >= limit:
            break
        starts.append(t)
        t += _spoken_seconds(line) + _MEAN_PAUSE
    return starts


@cache
def _section_lines(scale: Scale) -> tuple[Line, ...]:
    lines = _seed_lines()
    if scale.section_seconds is None:
        return lines
    return lines[: len(_estimated_starts(lines, scale.section_seconds))]


def passage_range(lines: Sequence[Line], seconds: float) -> range:
    """The sentences making up about `seconds` of speech from _PASSAGE_AT into the section;
    never the first or the last, so there is aligned speech on both sides."""
    starts = _estimated_starts(lines)
    total = starts[-1] + _spoken_seconds(lines[-1])
    first = next(i for i, s in enumerate(starts) if s >= _PASSAGE_AT * total)
    first = max(first, 1)
    last = next((i for i, s in enumerate(starts) if s >= starts[first] + seconds), len(lines) - 1)
    return range(first, max(min(last, len(lines) - 1), first + 1))


@dataclass(frozen=True)
class _Part:
    line: Line
    in_audio: bool
    in_text: bool


def _section_parts(section: Section, scale: Scale) -> list[_Part]:
    lines = list(_section_lines(scale))
    unspoken: set[int] = set()
    untranscribed: set[int] = set()
    if section.unspoken_passage:
        unspoken |= set(passage_range(lines, scale.passage_seconds))
    if section.untranscribed_passage:
        untranscribed |= set(passage_range(lines, scale.passage_seconds))
    if section.unspoken_sentence:
        unspoken.add(len(lines) * 2 // 3)
    parts = [_Part(line, i not in unspoken, i not in untranscribed) for i, line in enumerate(lines)]
    if section.ad:
        middle = len(parts) // 2
        ad = [_Part(line, True, False) for line in _ad_lines()]
        parts[middle:middle] = ad
    return parts


def _section(
    index: int, section: Section, scale: Scale, offset: float
) -> tuple[np.ndarray, list[dict], list[dict]]:
    """The section's samples, its transcript sentences (truth records, times in episode
    seconds, null where the audio lacks the sentence) and its gaps."""
    parts = _section_parts(section, scale)
    spoken = [p for p in parts if p.in_audio]
    audio, said = assemble(Plan("sv", "sv", [p.line for p in spoken], intro=section.intro), None)
    if section.noise_dbfs is not None:
        audio += pink_noise(len(audio), section.noise_dbfs, np.random.default_rng(SEED + index))
    times = iter(said)
    sentences: list[dict] = []
    gaps: list[dict] = []
    last_end = offset
    for part in parts:
        timed = next(times) if part.in_audio else None
        start = offset + timed["start"] if timed else None
        end = offset + timed["end"] if timed else None
        if part.in_text:
            turn = index * _TURN_STRIDE + part.line.turn
            sentences.append(
                {"turn": turn, "speaker": part.line.speaker, "text": part.line.text,
                 "section": index, "start": _rounded(start), "end": _rounded(end)}
            )  # fmt: skip
        gap = _gap_kind(part)
        if gap:
            at, until = (start, end) if timed else (last_end, last_end)
            _extend_gap(gaps, gap, index, at, until)
        last_end = end if end is not None else last_end
    return audio, sentences, gaps


def _gap_kind(part: _Part) -> str | None:
    if not part.in_audio:
        return "missing from the audio"
    if not part.in_text:
        return "ad" if part.line.turn < 0 else "missing from the transcript"
    return None


def _extend_gap(gaps: list[dict], kind: str, section: int, start: float, end: float) -> None:
    """Consecutive sentences of one kind make one gap: a passage, not many sentences."""
    if gaps and gaps[-1]["kind"] == kind and gaps[-1]["open"]:
        gaps[-1]["end"] = _rounded(end)
        return
    for gap in gaps:
        gap["open"] = False
    gaps.append({"kind": kind, "section": section, "start": _rounded(start),
                 "end": _rounded(end), "open": True})  # fmt: skip


def _rounded(t: float | None) -> float | None:
    return None if t is None else round(t, 3)


def build_long(
    sections: Sequence[Section], out: Path, scale: Scale = Scale(), kind: str = "long"
) -> Path:
    """Write episode.mp3, transcript.txt and truth.json for the sections; truth's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pieces: list[np.ndarray] = []
    sentences: list[dict] = []
    gaps: list[dict] = []
    spans: list[dict] = []
    offset = 0.0
    for index, section in enumerate(sections):
        audio, own, own_gaps = _section(index, section, scale, offset)
        pieces.append(audio)
        spans.append({"name": section.name, "start": round(offset, 3),
                      "end": round(offset + len(audio) / RATE, 3)})  # fmt: skip
        sentences += own
        gaps += [{k: v for k, v in g.items() if k != "open"} for g in own_gaps]
        offset += len(audio) / RATE
    audio = np.concatenate(pieces)
    del pieces
    for i, sentence in enumerate(sentences):
        sentence["index"] = i
    write_mp3(audio, out / "episode.mp3")
    write_atomic(out / "transcript.txt", transcript_text(sentences))
    truth = {
        "kind": kind,
        "audio": "episode.mp3",
        "audio_language": "sv",
        "text_language": "sv",
        "duration": round(len(audio) / RATE, 3),
        "sentences": sentences,
        "turns": turn_spans([s for s in sentences if s["start"] is not None]),
        "sections": spans,
        "gaps": gaps,
    }
    return write_atomic(out / "truth.json", json.dumps(truth, ensure_ascii=False, indent=1) + "\n")


# --- scoring ----------------------------------------------------------------------------

# A start this close to the truth counts as back on the thread (the figure).
RECOVERED_SECONDS = 0.5


@dataclass(frozen=True)
class SectionScore:
    name: str
    sentences: int  # spoken reference sentences in the section
    start_median: float
    start_p90: float
    words_in_section: float  # share of the section's reference words placed inside it


def section_of(t: float, spans: Sequence[dict]) -> int:
    """The section whose audio holds time t (the last one for times past the end)."""
    for i, span in enumerate(spans):
        if t < span["end"]:
            return i
    return len(spans) - 1


def section_scores(
    truth: dict, starts: Sequence[float], word_times: Sequence[Sequence[tuple[float, float]]]
) -> list[SectionScore]:
    """Per section: start errors of its spoken sentences, and the share of its reference
    words whose middle falls in its own audio span. starts and word_times are per
    transcript sentence (the aligner's output, in order)."""
    spans = truth["sections"]
    out = []
    for k, span in enumerate(spans):
        own = [(i, s) for i, s in enumerate(truth["sentences"]) if s["section"] == k]
        errors = [abs(starts[i] - s["start"]) for i, s in own if s["start"] is not None]
        middles = [(a + b) / 2 for i, _ in own for a, b in word_times[i]]
        inside = sum(section_of(m, spans) == k for m in middles) / max(len(middles), 1)
        out.append(SectionScore(
            span["name"], len(errors), float(np.median(errors)),
            float(np.percentile(errors, 90)), inside,
        ))  # fmt: skip
    return out


@dataclass(frozen=True)
class Recovery:
    kind: str
    section: int
    at: float  # where the gap starts in the audio
    before: float  # seconds of audio before the gap whose starts are off by more than 0.5 s
    after: float  # seconds of audio after the gap until starts are back within 0.5 s


# Starts are back on the thread once this many sentences in a row are within 0.5 s.
_BACK_ON_THREAD = 3


def recoveries(truth: dict, starts: Sequence[float]) -> list[Recovery]:
    """For each gap, the stretches of audio right before and right after it (within its
    section) where sentence starts are off by more than RECOVERED_SECONDS: after it, up to
    the first of _BACK_ON_THREAD good starts in a row; before it, back to the last such run."""
    out = []
    for gap in truth["gaps"]:
        timed = [
            (s["start"], abs(starts[i] - s["start"]) <= RECOVERED_SECONDS)
            for i, s in enumerate(truth["sentences"])
            if s["section"] == gap["section"] and s["start"] is not None
        ]
        after = [(t - gap["end"], good) for t, good in timed if t >= gap["end"]]
        before = [(gap["start"] - t, good) for t, good in reversed(timed) if t < gap["start"]]
        out.append(Recovery(gap["kind"], gap["section"], gap["start"], _astray(before),
                            _astray(after)))  # fmt: skip
    return out


def _astray(distances: Sequence[tuple[float, bool]]) -> float:
    """Distance to the first of _BACK_ON_THREAD good sentences in a row (0 when they come
    first), for sentences ordered away from a gap; all of it when they never come."""
    for k in range(len(distances)):
        if all(good for _, good in distances[k : k + _BACK_ON_THREAD]):
            return distances[k][0] if k else 0.0
    return distances[-1][0] if distances else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m samples.long_episode", description=__doc__)
    parser.add_argument("preset", choices=list(PRESETS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--section-seconds", type=float, default=None,
                        help="cut each section to its first N seconds")  # fmt: skip
    parser.add_argument("--passage-seconds", type=float, default=PASSAGE_SECONDS,
                        help="length of the passages missing from one side")  # fmt: skip
    args = parser.parse_args(argv)
    scale = Scale(args.section_seconds, args.passage_seconds)
    print(build_long(PRESETS[args.preset], args.out, scale, kind=args.preset))


if __name__ == "__main__":
    main()
