"""Window-by-window forced alignment (`pipeline.align.forced`) with the real model on the bundled
64-second sample: several windows, so the hand-over between windows is exercised."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.align.forced import WindowedAligner
from pipeline.align.refine import reference_words
from pipeline.episode import AlignOptions, alignment_for
from pipeline.inputs.audio import SAMPLE_RATE as SR
from pipeline.inputs.audio import load_audio
from pipeline.inputs.transcript import read_reference
from pipeline.records import Word
from pipeline.signal.speakers import speech_regions
from pipeline.signal.timeline import speech_timeline
from pipeline.whisper.models import load_model

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample-sv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, list[int], list[str], list[dict]]:
    reference = read_reference(SAMPLE / "transcript.txt")
    indexed = reference_words(reference)
    truth = json.loads((SAMPLE / "truth.json").read_text())["sentences"]
    return (
        load_audio(SAMPLE / "episode.mp3"),
        [i for i, _ in indexed],
        [w for _, w in indexed],
        truth,
    )


def timings_with(sample, window_seconds: float) -> list[Word | None]:
    samples, _, words, _ = sample
    return WindowedAligner(samples, load_model(), "sv", words, window_seconds).timings()


@pytest.fixture(scope="module")
def default_timings(sample) -> list[Word | None]:
    samples, _, words, _ = sample
    return WindowedAligner(samples, load_model(), "sv", words).timings()


def test_every_word_is_timed_inside_the_audio_and_never_goes_back(sample, default_timings):
    samples, _, words, _ = sample
    duration = len(samples) / 16000
    assert [t.text for t in default_timings] == words
    starts = [t.start for t in default_timings]
    assert starts == sorted(starts)
    assert all(0 <= t.start <= t.end <= duration for t in default_timings)
    assert all(0 <= t.probability <= 1 for t in default_timings)


def test_sentence_onsets_land_near_the_truth_across_window_hand_overs(sample, default_timings):
    _, indexes, _, truth = sample
    # The first sentence follows a music intro that its first word is stretched over;
    # `pipeline.align.refine` trims and snaps that edge. Every later sentence starts where said.
    errors = [abs(default_timings[indexes.index(s["index"])].start - s["start"]) for s in truth[1:]]
    assert np.median(errors) < 0.15, errors
    assert max(errors) < 0.4, errors


def test_shorter_windows_place_words_where_whisper_s_full_window_does(sample, default_timings):
    full = timings_with(sample, 30.0)
    moved = np.abs([a.start - b.start for a, b in zip(default_timings, full, strict=True)])
    assert np.median(moved) < 0.05, moved
    assert np.percentile(moved, 90) < 0.12, moved


def test_the_opening_is_heard_in_the_transcript_but_not_in_its_translation(sample):
    samples, _, words, _ = sample
    model = load_model()
    with (SAMPLE.parent / "seed_fi.tsv").open(encoding="utf-8") as rows:
        finnish = [w for row in csv.DictReader(rows, delimiter="\t") for w in row["fi"].split()]
    heard = WindowedAligner(samples, model, "sv", words).first_window_probability()
    translated = WindowedAligner(samples, model, "fi", finnish).first_window_probability()
    assert heard > 0.3 and translated < 0.2, (heard, translated)


def test_long_pauses_are_cut_out_and_times_map_back_to_the_episode(sample) -> None:
    # 4 s pauses (the sample's own room tone) after every sentence: the aligner works on
    # the speech with them cut short, then every time is mapped back across the cuts.
    samples, _, _, truth = sample
    parts, starts, ends, cursor = [], [], [], 0
    for i, sentence in enumerate(truth):
        shift = 4.0 * i
        starts.append(sentence["start"] + shift)
        ends.append(sentence["end"] + shift)
        if i + 1 == len(truth):
            parts.append(samples[cursor:])
            break
        following = truth[i + 1]["start"]
        cut = round((sentence["end"] + following) / 2 * SR)
        room = samples[round((sentence["end"] + 0.05) * SR) : round((following - 0.05) * SR)]
        parts += [samples[cursor:cut], np.resize(room, 4 * SR)]
        cursor = cut
    episode = np.concatenate(parts)
    kept = speech_timeline(speech_regions(episode, SR), len(episode), SR).condensed_duration
    assert kept < len(episode) / SR - 20  # the fixture really has pauses to cut

    alignment = alignment_for(episode, read_reference(SAMPLE / "transcript.txt"), AlignOptions())
    start_errors = np.abs([s.start for s in alignment.sentences] - np.array(starts))
    end_errors = np.abs([s.end for s in alignment.sentences] - np.array(ends))
    assert start_errors.max() < 0.15, start_errors
    assert np.median(end_errors) < 0.1 and end_errors.max() < 0.6, end_errors


@pytest.mark.parametrize("n_samples", [0, 160, 1600])
def test_audio_too_short_for_any_word_is_heard_as_nothing(n_samples: int) -> None:
    aligner = WindowedAligner(np.zeros(n_samples, np.float32), load_model(), "sv", ["hej", "du"])
    assert aligner.first_window_probability() < 0.05
    assert aligner.timings() == [None, None]
