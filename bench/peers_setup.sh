#!/usr/bin/env bash
# Build the venv for bench/bench_peers.py (stable-ts and aeneas), apart from podalign's .venv.
#
#   bash bench/peers_setup.sh                # creates .peers-venv in the repo root
#   PEERS_VENV=/somewhere bash bench/peers_setup.sh
#   PYTHONPATH=. .peers-venv/bin/python -m bench.bench_peers
#
# Idempotent: an existing venv is reused and pip skips what is already installed.
# Needs `make setup` first (models/whisper-base, ffmpeg, espeak-ng). About 7.5 GB:
# - stable-ts imports torchaudio at import time, and torchaudio wheels pin torch exactly;
#   no CPU-only torch/torchaudio pair is on PyPI, so this is torch 2.9.1 + torchaudio 2.9.1
#   (CUDA builds; they run on the CPU). torchaudio 2.11 beside the CPU torch 2.13 fails to load
#   its library, and stable-ts needs no openai-whisper for faster-whisper models, so the
#   "whisperless" distribution (same code) is used.
# - aeneas 1.7.3.0 (2017) needs numpy < 2 at build and run time, numpy present before its
#   build (hence --no-build-isolation), and libespeak.so: Debian's libespeak-ng-libespeak-dev
#   provides it on top of espeak-ng.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${PEERS_VENV:-.peers-venv}"
PYTHON="${PYTHON:-python3.11}"

if [ ! -d models/whisper-base ]; then
  echo "models/whisper-base is missing: run 'make setup' first" >&2
  exit 1
fi

if ! dpkg -s libespeak-ng-libespeak-dev >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    ffmpeg espeak-ng libespeak-ng-libespeak-dev >/dev/null
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/pip"
"$PIP" install -q --upgrade pip
"$PIP" install -q 'numpy<2' setuptools wheel
"$PIP" install -q torch==2.9.1
"$PIP" install -q torch==2.9.1 'torchaudio==2.9.*'
"$PIP" install -q faster-whisper==1.2.1 srt webvtt-py 'numpy<2'
"$PIP" install -q --no-deps stable-ts-whisperless==2.19.1
"$PIP" install -q --no-build-isolation aeneas==1.7.3.0
"$PIP" check
"$VENV/bin/python" -c "import stable_whisper, torch, aeneas.cew.cew; print('peers venv ready:', \
'stable-ts', stable_whisper.__version__, 'torch', torch.__version__, 'aeneas', aeneas.__version__)"
