# crmlab: `make lab` to learn, `make test` to check everything.
# The virtual environment is built from pyproject.toml and rebuilt only when it changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
HOST   ?= 127.0.0.1
PORT   ?= 8888
LAB_FLAGS ?=
# Containers and CI often run as root, where Jupyter refuses to start without this flag.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test lint student bench dashboard clean help

help:
	@echo "make lab        open JupyterLab on notebooks/00_start_here.ipynb (127.0.0.1, token)"
	@echo "make test       lint, unit and doctests, notebooks (nbval), browser tests"
	@echo "make student    regenerate the student edition from notebooks/solutions/"
	@echo "make bench      speed and memory against lifetimes; writes benchmarks/results.md"
	@echo "make dashboard  serve the instructor dashboards with Voila on 127.0.0.1"
	@echo "make clean      remove the virtual environment and caches"

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
	  echo "error: '$(PYTHON) -m venv' is unusable here (no ensurepip)."; \
	  echo "On Debian/Ubuntu install it with:  sudo apt-get install python3-venv"; \
	  echo "or point make at another interpreter:  make PYTHON=/path/to/python3.11 test"; \
	  exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab --ip=$(HOST) --port=$(PORT) --ServerApp.root_dir=notebooks \
	  --LabApp.default_url=/lab/tree/00_start_here.ipynb $(ROOT_FLAG) $(LAB_FLAGS)

NBVAL_SANITIZE := --nbval-sanitize-with tests/nbval_sanitize.cfg

test: $(STAMP)
	$(BIN)/ruff check crmlab tests benchmarks tools
	$(BIN)/ruff format --check crmlab tests benchmarks tools
	$(BIN)/python tools/make_student.py --check
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -p no:cacheprovider --nbval $(NBVAL_SANITIZE) notebooks/solutions
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax notebooks/*.ipynb

student: $(STAMP)
	$(BIN)/python tools/make_student.py

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

dashboard: $(STAMP)
	$(BIN)/voila --Voila.ip=$(HOST) --port=8866 --no-browser dashboards/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
