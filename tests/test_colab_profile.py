"""The Colab-like profile: its lock, and what the runner makes of the labs in it (`make colab`).

- requirements-colab.txt is an exact lock of the newer stack, without the TFX libraries.
- In the locked profile a stop at the TFX check is a failure; in the colab profile it is expected
  (counted as needs-tfx) when it comes in the Setup section, and a failure when it comes later.
- A notebook that breaks under numpy 2 or pandas 2 fails the colab run with its name and its error. This
  runs in the Colab-like environment that `make colab` builds (VENV_COLAB, default .venv-colab); it is
  skipped when that environment is missing, except under CI, where it fails.

Every notebook here is a throwaway one written into a temporary checkout-like folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from helpers import env
from helpers.harness import runner

ROOT = Path(__file__).resolve().parent.parent
TFX_LIBRARIES = ("tensorflow-data-validation", "tensorflow-transform", "tfx-bsl", "ml-metadata", "apache-beam")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+!\-]+", line), f"not an exact pin: {line!r}"
        name, version = line.split("==")
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_colab_lock_is_exact_newer_and_without_tfx():
    pins = _pins(ROOT / "requirements-colab.txt")
    expected = {"tensorflow": "2.20.0", "numpy": "2.4.6", "pandas": "2.3.3", "scikit-learn": "1.9.1",
                "fairlearn": "0.15.0", "shap": "0.51.0", "keras": "3.15.1", "kfp": "2.17.3"}
    assert {name: pins.get(name) for name in expected} == expected
    assert pins["protobuf"].startswith("6.33.")
    for name in ("keras-tuner", "tensorflow-model-optimization", "tf-keras", "fastapi", "uvicorn",
                 "python-multipart", "locust", "papermill", "nbval", "ipykernel", "ipywidgets", "psutil"):
        assert name in pins, f"{name} missing from requirements-colab.txt"
    present = [name for name in TFX_LIBRARIES if name in pins]
    assert not present, f"the Colab-like profile must not have the TFX libraries: {present}"


def _notebook(path: Path, setup: str, lab: str = "print('the lab ran')") -> Path:
    """A notebook with the course anatomy's skeleton: bootstrap, setup, parameters, one lab cell."""
    cells = [
        nbformat.v4.new_markdown_cell(f"# {path.stem}"),
        nbformat.v4.new_code_cell("# Colab only: the bootstrap cell\nimport sys"),
        nbformat.v4.new_code_cell(setup),
        nbformat.v4.new_code_cell("size = 3", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(lab),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


STOP = "from helpers.env import MissingTFXLibraries\nraise MissingTFXLibraries('this lab needs the TFX libraries')"


@pytest.fixture
def tfx_checkout(tmp_path):
    _notebook(tmp_path / "course2_data" / "needs_tfx_in_setup.ipynb", STOP)
    _notebook(tmp_path / "course2_data" / "needs_tfx_too_late.ipynb", "import sys", lab=STOP)
    return tmp_path


def _report(build: Path) -> dict:
    report = json.loads((build / "report.json").read_text())
    return {"statuses": {r["notebook"]: r["status"] for r in report["notebooks"]}, **report}


def test_tfx_stop_is_expected_in_colab_profile_only_in_setup(tfx_checkout, capsys):
    build = tfx_checkout / "build-colab"
    code = runner.main(["--profile", "colab", "--root", str(tfx_checkout), "--build", str(build)])
    report = _report(build)
    assert report["statuses"] == {"course2_data/needs_tfx_in_setup.ipynb": "needs-tfx",
                                  "course2_data/needs_tfx_too_late.ipynb": "failed"}
    assert report["counts"] == {"passed": 0, "failed": 1, "needs-tfx": 1} and report["profile"] == "colab"
    assert code == 1
    err = capsys.readouterr().err
    assert "FAILED course2_data/needs_tfx_too_late.ipynb" in err and "Setup section" in err
    assert "stopped at their TFX check" in (build / "report.md").read_text()


def test_tfx_stop_is_a_failure_in_locked_profile(tfx_checkout, capsys):
    build = tfx_checkout / "build-locked"
    code = runner.main(["--root", str(tfx_checkout), "--build", str(build)])
    report = _report(build)
    assert set(report["statuses"].values()) == {"failed"} and code == 1
    first = next(r for r in report["notebooks"] if r["notebook"].endswith("needs_tfx_in_setup.ipynb"))
    assert "must have the TFX libraries" in first["error"] and "MissingTFXLibraries" in first["error"]


def test_unknown_profile_is_refused(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        runner.run_notebook(_notebook(tmp_path / "x.ipynb", "pass"), tmp_path, profile="colab2")


def _colab_python() -> Path:
    venv = Path(os.environ.get("VENV_COLAB", ".venv-colab"))
    python = (venv if venv.is_absolute() else ROOT / venv) / "bin" / "python"
    if python.is_file():
        return python
    reason = f"the Colab-like environment is not built ({python} missing); run `make colab` first"
    if env.in_ci():
        pytest.fail(reason + "; .ci/run builds it before `make test`")
    pytest.skip(reason)


def test_numpy2_and_pandas2_breaks_fail_the_colab_run_with_name_and_error(tmp_path):
    python = _colab_python()
    setup = "import numpy as np\nimport pandas as pd\nfrom helpers import env"
    _notebook(tmp_path / "course1_intro" / "uses_np_float_.ipynb", setup, lab="x = np.float_(size)")
    _notebook(tmp_path / "course1_intro" / "uses_frame_append.ipynb", setup,
              lab="frame = pd.DataFrame({'a': [1]})\nframe = frame.append({'a': size}, ignore_index=True)")
    _notebook(tmp_path / "course1_intro" / "fine_on_both.ipynb", setup,
              lab="assert np.float64(size) == 3 and len(pd.concat([pd.DataFrame({'a': [1]})] * size)) == 3")
    build = tmp_path / "build"
    # As `make colab` runs it: -P keeps the folder off sys.path, so the installed distribution is used.
    done = subprocess.run([str(python), "-P", "-m", "helpers.harness.runner", "--profile", "colab", "--root", ".",
                           "--build", str(build)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    report = _report(build)
    assert report["versions"]["numpy"].startswith("2.") and report["versions"]["pandas"].startswith("2.")
    assert report["statuses"] == {"course1_intro/fine_on_both.ipynb": "passed",
                                  "course1_intro/uses_frame_append.ipynb": "failed",
                                  "course1_intro/uses_np_float_.ipynb": "failed"}, done.stdout
    assert re.search(r"FAILED course1_intro/uses_np_float_\.ipynb: .*AttributeError: .*np\.float_", done.stderr)
    assert re.search(r"FAILED course1_intro/uses_frame_append\.ipynb: .*AttributeError: .*append", done.stderr)
    md = (build / "report.md").read_text()
    assert "uses_np_float_.ipynb | failed" in md and "1 passed, 2 failed" in md
