"""The GitHub Actions workflow that course4_deployment/C4_W3_Lab_4_CI_CD_for_Models.ipynb writes, read from the
notebook's own source (no run needed): its triggers, its jobs and steps, the test command the notebook runs
as the CI runner would, and the Docker build that waits for the tests."""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

NOTEBOOK = Path(__file__).resolve().parent.parent / "course4_deployment" / "C4_W3_Lab_4_CI_CD_for_Models.ipynb"


def _code_cells() -> list[str]:
    return ["".join(cell["source"]) for cell in json.loads(NOTEBOOK.read_text())["cells"]
            if cell["cell_type"] == "code"]


def _workflow_text() -> str:
    """The YAML string assigned to WORKFLOW (with its PYTHON_VERSION placeholder filled in as the notebook does)."""
    cells = [c for c in _code_cells() if c.startswith("WORKFLOW = ")]
    assert len(cells) == 1, "the notebook must have one cell that starts with WORKFLOW = \"\"\"...\"\"\""
    assign = ast.parse(cells[0]).body[0]
    assert isinstance(assign, ast.Assign) and assign.targets[0].id == "WORKFLOW"
    value = assign.value
    if isinstance(value, ast.Call):  # """...""".replace("PYTHON_VERSION", python_version)
        assert isinstance(value.func, ast.Attribute) and value.func.attr == "replace"
        value = value.func.value
    assert isinstance(value, ast.Constant) and isinstance(value.value, str)
    return value.value.replace("PYTHON_VERSION", "3.11")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(_workflow_text())


def _steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def test_it_runs_on_every_push_and_pull_request_to_main(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as True
    assert set(triggers) == {"push", "pull_request"}
    assert all(spec["branches"] == ["main"] for spec in triggers.values())
    assert workflow["name"]


def test_the_test_job_checks_out_sets_up_python_installs_and_runs_pytest(workflow):
    steps = _steps(workflow, "model-tests")
    assert workflow["jobs"]["model-tests"]["runs-on"] == "ubuntu-latest"
    assert [s.get("uses", "").split("@")[0] for s in steps[:2]] == ["actions/checkout", "actions/setup-python"]
    assert all("@v" in s["uses"] for s in steps[:2]), "pin the actions to a major version"
    assert re.fullmatch(r"3\.\d+", steps[1]["with"]["python-version"])
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.startswith("pip install -r requirements.txt") for r in runs)
    pytest_runs = [r for r in runs if shlex.split(r)[1:3] == ["-m", "pytest"]]
    assert pytest_runs == ["python -m pytest -q test_model.py"]
    assert runs.index(pytest_runs[0]) > next(i for i, r in enumerate(runs) if r.startswith("pip install"))
    assert all(s.get("name") for s in steps), "every step has a name (shown on GitHub)"


def test_the_image_is_built_only_after_the_tests_pass(workflow):
    job = workflow["jobs"]["docker-image"]
    assert job["needs"] == "model-tests"
    assert job["steps"][0]["uses"].startswith("actions/checkout@")
    build = [s["run"] for s in job["steps"] if "run" in s]
    assert len(build) == 1 and build[0].startswith("docker build -t wine-service:") and build[0].endswith(" .")
    assert "${{ github.sha }}" in build[0], "tag the image with the commit it was built from"


def test_the_notebook_runs_the_workflows_test_step_on_the_file_it_writes(workflow):
    cells = _code_cells()
    names = [s["name"] for s in _steps(workflow, "model-tests")]
    assert "Run the model tests" in names
    assert any('step["name"] == "Run the model tests"' in c for c in cells), "run_ci must take this step's command"
    written = [c.splitlines()[0] for c in cells if c.startswith("%%writefile")]
    assert written == ["%%writefile {REPO}/main.py", "%%writefile {REPO}/test_model.py",
                       "%%writefile -a {REPO}/test_model.py"]


def test_the_workflow_text_is_plain_yaml():
    text = _workflow_text()
    assert "\t" not in text, "YAML forbids tabs for indentation"
    assert text.endswith("\n") and not re.search(r"[ \t]+$", text, re.MULTILINE)
