# Every target sets itself up on a fresh machine: a venv in .venv, installed with the torch pin.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install -q -c constraints.txt
PYTEST := $(BIN)/python -m pytest

.PHONY: demo test test-slow test-all lint bench fuzz fuzz-ci install install-dev clean

# PYTHONWARNINGS hides the banner setuptools prints on every editable install.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==2.13.0
	PYTHONWARNINGS=ignore::UserWarning $(PIP) -e .
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed
	PYTHONWARNINGS=ignore::UserWarning $(PIP) -e ".[dev,anchors,dask]"
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

## demo: the main job: simulate, filter, clean and store EEG offline (out/demo/)
demo: $(BIN)/.installed
	$(BIN)/neurosig demo

## test: lint, then the fast test suite (two workers)
test: $(BIN)/.installed-dev lint
	$(PYTEST) -m "not slow" -n 2 -q

## test-slow: the training-level checks marked slow
test-slow: $(BIN)/.installed-dev
	$(PYTEST) -m slow -q

test-all: test test-slow

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check neurosig tests benchmarks
	$(BIN)/ruff format --check neurosig tests benchmarks

## bench: every benchmark; results in benchmarks/results/*.json
bench: $(BIN)/.installed-dev
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

## fuzz: mutation-fuzz every decoder, the EDF/BDF check and pipeline YAML (FUZZ_SECONDS, default 1200)
FUZZ_SECONDS ?= 1200
FUZZ_SEED ?= 0
fuzz: $(BIN)/.installed-dev
	$(BIN)/python tests/fuzz/fuzz.py --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --out out/fuzz

## fuzz-ci: the same for two minutes (CI); exits 1 on any crash, hang, abort or mismatch
fuzz-ci: $(BIN)/.installed-dev
	$(BIN)/python tests/fuzz/fuzz.py --seconds 120 --seed $(FUZZ_SEED) --out out/fuzz

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache
