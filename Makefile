# The README's commands. Every target creates the virtual environment on first use and reuses it
# while requirements.txt and requirements-nodeps.txt are unchanged.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := $(shell cat requirements.txt requirements-nodeps.txt | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
READY := $(VENV)/.ready-$(LOCK)

.PHONY: venv run test lab static lint learner-copies grade bench site clean

$(READY):  # the locks' hash is in the name: a changed lock is a new target (file dates do not matter)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-nodeps.txt
	touch $@

# The environment, with this checkout's helpers importable from any notebook folder (an editable install,
# redone when the environment is shared between checkouts, as CI's is).
venv: $(READY)
	@$(BIN)/python -P -c "import helpers, pathlib, sys; sys.exit(pathlib.Path(helpers.__file__).resolve().parent.parent != pathlib.Path('$(CURDIR)').resolve())" 2>/dev/null \
	  || $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .

# Execute every notebook headlessly with papermill; writes build/report.md and build/report.json.
run: venv
	$(BIN)/python -m helpers.harness.runner $(ARGS)

# The whole test suite: unit tests, static notebook checks, and nbval re-executing every notebook, inside a
# network namespace with only loopback where the system allows one (tests/run_offline.py says which). Two
# phases: everything that may run beside another test, TEST_JOBS at a time (pytest-xdist, one notebook per
# worker), then the serial group alone (the tests and labs that time or load the machine; conftest.py lists
# them). ARGS go to both phases; either phase failing fails the target. TEST_JOBS=0 runs phase 1 unsplit too.
TEST_JOBS ?= 2
test: venv
	$(BIN)/python tests/run_offline.py --pytest-phases $(TEST_JOBS) $(BIN)/python -m pytest $(ARGS)

# Only the fast checks (lint, unit tests, static notebook checks; no notebook execution).
static: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not notebooks" $(ARGS)

# The linter alone (configured in pyproject.toml; tests/test_lint.py runs it in `make test` too).
lint: venv
	$(BIN)/ruff check .

# JupyterLab on this machine, on 127.0.0.1 (root, as in a container, needs --allow-root).
lab: venv
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root) $(ARGS)

# Regenerate the assignments' learner copies from their solutions (nbgrader's ClearSolutions, and
# ClearOutput from the first exercise on, whose cells are tagged nbval-skip); `make test` fails when a
# committed learner copy differs from what this makes.
learner-copies: venv
	$(BIN)/python -m helpers.harness.assignments $(ARGS)

# Grade an assignment as the course's grader would: `make grade NB=course2_data/C2_W1_Assignment_Data_Validation.ipynb`
# (a score per exercise, the total, build/grades/<name>.json; exit 0 only for full marks).
grade: venv
	@test -n "$(NB)" || { echo "usage: make grade NB=course2_data/<assignment>.ipynb"; exit 2; }
	$(BIN)/python -m helpers.harness.grader $(NB) $(ARGS)

# The TF Serving REST server beside a plain FastAPI endpoint (requests/s, p50/p99 at concurrency 1 and 8);
# exits 1 if the server is more than 2x slower. Not part of `make test`: the figures depend on the machine.
bench: venv
	$(BIN)/python tests/bench_tfserving.py --out build/bench_tfserving.json $(ARGS)

# The labs as a static website in build/site/ (open build/site/index.html): the committed notebooks and their
# outputs rendered with MyST-NB and the Sphinx Book Theme, never executed; warnings are errors.
site: venv
	$(BIN)/python -m helpers.harness.site $(ARGS)

clean:
	rm -rf build course*/outputs *.egg-info

# The Colab-like profile: requirements-colab.txt (TensorFlow 2.20, Keras 3, numpy 2, pandas 2, no TFX
# libraries) in its own environment, created on first use and reused while that lock is unchanged.
VENV_COLAB ?= .venv-colab
BIN_COLAB := $(VENV_COLAB)/bin
LOCK_COLAB := $(shell cat requirements-colab.txt | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
READY_COLAB := $(VENV_COLAB)/.ready-$(LOCK_COLAB)

.PHONY: colab colab-venv

$(READY_COLAB):  # keyed on the lock's hash, like $(READY)
	rm -rf $(VENV_COLAB)
	$(PYTHON) -m venv $(VENV_COLAB)
	$(BIN_COLAB)/python -m pip install --quiet -r requirements-colab.txt
	touch $@

# The helpers distribution installed the way the Colab bootstrap cell installs it: a regular install of
# pyproject.toml with its own loose dependencies (from this checkout rather than the git URL), redone on
# every call so it is this checkout's code; then pip check, and a check that it is the installed copy.
# (setuptools builds in build/lib: cleared first, so a file deleted from helpers/ cannot linger in the wheel.)
colab-venv: $(READY_COLAB)
	rm -rf build/lib build/bdist.*
	$(BIN_COLAB)/python -m pip install --quiet --disable-pip-version-check .
	rm -rf build/lib build/bdist.*
	$(BIN_COLAB)/python -m pip check
	@cd $(VENV_COLAB) && bin/python -P -c "import helpers, sys; sys.exit(0 if 'site-packages' in helpers.__file__ else 'helpers is not the installed distribution: ' + helpers.__file__)"

# Execute every notebook in the Colab-like profile; writes build/colab/report.md and report.json. The
# labs that need the TFX libraries must stop in their Setup section (counted as needs-tfx); any other
# error fails the target with the notebook's name and error, and so does a process left running or a network
# attempt. `-P` keeps the checkout off sys.path, so the runner and the kernels use the installed distribution;
# the run is offline as `make test` is (a network namespace, the offline guard in every kernel).
colab: colab-venv
	$(PYTHON) tests/run_offline.py $(BIN_COLAB)/python -P -m helpers.harness.runner --profile colab --root . \
	  --build build/colab --offline-guard --title "Colab-like profile (requirements-colab.txt)" $(ARGS)
