"""The processes behind a notebook run (helpers.harness.runner): the kernel's peak memory, the processes it
leaves running, the offline guard, the kernel's IPC transport, and the ``-j`` workers' set-up. conftest.py
uses ``adopt_orphans`` too.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path


class PeakMemory:
    """Poll the resident memory of this process's children (the kernel and what it starts)."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self._me = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for child in self._me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self._interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux's child subreaper), so a server whose
    parent (a notebook kernel) has exited is still found among this process's children, and stopped."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):  # not Linux: orphans go to init and are not seen
        pass


def children() -> dict:
    """This process's live descendants by pid."""
    import psutil

    alive = {}
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive[child.pid] = child
        except psutil.NoSuchProcess:
            continue
    return alive


def leftovers(before: set[int], grace: float = 10.0) -> list[str]:
    """Processes started since ``before`` was taken that are still alive after ``grace`` seconds (a kernel
    shuts down within it); they are killed and described."""
    import psutil

    deadline = time.monotonic() + grace
    while True:
        alive = [child for pid, child in children().items() if pid not in before]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    described = []
    for child in alive:
        try:
            described.append(f"{child.pid} {' '.join(child.cmdline())[:120]}")
            child.kill()
            child.wait(10)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            continue
    return described


def offline_guard(root: Path) -> Path:
    """Switch the offline guard on for every process started from here on (kernels and what they start):
    the checkout's ``tests/offline_guard`` on PYTHONPATH, and a fresh log, whose path is returned."""
    guard = root / "tests" / "offline_guard"
    if not (guard / "sitecustomize.py").is_file():
        raise FileNotFoundError(f"no offline guard at {guard}: --offline-guard needs the repository checkout")
    log = Path(tempfile.mkdtemp(prefix="mlops-labs-net-")) / "connections.log"
    log.touch()
    os.environ["MLOPS_LABS_NETWORK_LOG"] = str(log)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(guard), os.environ.get("PYTHONPATH")) if p)
    return log


def ipc_kernel_manager(folder: str) -> type:
    """An AsyncKernelManager whose kernel talks over Unix sockets in ``folder`` (IPC transport, where the
    system has it: not on Windows), so ipykernel does not warn that its TCP ports are unencrypted."""
    from jupyter_client import AsyncKernelManager

    if os.name != "posix":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs) -> None:
            super().__init__(transport="ipc", ip=os.path.join(folder, "kernel"), **kwargs)

    return IPCKernelManager


def worker_start() -> None:
    """A ``-j`` worker: the reaper of its kernels' orphans, with a guard log of its own when the guard is on
    (so a notebook's leftovers and network attempts are told apart from those of the one running beside it)."""
    adopt_orphans()
    if os.environ.get("MLOPS_LABS_NETWORK_LOG"):
        log = Path(tempfile.mkdtemp(prefix="mlops-labs-net-")) / "connections.log"
        log.touch()
        os.environ["MLOPS_LABS_NETWORK_LOG"] = str(log)
