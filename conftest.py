"""Test-run set-up shared by the unit tests and nbval (at the top of the checkout, so it applies to
`pytest course2_data` or a single notebook as well as to the whole run).

- The offline guard (tests/offline_guard/sitecustomize.py) is loaded into every Python process the run
  starts; a connection outside 127.0.0.0/8 from a notebook kernel or a server it started fails the run.
- nbval items get the `notebooks` marker, so `pytest -m "not notebooks"` runs only the fast checks.
- At the end, no process started by the run may still be alive (servers, workers, kernels), including one
  whose parent has exited: the run adopts its orphaned descendants (helpers.harness.runner.adopt_orphans).
- Each test's changes to the environment variables are undone, so no unit test can change what the notebook
  kernels started later inherit.
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "notebooks: a notebook re-executed and compared by nbval")
    from helpers.harness.runner import adopt_orphans

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.notebooks)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    log: Path = session.config._network_log
    attempts = log.read_text() if log.exists() else ""
    if attempts:
        reporter.write_line("OFFLINE GUARD: processes of this test run tried to reach the network:", red=True)
        reporter.write_line(attempts[:4000])
        session.exitstatus = 1
    leftovers = []
    for child in psutil.Process().children(recursive=True):
        try:
            leftovers.append(f"{child.pid} {' '.join(child.cmdline())[:150]}")
            child.kill()
        except psutil.NoSuchProcess:
            continue
    if leftovers:
        reporter.write_line("LEFT RUNNING: processes started by the test run outlived it (now killed):", red=True)
        reporter.write_line("\n".join(leftovers))
        session.exitstatus = 1
