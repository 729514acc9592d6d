"""The papermill runner behind `make run`: parameters, the report, failures, bad paths."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.harness import runner

ROOT = Path(__file__).resolve().parent.parent


def _notebook(path: Path, *sources: str, parameters: str = "x = 1") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_a_notebook_runs_with_parameters_and_is_reported(tmp_path):
    nb = _notebook(tmp_path / "ok.ipynb", "import os\nprint(f'x={x} cwd={os.path.basename(os.getcwd())}')")
    build = tmp_path / "build"
    assert runner.main([str(nb), "-p", "x", "41", "--build", str(build)]) == 0
    report = json.loads((build / "report.json").read_text())
    (entry,) = report["notebooks"]
    assert entry["status"] == "passed" and entry["parameters"] == {"x": 41} and entry["peak_mb"] > 10
    executed = nbformat.read(build / "executed" / "ok.ipynb", as_version=4)
    assert "x=41 cwd=" + tmp_path.name in executed.cells[-1].outputs[0]["text"]  # ran in its own folder
    assert "| ok.ipynb | passed |" in (build / "report.md").read_text()


def test_a_failing_notebook_fails_the_run_with_its_first_error(tmp_path):
    nb = _notebook(tmp_path / "bad.ipynb", "raise ValueError('the data is wrong')", "print('never')")
    build = tmp_path / "build"
    assert runner.main([str(nb), "--build", str(build)]) == 1
    (entry,) = json.loads((build / "report.json").read_text())["notebooks"]
    assert entry["status"] == "failed"
    assert "ValueError: the data is wrong" in entry["error"]
    assert "1 failed" in (build / "report.md").read_text()


def test_a_missing_notebook_path_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        runner.main([str(tmp_path / "nope.ipynb")])
    assert info.value.code == 2
    assert "no notebook at" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no notebook at"):
        runner.run_notebook(tmp_path / "nope.ipynb", tmp_path)


def test_a_filter_that_matches_nothing_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        runner.main(["-k", "no-such-lab-anywhere"])
    assert "no notebook matches" in capsys.readouterr().err


def test_discover_finds_the_course_notebooks_in_order():
    found = [p.relative_to(ROOT).as_posix() for p in runner.discover(ROOT)]
    assert "course2_data/C2_W1_Lab_1_TFDV.ipynb" in found
    assert found == sorted(found)
    assert runner.discover(ROOT, ["TFDV"]) == [ROOT / "course2_data/C2_W1_Lab_1_TFDV.ipynb"]


def test_discover_runs_solutions_not_learner_copies(tmp_path):
    course = tmp_path / "course2_data"
    (course / "solutions").mkdir(parents=True)
    for name in ("C2_W1_Lab_1_A.ipynb", "C2_W1_Assignment_B.ipynb", "solutions/C2_W1_Assignment_B.ipynb"):
        _notebook(course / name, "pass")
    found = [p.relative_to(tmp_path).as_posix() for p in runner.discover(tmp_path)]
    assert found == ["course2_data/C2_W1_Lab_1_A.ipynb", "course2_data/solutions/C2_W1_Assignment_B.ipynb"]
    assert runner.learner_copy(course / "C2_W1_Assignment_B.ipynb")
    assert not runner.learner_copy(course / "solutions/C2_W1_Assignment_B.ipynb")


def test_the_exemplar_runs_with_a_parameter(tmp_path):
    build = tmp_path / "build"
    nb = ROOT / "course2_data/C2_W1_Lab_1_TFDV.ipynb"
    assert runner.main([str(nb), "-p", "slice_feature", "race", "--build", str(build)]) == 0
    executed = (build / "executed/course2_data/C2_W1_Lab_1_TFDV.ipynb").read_text()
    # the section-7 slices follow the parameter, which papermill injects (JSON-escaped in the file)
    assert "race_White" in executed and r'slice_feature = \"race\"' in executed
    (entry,) = json.loads((build / "report.json").read_text())["notebooks"]
    assert entry["status"] == "passed" and entry["seconds"] < 90 and entry["peak_mb"] < 3000


def test_a_process_left_running_fails_its_notebook_and_is_killed(tmp_path):
    # in a session of its own, as servers are started, so the kernel's shutdown does not take it along
    nb = _notebook(tmp_path / "leaky.ipynb", "import subprocess, sys\nchild = subprocess.Popen("
                   "[sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True)\nprint(child.pid)")
    result = runner.run_notebook(nb, tmp_path / "out")
    assert result.status == "failed" and result.error.startswith("left running (now killed):"), result
    assert "time.sleep(120)" in result.error
    import psutil
    pid = int(nbformat.read(tmp_path / "out" / "leaky.ipynb", as_version=4).cells[-1].outputs[0]["text"])
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_with_the_offline_guard_a_network_attempt_fails_its_notebook(tmp_path):
    log = runner.offline_guard(ROOT)  # a log of its own (conftest restores the environment afterwards)
    nb = _notebook(tmp_path / "online.ipynb",
                   "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
                   "except OSError as exc:\n    print('caught', type(exc).__name__)")  # caught: still a failure
    result = runner.run_notebook(nb, tmp_path / "out")
    assert result.status == "failed" and "tried to reach the network" in result.error, result
    assert "192.0.2.1" in result.error and log.read_text() == ""  # read and cleared for the next notebook
    with pytest.raises(FileNotFoundError, match="needs the repository checkout"):
        runner.offline_guard(tmp_path)


@pytest.mark.serial  # it runs two notebooks at a time itself, and checks that they overlapped
def test_two_at_a_time_keeps_the_order_and_each_notebooks_own_checks(tmp_path):
    # two notebooks that overlap in time under -j 2; the one that leaves a process running fails alone
    timing = "import time\nstart = time.time()\ntime.sleep(3)\nprint(f'{start:.3f} {time.time():.3f}')"
    first = _notebook(tmp_path / "a_first.ipynb", timing)
    leaky = _notebook(tmp_path / "b_leaky.ipynb", timing, "import subprocess, sys\nsubprocess.Popen([sys.executable, "
                      "'-c', 'import time; time.sleep(120)'], start_new_session=True)")
    build = tmp_path / "build"
    # as `make run` does: in a process of its own (the -j workers' queues start multiprocessing's resource
    # tracker, which lives as long as the process that made them)
    done = subprocess.run([sys.executable, "-m", "helpers.harness.runner", str(first), str(leaky), "-j", "2",
                           "--build", str(build)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    out, err = done.stdout, done.stderr
    lines = [line for line in out.splitlines() if line.strip().startswith(("passed", "failed"))]
    assert [line.split()[-1] for line in lines] == ["a_first.ipynb", "b_leaky.ipynb"], out
    entries = json.loads((build / "report.json").read_text())["notebooks"]
    assert [(e["notebook"], e["status"]) for e in entries] == [("a_first.ipynb", "passed"), ("b_leaky.ipynb", "failed")]
    assert entries[1]["error"].startswith("left running (now killed):") and entries[0]["peak_mb"] > 10
    spans = []
    for name in ("a_first.ipynb", "b_leaky.ipynb"):
        cell = nbformat.read(build / "executed" / name, as_version=4).cells[1]
        spans.append([float(x) for x in cell.outputs[0]["text"].split()])
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1], f"the two notebooks did not overlap: {spans}"
    assert "without encryption" not in err  # the kernels talk over IPC, so ipykernel has nothing to warn about


def test_jobs_must_be_one_or_more(capsys):
    with pytest.raises(SystemExit):
        runner.main(["-j", "0", "--list"])
    assert "-j must be 1 or more, got 0" in capsys.readouterr().err
