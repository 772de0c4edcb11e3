# Every target builds its own virtual environment in .venv first (from setup.cfg),
# so `make run` and `make test` work on a fresh machine with only Python 3.11.
# The editable install is path-based (editable_mode=compat: the checkout goes on
# sys.path), so `b minigrad/ops/arithmetic.py:NN` works in pdb from any directory.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-test

.PHONY: run test test-slow test-all ledger ledger-md bench lessons demo clean gpu-check

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

## The main job: the formula ledger (every formula, worked example and experiment), then a short training demo.
run: $(STAMP)
	$(PY) -m minigrad.ledger
	$(PY) -m minigrad.demo

## The test suite (quick mode; slow tests are a separate target).
test: $(STAMP)
	$(PY) -m pytest -n auto -q -m "not slow"

## Only the slow tests: full-length notebooks and experiments.
test-slow: $(STAMP)
	MINIGRAD_FULL=1 $(PY) -m pytest -n auto -q -m slow

test-all: $(STAMP)
	MINIGRAD_FULL=1 $(PY) -m pytest -n auto -q

ledger: $(STAMP)
	$(PY) -m minigrad.ledger

## Regenerate docs/ledger.md from the ledger.
ledger-md: $(STAMP)
	$(PY) -m minigrad.ledger --markdown docs/ledger.md

demo: $(STAMP)
	$(PY) -m minigrad.demo

## Benchmarks (writes nothing unless --markdown is given; see docs/benchmarks.md).
bench: $(STAMP)
	$(PY) -m benchmarks.run

## On a GPU machine: environment, cuda tests, cpu-vs-cuda parity, gradchecks, lesson 11,
## bit-exact resume, GPU benchmark (~8 min; report in gpu-report.md). Uses the machine's own
## Python (CuPy preinstalled), not .venv, and installs nothing. No GPU: says so, exits 0.
gpu-check:
	@if $(PYTHON) -c "import numpy" 2>/dev/null; then py=$(PYTHON); else py=$(PY); fi; \
	echo "PYTHONPATH=. $$py -m minigrad.gpucheck --report gpu-report.md"; \
	PYTHONPATH=. $$py -m minigrad.gpucheck --report gpu-report.md

## Open the lessons (installs JupyterLab into .venv the first time).
lessons: $(STAMP)
	$(PY) -m pip install -q -e '.[test,lessons]' --config-settings editable_mode=compat
	$(VENV)/bin/jupyter lab lessons/

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis

## Refresh the packaged copy of the catalogue (minigrad/data/formulas.md) after editing docs/formulas.md.
.PHONY: catalogue
catalogue: $(STAMP)
	$(PY) -m minigrad.ledger.sync_catalogue
