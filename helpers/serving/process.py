"""Servers as real processes: start a uvicorn app on 127.0.0.1, wait until it answers, always stop it.

Re-exported by ``helpers.serving``; see its docstring.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
# every request the helpers make to a local server goes through this: never via an HTTP(S)_PROXY
LOCAL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """A server that could not be started, or did not become healthy in time.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    def _render_traceback_(self) -> list[str]:  # IPython shows the message (with the log tail), not a traceback
        return [f"ServerError: {self}"]


class ChildProcess:
    """What a started process offers, whatever it runs: ``running``, ``returncode`` and its ``log()``.

    A base for the dataclasses that hold a ``process`` (``subprocess.Popen``) and its ``log_path``:
    ``Server`` here, ``helpers.workers.Worker``.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    process: subprocess.Popen
    log_path: Path

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The process's exit code once it has stopped (negative: killed by that signal), else None."""
        return self.process.poll()

    def log(self, lines: int | None = None) -> str:
        """The process's output (its stdout and stderr); with ``lines``, only the last ones."""
        return log_tail(self.log_path, lines)


@dataclass
class Server(ChildProcess):
    """A running server: where it listens, its process and its log file.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    url: str
    port: int
    log_path: Path
    process: subprocess.Popen = field(repr=False)


def log_tail(path: Path, lines: int | None = 20) -> str:
    """The last ``lines`` lines of a log file (all of it with ``None``); empty if it does not exist.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    path = Path(path)
    if not path.is_file():
        return ""
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text if lines is None else text[-lines:])


def free_port(host: str = HOST) -> int:
    """A TCP port on ``host`` that nothing listens on right now, chosen by the operating system.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when ``port`` on ``host`` cannot be bound because something else holds it.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    _check_port(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as servers do (uvicorn too): a port whose last server just stopped (connections in TIME_WAIT) is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def _check_port(port: object) -> None:
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ValueError(f"port must be an int from 1 to 65535 (or None for a free port), got {port!r}")


def wait_until_healthy(url: str, timeout: float, process: subprocess.Popen | None = None,
                       interval: float = 0.1) -> None:
    """Poll ``url`` until it answers with a 2xx/3xx status, for at most ``timeout`` seconds.

    Raises:
        ServerError: when ``process`` exits first, or time runs out (the message says which).

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if process is not None and process.poll() is not None:
            raise ServerError(f"the server exited with code {process.returncode} before answering {url}")
        try:
            with LOCAL_OPENER.open(url, timeout=min(2.0, max(timeout, 0.1))) as response:
                if 200 <= response.status < 400:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if time.monotonic() >= deadline:
            raise ServerError(f"{url} did not answer with a 2xx status within {timeout:g} s (last: {last})")
        time.sleep(interval)


def stop(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """Stop a process by its own id: SIGTERM, then SIGKILL after ``timeout`` seconds; return its exit code.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextlib.contextmanager
def serve(app: str, app_dir: str | os.PathLike = ".", *, port: int | None = None,
          health_path: str = "/", timeout: float = 30.0, log_path: str | os.PathLike | None = None,
          env: dict[str, str] | None = None) -> Iterator[Server]:
    """Run ``app`` with ``python -m uvicorn`` on 127.0.0.1 for the duration of a ``with`` block.

    Args:
        app: uvicorn's import string, ``"module:attribute"`` (e.g. ``"app:app"``).
        app_dir: the folder the module is imported from.
        port: the port to bind; ``None`` (the default) takes a free one. A port in use is an error.
        health_path: the path that must answer 2xx before the block starts.
        timeout: seconds the server may take to become healthy.
        log_path: where the server's output goes (default: ``<app_dir>/<module>.log``); overwritten.
        env: extra environment variables for the server process.

    Yields:
        a ``Server`` with its ``url`` (no trailing slash), ``port``, ``log_path`` and ``process``.

    Raises:
        ValueError, FileNotFoundError: bad arguments (a malformed import string, a missing folder ...).
        ServerError: the port is in use, or the server crashed or stayed unhealthy; the message ends with
            the tail of the server's log. Nothing is left running in any case.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    module, sep, attribute = app.partition(":") if isinstance(app, str) else ("", "", "")
    if not sep or not module or not attribute:
        raise ValueError(f"app must be uvicorn's import string 'module:attribute' (e.g. 'app:app'), got {app!r}")
    app_dir = Path(app_dir)
    if not app_dir.is_dir():
        raise FileNotFoundError(f"app_dir {str(app_dir)!r} is not a folder; it must hold {module}.py")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not health_path.startswith("/"):
        raise ValueError(f"health_path must start with '/', got {health_path!r}")
    if port is not None:
        _check_port(port)
        if port_in_use(port):
            raise ServerError(
                f"port {port} on {HOST} is already in use (another server, or an earlier run still alive); "
                "stop that process, or pass port=None to take a free port"
            )
    log_path = Path(log_path) if log_path is not None else app_dir / f"{module.split('.')[-1]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)

    attempts = 1 if port is not None else 3  # a free port can be taken between choosing and binding it
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        process = _start(app, app_dir, chosen, log_path, env)
        server = Server(f"http://{HOST}:{chosen}", chosen, log_path, process)
        stopper = functools.partial(stop, process)
        atexit.register(stopper)  # should the interpreter exit without leaving the block
        try:
            try:
                wait_until_healthy(server.url + health_path, timeout, process)
            except ServerError as exc:
                stop(process)
                tail = log_tail(log_path, 15)
                if port is None and attempt + 1 < attempts and "address already in use" in tail.lower():
                    continue
                if "address already in use" in tail.lower():
                    raise ServerError(
                        f"port {chosen} on {HOST} is already in use; stop that process, or pass port=None"
                        f"\n--- last lines of {log_path.name} ---\n{tail}"
                    ) from None
                raise ServerError(f"{exc}\n--- last lines of {log_path.name} ---\n{tail}") from None
            yield server
            return
        finally:
            stop(process)
            atexit.unregister(stopper)


def _start(app: str, app_dir: Path, port: int, log_path: Path, env: dict[str, str] | None) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "uvicorn", app,
        "--app-dir", str(app_dir), "--host", HOST, "--port", str(port), "--log-level", "info",
    ]
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=child_env)
