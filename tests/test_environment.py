"""The three environment files agree: requirements.txt (the lock), environment.yml, pyproject.toml."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+!\-]+", line), f"not an exact pin: {line!r}"
        name, version = line.split("==")
        pins[canonicalize_name(name)] = version
    return pins


def test_lock_pins_the_verified_stack():
    lock = _lock()
    expected = {
        "tensorflow": "2.16.2", "tensorflow-data-validation": "1.16.1", "tfx-bsl": "1.16.1",
        "tensorflow-transform": "1.16.0", "ml-metadata": "1.16.0", "apache-beam": "2.60.0",
        "pyarrow": "10.0.1", "numpy": "1.26.4", "pandas": "1.5.3", "tf-keras": "2.16.0",
        "tensorflow-model-optimization": "0.8.1", "keras-tuner": "1.4.8", "kfp": "2.13.0",
        "shap": "0.49.1", "fairlearn": "0.9.0", "nbval": "0.11.0", "papermill": "2.7.0",
    }
    assert {k: lock.get(k) for k in expected} == expected
    assert lock["protobuf"].startswith("4.25.")
    assert lock["jupyterlab"].startswith("4.")
    for name in ("fastapi", "uvicorn", "locust", "prometheus-client", "matplotlib", "pytest", "keras"):
        assert name in lock, f"{name} is missing from the lock"


def test_environment_yml_has_the_same_pins():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*- python=3\.11\s*$", text, re.M), "environment.yml must ask for Python 3.11"
    pins = {}
    for name, version in re.findall(r"^\s+- ([A-Za-z0-9_.\-\[\]]+)==(\S+)\s*$", text, re.M):
        pins[canonicalize_name(name)] = version
    assert pins == _lock()


def test_pyproject_ranges_admit_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = _lock()
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    for req in requirements:
        if req.marker and not req.marker.evaluate({"python_version": "3.11"}):
            continue
        name = canonicalize_name(req.name)
        assert name in lock, f"pyproject needs {name}, which the lock does not pin"
        assert req.specifier.contains(lock[name], prereleases=True), f"{req} does not admit the lock's {lock[name]}"


def test_pyproject_leaves_tensorflow_to_the_runtime():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert not names & {"tensorflow", "keras", "tensorflow-data-validation", "apache-beam"}
    for req in map(Requirement, project["optional-dependencies"]["tfx"]):
        assert req.marker is not None and "python_version" in str(req.marker), f"{req} needs a Python marker"


# What `pip check` says about the packages of requirements-nodeps.txt, installed without their dependencies:
# their pins that the locked stack deliberately does not meet. Anything else is a new conflict.
KNOWN_PIP_CHECK = {
    "fairness-indicators 0.47.0 requires tensorflow-hub, which is not installed.",
    "fairness-indicators 0.47.0 requires witwidget, which is not installed.",
    "tensorflow-model-analysis 0.47.1 requires tensorflow-estimator, which is not installed.",
    "tensorflow-model-analysis 0.47.1 has requirement ipython<8,>=7, but you have ipython 9.18.1.",
    "tensorflow-model-analysis 0.47.1 has requirement ipywidgets<8,>=7, but you have ipywidgets 8.1.9.",
}


def test_nodeps_file_is_exact_and_hashed():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements-nodeps.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert lines, "requirements-nodeps.txt lists nothing"
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==\S+ --hash=sha256:[0-9a-f]{64}", line), \
            f"not an exact, hashed pin: {line!r}"
        assert canonicalize_name(line.split("==")[0]) not in _lock(), f"{line} is also in requirements.txt"


def test_pip_check_reports_only_the_known_nodeps_pins():
    import subprocess
    import sys

    if subprocess.run([sys.executable, "-m", "pip", "show", "-q", "tensorflow-model-analysis"]).returncode:
        import pytest
        pytest.skip("requirements-nodeps.txt is not installed in this environment (not the locked one)")
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True).stdout
    reported = {line.strip() for line in out.splitlines() if line.strip()}
    assert reported == KNOWN_PIP_CHECK, (
        f"pip check changed: new {sorted(reported - KNOWN_PIP_CHECK)}, gone {sorted(KNOWN_PIP_CHECK - reported)}")
