"""Static checks of every notebook: its anatomy (helpers.harness.anatomy), its course README, the offline rule."""

import json
import re
from pathlib import Path

import pytest

from helpers.harness import anatomy, runner

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = runner.discover(ROOT)  # the labs and the assignments' solutions (in solutions/)
IDS = [p.relative_to(ROOT).as_posix() for p in NOTEBOOKS]
LEARNER_COPIES = sorted(p for course in runner.COURSES for p in (ROOT / course).glob("*.ipynb")
                        if runner.learner_copy(p))


def _opened(path: Path) -> Path:
    """The notebook a learner opens for ``path``: an assignment's learner copy for its solution."""
    return path.parent.parent / path.name if path.parent.name == "solutions" else path


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook found in the course folders"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_anatomy(path):
    assert anatomy.problems(path, ROOT) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_names_follow_the_specialization(path):
    assert re.fullmatch(r"C[1-4]_W[1-5]_(Lab_\d+|Assignment)_[A-Za-z0-9_]+\.ipynb", path.name)
    course = {"1": "course1_intro", "2": "course2_data", "3": "course3_modeling", "4": "course4_deployment"}
    assert _opened(path).parent.name == course[path.name[1]]
    if path.parent.name == "solutions":
        assert "_Assignment_" in path.name and _opened(path).is_file(), f"{path.name} needs its learner copy"


@pytest.mark.parametrize("path", LEARNER_COPIES, ids=[p.name for p in LEARNER_COPIES])
def test_learner_copy_anatomy(path):
    """A learner copy has the anatomy too (its cells from the first exercise on are unrun and tagged nbval-skip)."""
    assert anatomy.problems(path, ROOT) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_listed_in_its_course_readme_and_the_top_readme(path):
    path = _opened(path)
    assert path.name in (path.parent / "README.md").read_text()
    assert path.relative_to(ROOT).as_posix() in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_download_in_the_code(path):
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    code = code.replace(anatomy.BOOTSTRAP, "")  # the Colab-only install
    for pattern in (r"\bwget\b", r"\bcurl\b", r"urlretrieve", r"tf\.keras\.utils\.get_file", r"keras\.datasets",
                    r"tfds\.load", r"fetch_openml", r"fetch_covtype", r"https?://(?!127\.0\.0\.1|localhost|\{)"):
        assert not re.search(pattern, code), f"{path.name} downloads or names a web address ({pattern})"


def test_bootstrap_cell_is_identical_everywhere():
    firsts = set()
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        firsts.add("".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"]).strip())
    assert firsts == {anatomy.BOOTSTRAP}


def test_tfx_notebooks_say_so_up_front():
    for path in NOTEBOOKS:
        text = path.read_text()
        if "tensorflow_data_validation" in text or "tensorflow_transform" in text or "ml_metadata" in text:
            nb = json.loads(text)
            intro = "".join("".join(c["source"]) for c in nb["cells"][:4] if c["cell_type"] == "markdown")
            assert "TFX libraries" in intro, f"{path.name} needs TFX: its introduction must say so"
            assert "env.require_tfx()" in text, f"{path.name} must stop with env.require_tfx() where TFX is missing"


def test_anatomy_catches_a_broken_notebook(tmp_path):
    """The checks themselves can fail: a notebook with none of the anatomy gets every complaint."""
    bad = tmp_path / "course9" / "C9_W1_Lab_1_Bad.ipynb"
    bad.parent.mkdir()
    bad.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {"tags": ["nbval-ignore-output"]},
                   "source": "import sys\nsys.argv  # /home/someone/data.csv", "execution_count": None,
                   "outputs": [{"output_type": "error", "ename": "E", "evalue": "", "traceback": []}]}],
        "metadata": {"kernelspec": {"name": "conda-env-x"}}, "nbformat": 4, "nbformat_minor": 5,
    }))
    found = "\n".join(anatomy.problems(bad, tmp_path))
    for expected in ("H1 title", "badge row", "bootstrap cell", "tagged 'parameters'", "'## Setup'",
                     "'## What you learned'", "kernelspec", "sys.argv", "never executed", "stored error",
                     "asserts nothing", "machine path"):
        assert expected in found, expected


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_on_column_matches_the_notebook(path):
    """The lab tables' "Runs on" cell: Colab only for notebooks that do not need the TFX libraries."""
    expected = "local" if "env.require_tfx()" in path.read_text() else "local, Colab"
    path = _opened(path)
    for readme, link in ((ROOT / "README.md", path.relative_to(ROOT).as_posix()),
                         (path.parent / "README.md", path.name)):
        rows = [line for line in readme.read_text().splitlines() if line.startswith(f"| [{path.stem}]({link})")]
        assert len(rows) == 1, f"{readme.relative_to(ROOT)} must have one table row for {path.name}"
        cells = [c.strip() for c in rows[0].strip("|").split("|")]
        assert cells[-2] == expected, f"{readme.relative_to(ROOT)}: {path.name} runs on {expected!r}, not {cells[-2]!r}"


def test_anatomy_cli_checks_the_notebooks_it_is_given(capsys):
    assert anatomy.main([str(NOTEBOOKS[0])]) == 0
    with pytest.raises(SystemExit):
        anatomy.main(["no/such/notebook.ipynb"])
    assert "no notebook at no/such/notebook.ipynb" in capsys.readouterr().err
