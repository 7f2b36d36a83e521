"""--device and --compute-type: they reach faster-whisper (CTranslate2) from every command."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import __version__
from pipeline.batch.planning import settings_hash
from pipeline.cli.commands import main
from pipeline.episode import AlignOptions
from pipeline.names import short_hash
from pipeline.whisper.models import cuda_devices, load_model

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "sample-sv"
NO_GPU = pytest.mark.skipif(cuda_devices() > 0, reason="asserts what happens without a GPU")


@pytest.mark.slow
def test_the_compute_type_is_the_one_ctranslate2_runs() -> None:
    # int8 weights, float32 activations: what CTranslate2 calls int8 on a CPU
    assert load_model(device="cpu").model.compute_type == "int8_float32"
    assert load_model(device="cpu", compute_type="float32").model.compute_type == "float32"


@pytest.mark.parametrize(
    "argv",
    [
        ["align", str(SAMPLE / "episode.mp3"), "-t", str(SAMPLE / "transcript.txt")],
        ["run", str(SAMPLE / "episode.mp3")],
        ["batch", "feed.xml"],
        ["batch", "feed.xml", "--engine", "ray"],
    ],
    ids=["align", "run", "batch-local", "batch-ray"],
)
def test_an_unusable_compute_type_stops_every_command_with_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CTranslate2's list of compute types for this CPU is what refuses float16, before
    any download or alignment starts (a batch's workers would otherwise die one by one)."""
    out = ["-o", str(tmp_path / ("out.vtt" if argv[0] == "align" else "out"))]
    # feed.xml does not exist: the batches must refuse the compute type before reading it.
    code = main([*argv, *out, "--device", "cpu", "--compute-type", "float16"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("podalign: error: --compute-type float16: not supported on this cpu")
    assert "\n" not in err


@NO_GPU
def test_device_cuda_without_a_gpu_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["align", str(SAMPLE / "episode.mp3"), "-o", str(tmp_path / "x.vtt"), "--device", "cuda"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("podalign: error: --device cuda: no CUDA GPU is usable here")
    assert not (tmp_path / "x.vtt").exists()


def _hash_before_devices(options: AlignOptions) -> str:
    """settings_hash as it was before --device existed."""
    fields = {k: v for k, v in asdict(options).items() if k not in ("cache_dir", "device",
              "compute_type")}  # fmt: skip
    text = json.dumps({"podalign": __version__, **fields}, sort_keys=True, default=str)
    return short_hash(text, 16)


options_st = st.builds(
    AlignOptions,
    audio_lang=st.sampled_from([None, "sv", "fi"]),
    text_lang=st.sampled_from([None, "sv", "fi"]),
    model=st.sampled_from(["base", "small"]),
    vad=st.booleans(),
)


@given(options_st)
def test_batches_done_before_devices_existed_are_not_redone(options: AlignOptions) -> None:
    assert settings_hash(options) == _hash_before_devices(options)


@given(options_st, st.sampled_from(["float32", "int8_float32", "float16"]))
def test_a_chosen_compute_type_redoes_a_batch(options: AlignOptions, compute: str) -> None:
    assert settings_hash(replace(options, compute_type=compute)) != settings_hash(options)
