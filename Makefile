# Everything installs into .venv in the repo root. The CPU torch wheel is pinned here (and only
# here) so this machine never downloads CUDA packages; GPU users install their own torch first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install demo test test-full lint clean reproduce-hw

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/python train.py experiment=demo

test: install
	$(BIN)/python -m pytest -m "not slow" -n 2 -q

test-full: install
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check src tests scripts

reproduce-hw: install
	$(BIN)/python scripts/reproduce_hw.py

clean:
	rm -rf outputs multirun .pytest_cache wandb lightning_logs
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
