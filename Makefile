# crmlab: `make lab` to learn, `make test` to check everything.
# Every target that needs the environment builds it through crmlab/setup.py (the same
# entry point that Windows users run as `py -3.11 -m crmlab.setup`): it refuses Python
# older than 3.10, installs only the extras a target needs, and reinstalls only when the
# dependency lists in pyproject.toml change (a hash is stamped in the environment).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The student's own copies of the notebooks: git-ignored, filled once, never overwritten.
WORK   ?= work
HOST   ?= 127.0.0.1
PORT   ?= 8888
DASHBOARD_PORT ?= 8866
LAB_FLAGS ?=
SETUP  := $(PYTHON) -m crmlab.setup --venv $(VENV)

# Extras that `make test` installs on top of the run-time dependencies: the test tools
# and everything a test imports (voila for the browser tests). Add new extras here.
TEST_EXTRAS := dev,dashboard,spark,course

PANDAS2_VENV := .venv-pandas2
# The pandas-2 run repeats the unit tests; Spark and the browsers are tested once, above.
PANDAS2_EXTRAS := dev,dashboard
PANDAS2_STAMP := $(PANDAS2_VENV)/.installed
# `make test PANDAS2=0` skips the second run of the unit tests under pandas 2.
PANDAS2 ?= 1

.PHONY: lab work test test-env test-pandas2 lint student notebooks bench dashboard \
	student-release clean help grade site

help:
	@echo "make lab        open JupyterLab on work/00_start_here.ipynb (127.0.0.1, token)"
	@echo "make work       copy new student notebooks into work/ (never overwrites yours)"
	@echo "make test       lint, unit and doctests, notebooks (nbval), browser tests, pandas 2"
	@echo "make student    regenerate the student edition from notebooks/solutions/"
	@echo "make notebooks  re-run the solution notebooks, save their outputs, regenerate students'"
	@echo "make student-release  dist/crmlab-student/ and .zip: the course without solutions"
	@echo "make bench      speed and memory against lifetimes; writes benchmarks/results.md"
	@echo "make dashboard  serve the projector dashboards with Voila on 127.0.0.1, with a token"
	@echo "make clean      remove the virtual environments and caches (never work/)"
	@echo "make grade SUBMISSIONS=dir  grade a folder of problem-set notebooks into dir/gradebook.csv"
	@echo "make site       build the course website (student edition, syllabus, API) into _build/site"
	@echo "Without make (Windows):  py -3.11 -m crmlab.setup   (see README.md)"
	@echo "Changing crmlab? CONTRIBUTING.md has the architecture, the house rules and recipes."

lab:
	@$(SETUP) lab --work $(WORK) --ip $(HOST) --port $(PORT) $(LAB_FLAGS)

work:
	@$(SETUP) work --work $(WORK)

test-env:
	@$(SETUP) install --extras $(TEST_EXTRAS)

NBVAL_SANITIZE := --nbval-sanitize-with tests/nbval_sanitize.cfg
# Tests that start servers, browsers, Spark or installs. Each of their files runs in one
# worker (`--dist loadfile`, two workers), so a file's fixtures (one Spark session, one
# JupyterLab) start once and the Spark file runs beside the others instead of after them;
# every server picks a free port. The rest (unit, property and doctests) run on both cores.
# nbval runs each notebook's cells in order in one kernel, so its notebooks are shared out
# by file too: `-n 2` alone would hand a notebook's cells to two kernels.
INTEGRATION_TESTS := tests/test_browser.py tests/test_browser_history.py \
  tests/test_spark_engine.py tests/test_course_kit.py tests/test_site.py tests/test_setup.py \
  tests/test_papermill.py

test: test-env
	$(BIN)/ruff check crmlab tests benchmarks tools course
	$(BIN)/ruff format --check crmlab tests benchmarks tools course
	$(BIN)/python tools/make_student.py --check
	$(BIN)/python -m pytest -n 2 tests crmlab $(addprefix --ignore=,$(INTEGRATION_TESTS))
	$(BIN)/python -m pytest -n 2 --dist loadfile $(INTEGRATION_TESTS)
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --nbval $(NBVAL_SANITIZE) \
	  notebooks/solutions
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --nbval-lax notebooks/*.ipynb
	@if [ "$(PANDAS2)" = "1" ]; then $(MAKE) --no-print-directory test-pandas2; fi

# crmlab supports pandas 2 and 3; the main environment has pandas 3, this one pandas 2.
$(PANDAS2_STAMP): pyproject.toml
	@$(SETUP) install --venv $(PANDAS2_VENV) --extras $(PANDAS2_EXTRAS)
	$(PANDAS2_VENV)/bin/python -m pip install --quiet 'pandas>=2.1,<3'
	@touch $@

# The pandas-2 run checks what pandas touches; slow, purely numerical model checks (marker
# `numeric`) ran in the main run already and are left out here.
test-pandas2: $(PANDAS2_STAMP)
	$(PANDAS2_VENV)/bin/python -c "import pandas; print('pandas', pandas.__version__)"
	$(PANDAS2_VENV)/bin/python -m pytest -q -n 2 -m "not numeric" tests crmlab \
	  $(addprefix --ignore=,$(INTEGRATION_TESTS))

student:
	@$(SETUP) install
	$(BIN)/python tools/make_student.py

# Restart-and-run-all of every solution notebook (outputs saved), then the student edition.
notebooks: test-env
	$(BIN)/python tools/run_notebooks.py
	$(BIN)/python tools/make_student.py

# ---- The instructor's kit (course/): the autograder and the course website ----------
# The course extra (otter-grader, Sphinx, MyST-NB) is installed only for these targets
# and for `make test`, so that `make lab` stays light.
SUBMISSIONS ?=
GRADEBOOK ?= $(SUBMISSIONS)/gradebook.csv
GRADE_JOBS ?= 2

# The usage check comes before the (slow) install of the course extra.
grade:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder-of-notebooks"; exit 2; }
	@$(SETUP) install --extras course
	$(BIN)/python course/grade.py "$(SUBMISSIONS)" --out "$(GRADEBOOK)" --jobs $(GRADE_JOBS)

site:
	@$(SETUP) install --extras course
	$(BIN)/python course/site/build.py
	$(BIN)/python course/site/linkcheck.py _build/site/html
# ---------------------------------------------------------------------------------------

bench:
	@$(SETUP) install --extras bench
	$(BIN)/python benchmarks/run.py

dashboard:
	@$(SETUP) dashboard --ip $(HOST) --port $(DASHBOARD_PORT)

# The course without notebooks/solutions/, tests or tools, for students (see README.md).
student-release:
	@$(SETUP) install
	$(BIN)/python tools/make_student.py --check
	@$(SETUP) student-release --out dist/crmlab-student

clean:
	rm -rf $(VENV) $(PANDAS2_VENV) .pytest_cache .ruff_cache build dist *.egg-info _build
