"""Test-run set-up shared by the unit tests and nbval (at the top of the checkout, so it applies to
`pytest course2_data` or a single notebook as well as to the whole run).

- The offline guard (tests/offline_guard/sitecustomize.py) is loaded into every Python process the run
  starts; a connection outside 127.0.0.0/8 from a notebook kernel or a server it started fails the run.
- nbval items get the `notebooks` marker, so `pytest -m "not notebooks"` runs only the fast checks.
- At the end, no process started by the run may still be alive (servers, workers, kernels), including one
  whose parent has exited: the run adopts its orphaned descendants (helpers.harness.kernels.adopt_orphans).
- Each test's changes to the environment variables are undone, so no unit test can change what the notebook
  kernels started later inherit.
- The serial group: the tests and notebooks that time or load the machine (listed in SERIAL below, or marked
  `serial`) get the `serial` marker. `make test` runs the others two at a time (pytest-xdist, `--group
  parallel -n 2 --dist loadfile --no-loadscope-reorder`, so a notebook's cells stay in one worker and the files
  start in the order of LONGEST_FIRST below) and then these alone (`--group
  serial`); see tests/run_offline.py. Under xdist each worker has its own guard log and leftover check, and
  sends what it found to the controller, which fails the run.
- The assignments' learner copies are collected by nbval like their solutions in `solutions/`: a copy runs up
  to its first exercise and compares those outputs (the solution's); its cells from there on are tagged
  `nbval-skip` (each stub raises by design). tests/test_assignments.py checks each copy is what the generator
  (helpers/harness/assignments.py) makes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent
GUARD = ROOT / "tests" / "offline_guard"


# The serial group: files whose tests or cells measure time, CPU or latency, or load the machine on purpose;
# run next to another test they could fail or make it fail. Everything else runs two at a time, including what
# only waits on generous deadlines (servers starting, C3_W3_Lab_1's two training workers): put a file here only
# if a result it checks depends on the machine being quiet. A single test can be marked `serial` instead.
SERIAL = (
    "course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb",  # asserts the small detector is the faster one
    "course4_deployment/C4_W2_Lab_1_FastAPI_Batching.ipynb",  # asserts one batch beats many single requests
    "course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb",  # Locust at full load: requests/s, p50/p95/p99 directions
    "course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb",  # replicas' measured CPU under a calibrated load
    "tests/test_autoscale.py",  # CPU of replicas under load
    "tests/test_workers.py",  # multi-worker TF training processes
    "tests/test_loadtest.py",  # Locust load runs
    "tests/test_browser.py",  # JupyterLab runs a lab in Chromium, with deadlines
    "tests/test_site.py",  # every page loaded in Chromium, with deadlines
    "tests/test_data_medical.py",  # a generator's wall time under a bound
    "tests/bench_tfserving.py",  # requests/s and latency (not collected by default: `make bench`)
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--group", choices=("parallel", "serial"), default=None,
                     help="only the tests that may run beside others (parallel) or only those that must run "
                          "alone (serial: marked `serial`); default: all")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "notebooks: a notebook re-executed and compared by nbval")
    config.addinivalue_line("markers", "serial: times or loads the machine; `make test` runs it alone, after the rest")
    from helpers.harness.kernels import adopt_orphans

    adopt_orphans()  # a server left by a kernel that has exited is still this run's child, and is found
    log = Path(tempfile.mkdtemp(prefix="mlops-labs-net-")) / "connections.log"
    log.touch()
    config._network_log = log
    os.environ["MLOPS_LABS_NETWORK_LOG"] = str(log)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(GUARD), os.environ.get("PYTHONPATH")) if p)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # a debugger notice on kernel start
    _ENVIRONMENT.update(os.environ)


# The environment every test starts from. Libraries imported by unit tests set variables in this process
# (tensorflow-model-optimization sets TF_USE_LEGACY_KERAS=1, env.set_seed sets PYTHONHASHSEED ...); the
# notebook kernels nbval starts later inherit this process's environment, so each test's changes are undone.
_ENVIRONMENT: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _restore_environment():
    yield
    if not _ENVIRONMENT:
        return
    for name in set(os.environ) - set(_ENVIRONMENT) - {"PYTEST_CURRENT_TEST"}:  # pytest's own, it removes it
        del os.environ[name]
    for name, value in _ENVIRONMENT.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _live_children() -> dict[int, str]:
    alive = {}
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive[child.pid] = " ".join(child.cmdline())[:150]
        except psutil.NoSuchProcess:
            continue
    return alive


@pytest.fixture
def no_leftovers():
    """Fails the test if a process it started (a server, a worker) is still alive when it ends."""
    before = set(_live_children())
    yield
    time.sleep(0.1)  # a process stopped at the very end may take a moment to be reaped
    left = {pid: command for pid, command in _live_children().items() if pid not in before}
    assert not left, f"processes left running: {list(left.values())}"


@pytest.fixture
def heavy_imports():
    """``heavy_imports(module, names)``: which of ``names`` a fresh interpreter has loaded after importing
    ``module`` (a helpers module must import its heavy libraries lazily, inside the functions that use them)."""
    def check(module: str, names: tuple[str, ...]) -> list[str]:
        code = f"import sys, {module}; print(' '.join(m for m in {tuple(names)!r} if m in sys.modules))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        return out.split()

    return check


# The parallel phase hands out whole files in collection order (`--no-loadscope-reorder`), so the longest
# start first and the short unit-test files fill the end: the grader's tests (about 190 s, twelve assignment
# runs) started last would leave the other worker idle that long.
LONGEST_FIRST = ("tests/test_grader.py", "tests/test_checks_feature_engineering.py")


def _run_order(item: pytest.Item) -> int:
    path = item.nodeid.split("::")[0]
    return 0 if path in LONGEST_FIRST else 1 if path.endswith(".ipynb") else 2


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The serial group collects only what can hold a serial test (SERIAL, and test files that mark one), so
    its phase does not import the TFX libraries for the tests it would deselect."""
    if config.getoption("--group") != "serial" or not collection_path.is_file():
        return None
    if collection_path.suffix not in (".ipynb", ".py") or collection_path.name == "conftest.py":
        return None
    try:
        relative = collection_path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None
    if relative in SERIAL:
        return None
    if collection_path.suffix == ".py" and "mark.serial" in collection_path.read_text(encoding="utf-8"):
        return None
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.notebooks)
        if item.nodeid.split("::")[0] in SERIAL:
            item.add_marker(pytest.mark.serial)
    items.sort(key=_run_order)  # stable: each file's tests and cells keep their order
    group = config.getoption("--group")
    if group:
        keep, dropped = [], []
        for item in items:
            (keep if (item.get_closest_marker("serial") is not None) == (group == "serial") else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    problems = list(getattr(config, "_worker_problems", []))  # an xdist controller: what its workers found
    log: Path = config._network_log
    attempts = log.read_text() if log.exists() else ""
    if attempts:
        problems.append("OFFLINE GUARD: processes of this test run tried to reach the network:\n" + attempts[:4000])
    leftovers = []
    for child in psutil.Process().children(recursive=True):
        try:
            leftovers.append(f"{child.pid} {' '.join(child.cmdline())[:150]}")
            child.kill()
        except psutil.NoSuchProcess:
            continue
    if leftovers:
        problems.append("LEFT RUNNING: processes started by the test run outlived it (now killed):\n"
                        + "\n".join(leftovers))
    if hasattr(config, "workeroutput"):  # an xdist worker: its terminal is not shown; the controller reports
        config.workeroutput["mlops_labs_problems"] = problems
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if problems:
        reporter.ensure_newline()
    for problem in problems:
        reporter.write_line(problem, red=True)
    if problems:
        session.exitstatus = 1


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown when xdist is off (-p no:xdist)
def pytest_testnodedown(node, error) -> None:
    """An xdist worker has finished: keep what its own end-of-run checks found, for the controller to report."""
    found = getattr(node, "workeroutput", {}).get("mlops_labs_problems", [])
    config = node.config
    config._worker_problems = [*getattr(config, "_worker_problems", []), *(f"[{node.gateway.id}] {p}" for p in found)]
