# The README's commands. Every target creates the virtual environment on first use and reuses it
# while requirements.txt is unchanged.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := $(shell cat requirements.txt | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
READY := $(VENV)/.ready-$(LOCK)

.PHONY: venv run test lab static clean

$(READY): requirements.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The environment, with this checkout's helpers importable from any notebook folder (an editable install,
# redone when the environment is shared between checkouts, as CI's is).
venv: $(READY)
	@$(BIN)/python -P -c "import helpers, pathlib, sys; sys.exit(pathlib.Path(helpers.__file__).resolve().parent.parent != pathlib.Path('$(CURDIR)').resolve())" 2>/dev/null \
	  || $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .

# Execute every notebook headlessly with papermill; writes build/report.md and build/report.json.
run: venv
	$(BIN)/python -m helpers.runner $(ARGS)

# The whole test suite: unit tests, static notebook checks, and nbval re-executing every notebook.
test: venv
	$(BIN)/python -m pytest $(ARGS)

# Only the fast checks (no notebook execution).
static: venv
	$(BIN)/python -m pytest -m "not notebooks" $(ARGS)

# JupyterLab on this machine.
lab: venv
	$(BIN)/jupyter lab

clean:
	rm -rf build course*/outputs
