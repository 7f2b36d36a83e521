"""Peer benchmark: what a user would pick instead of podalign, on bench_align's fixtures.

Run from the repo root, in the peers venv that bench/peers_setup.sh builds:

    bash bench/peers_setup.sh
    PYTHONPATH=. .peers-venv/bin/python -m bench.bench_peers [--out bench-out]
        [--kinds synthetic-sv,real-sv,real-fi] [--peers stable-ts,aeneas,aeneas-nonspeech]

Peers, each run in a fresh process so its wall time and peak memory are its own, with model
loading and audio decoding outside the timing as in bench_align:

- stable-ts: `align()` with the embedded Whisper base (faster-whisper backend, int8, CPU), the
  transcript's sentences without speaker labels as text, every option at its default; its
  words are mapped back to the sentences by character offsets;
- aeneas: one fragment per sentence (espeak synthesis + MFCC DTW), default settings
  (fragments are contiguous: each boundary falls inside the pause between two sentences);
- aeneas-nonspeech: the same with nonspeech intervals of 0.5 s or more removed.

It prints bench_align's sentence figures. Peers do not label speakers: speaker figures do not
apply. Figures for podalign itself and plain faster-whisper come from bench.bench_align.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bench.bench_align import even_spread, fixture_parser, peak_memory_mb, sentence_figures

PEERS = ("stable-ts", "aeneas", "aeneas-nonspeech")
ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "whisper-base"
AENEAS_LANGUAGES = {"sv": "swe", "fi": "fin"}


def reference_sentences(folder: Path) -> list[str]:
    from pipeline.inputs.transcript import read_reference

    return [s.text for s in read_reference(folder / "transcript.txt").sentences]


def by_characters(sentences: list[str], words: list[tuple[str, float, float]]) -> list[list]:
    """Each sentence's [start, end, word texts]: a word belongs to the sentence holding its first
    non-space character, counting only non-space characters (robust to split or merged tokens)."""
    bounds, total = [], 0
    for sentence in sentences:
        total += len("".join(sentence.split()))
        bounds.append(total)
    owned: list[list[tuple[str, float, float]]] = [[] for _ in sentences]
    position, index = 0, 0
    for word in words:
        while index < len(bounds) - 1 and position >= bounds[index]:
            index += 1
        owned[index].append(word)
        position += len("".join(word[0].split()))
    out, last = [], 0.0
    for mine in owned:
        start = min((w[1] for w in mine), default=last)
        last = max((w[2] for w in mine), default=last)
        out.append([start, last, "".join(w[0] for w in mine).split()])
    return out


def run_stable_ts(folder: Path, language: str) -> dict:
    import stable_whisper
    from faster_whisper import decode_audio

    model = stable_whisper.load_faster_whisper(str(MODEL), device="cpu", compute_type="int8")
    samples = decode_audio(str(folder / "episode.mp3"), sampling_rate=16000)
    sentences = reference_sentences(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.monotonic()
        result = model.align(samples, "\n".join(sentences), language=language, verbose=None)
        seconds = time.monotonic() - started
    words = [(w.word, w.start, w.end) for w in result.all_words()]
    if "".join("".join(w[0] for w in words).split()) != "".join("".join(sentences).split()):
        caught.append(warnings.WarningMessage("aligned text differs", UserWarning, "", 0))
    return {
        "seconds": seconds,
        "label": f"stable-ts {stable_whisper.__version__} align (faster-whisper base, int8)",
        "sentences": by_characters(sentences, words),
        "warnings": [str(w.message) for w in caught if "align" in str(w.message)],
    }


def run_aeneas(folder: Path, language: str, remove_nonspeech: bool) -> dict:
    from aeneas import __version__
    from aeneas.executetask import ExecuteTask
    from aeneas.syncmap import SyncMapFragment
    from aeneas.task import Task

    sentences = reference_sentences(folder)
    config = f"task_language={AENEAS_LANGUAGES[language]}|is_text_type=plain"
    config += "|os_task_file_format=json"
    if remove_nonspeech:
        config += "|task_adjust_boundary_nonspeech_min=0.5"
        config += "|task_adjust_boundary_nonspeech_string=REMOVE"
    with tempfile.TemporaryDirectory() as tmp:
        wav, text = Path(tmp) / "episode.wav", Path(tmp) / "sentences.txt"
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-i", str(folder / "episode.mp3"),
             "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(wav)],
            check=True,
        )  # fmt: skip
        text.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        task = Task(config_string=config)
        task.audio_file_path_absolute, task.text_file_path_absolute = str(wav), str(text)
        started = time.monotonic()
        ExecuteTask(task).execute()
        seconds = time.monotonic() - started
    fragments = [f for f in task.sync_map_leaves() if f.fragment_type == SyncMapFragment.REGULAR]
    if len(fragments) != len(sentences):
        raise RuntimeError(f"aeneas gave {len(fragments)} fragments for {len(sentences)}")
    return {
        "seconds": seconds,
        "label": f"aeneas {__version__}" + (" (nonspeech >= 0.5 s removed)" * remove_nonspeech),
        "sentences": [[float(f.begin), float(f.end), f.text.split()] for f in fragments],
        "warnings": [],
    }


def measured(peer: str, folder: Path, language: str, python: str = sys.executable) -> dict:
    """Run one measurement in a child process (of the peers venv's `python`): its own wall time
    and peak memory. bench_align calls this too, to put stable-ts beside podalign in one run."""
    done = subprocess.run(
        [python, "-m", "bench.bench_peers", "--child", peer, str(folder), language],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_kind(kind: str, out: Path, peers: list[str]) -> None:
    folder = out / kind
    truth = json.loads((folder / "truth.json").read_text())
    print(f"\n== {kind}: {truth['duration']:.0f} s, {len(truth['sentences'])} sentences, "
          f"audio {truth['audio_language']}")  # fmt: skip
    print(f"  {'even-spread baseline':<22} start median {even_spread(truth):.2f} s")
    for peer in peers:
        result = measured(peer, folder, truth["audio_language"])
        if "error" in result:
            print(f"  -- {peer}: FAILED: {result['error']}")
            continue
        print(f"  -- {result['label']}")
        result["cues"] = [[s["start"], s["end"], s["speaker"]] for s in truth["sentences"]]
        figures = sentence_figures(result, truth)
        figures.pop("speakers right")
        for name, value in figures.items():
            print(f"  {name:<22} {value:.3f}")
        print(f"  {'speakers right':<22} n/a (no speaker labelling)")
        print(f"  {'wall time':<22} {result['seconds']:.1f} s")
        print(f"  {'peak memory':<22} {result['peak_mb']:.0f} MB")
        for warning in result["warnings"]:
            print(f"  warning: {warning}")


def child(peer: str, folder: Path, language: str) -> None:
    if peer == "stable-ts":
        result = run_stable_ts(folder, language)
    else:
        result = run_aeneas(folder, language, remove_nonspeech=peer == "aeneas-nonspeech")
    result["peak_mb"] = peak_memory_mb()
    print(json.dumps(result, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    parser = fixture_parser(__doc__.splitlines()[0], "PEER")
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return
    print("podalign peers benchmark (same fixtures as bench_align; CPU)")
    for kind in args.kinds.split(","):
        bench_kind(kind, args.out, args.peers.split(","))


if __name__ == "__main__":
    main()
