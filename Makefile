# crmlab: `make lab` to learn, `make test` to check everything.
# The virtual environment is built from pyproject.toml and rebuilt only when it changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
COURSE_STAMP := $(VENV)/.installed-course
HOST   ?= 127.0.0.1
PORT   ?= 8888
LAB_FLAGS ?=
# Containers and CI often run as root, where Jupyter refuses to start without this flag.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

PANDAS2_VENV := .venv-pandas2
PANDAS2_STAMP := $(PANDAS2_VENV)/.installed
# `make test PANDAS2=0` skips the second run of the unit tests under pandas 2.
PANDAS2 ?= 1

.PHONY: lab test test-pandas2 lint student notebooks bench dashboard clean help grade site

help:
	@echo "make lab        open JupyterLab on notebooks/00_start_here.ipynb (127.0.0.1, token)"
	@echo "make test       lint, unit and doctests, notebooks (nbval), browser tests, pandas 2"
	@echo "make student    regenerate the student edition from notebooks/solutions/"
	@echo "make notebooks  re-run the solution notebooks, save their outputs, regenerate students'"
	@echo "make bench      speed and memory against lifetimes; writes benchmarks/results.md"
	@echo "make dashboard  serve the instructor dashboards with Voila on 127.0.0.1"
	@echo "make grade SUBMISSIONS=dir  grade a folder of problem-set notebooks into dir/gradebook.csv"
	@echo "make site       build the course website (student edition, syllabus, API) into _build/site"
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

test: $(COURSE_STAMP)
	$(BIN)/ruff check crmlab tests benchmarks tools course
	$(BIN)/ruff format --check crmlab tests benchmarks tools course
	$(BIN)/python tools/make_student.py --check
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -p no:cacheprovider --nbval $(NBVAL_SANITIZE) notebooks/solutions
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax notebooks/*.ipynb
	@if [ "$(PANDAS2)" = "1" ]; then $(MAKE) --no-print-directory test-pandas2; fi

# crmlab supports pandas 2 and 3; the main environment has pandas 3, this one pandas 2.
$(PANDAS2_STAMP): pyproject.toml $(STAMP)
	@test -x $(PANDAS2_VENV)/bin/python || $(PYTHON) -m venv $(PANDAS2_VENV)
	$(PANDAS2_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PANDAS2_VENV)/bin/python -m pip install --quiet -e '.[dev]' 'pandas>=2.1,<3'
	@touch $@

test-pandas2: $(PANDAS2_STAMP)
	$(PANDAS2_VENV)/bin/python -c "import pandas; print('pandas', pandas.__version__)"
	$(PANDAS2_VENV)/bin/python -m pytest -q tests crmlab --ignore=tests/test_browser.py \
	  --ignore=tests/test_setup.py --ignore=tests/test_papermill.py

student: $(STAMP)
	$(BIN)/python tools/make_student.py

# Restart-and-run-all of every solution notebook (outputs saved), then the student edition.
notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py
	$(BIN)/python tools/make_student.py

# ---- The instructor's kit (course/): the autograder and the course website ----------
# The course extra (otter-grader, Sphinx, MyST-NB) is installed only for these targets
# and for `make test`, so that `make lab` stays light.
SUBMISSIONS ?=
GRADEBOOK ?= $(SUBMISSIONS)/gradebook.csv
GRADE_JOBS ?= 2

$(COURSE_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,course]'
	@touch $@

# The usage check comes before the (slow) install of the course extra.
grade:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder-of-notebooks"; exit 2; }
	@$(MAKE) --no-print-directory $(COURSE_STAMP)
	$(BIN)/python course/grade.py "$(SUBMISSIONS)" --out "$(GRADEBOOK)" --jobs $(GRADE_JOBS)

site: $(COURSE_STAMP)
	$(BIN)/python course/site/build.py
	$(BIN)/python course/site/linkcheck.py _build/site/html
# ---------------------------------------------------------------------------------------

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

dashboard: $(STAMP)
	$(BIN)/voila --Voila.ip=$(HOST) --port=8866 --no-browser dashboards/

clean:
	rm -rf $(VENV) $(PANDAS2_VENV) .pytest_cache .ruff_cache build *.egg-info _build
