"""Servers as real processes: start a uvicorn app on 127.0.0.1, wait until it answers, always stop it.

``launch`` is the project's one way to run a child process (output to a log file, stopped by its own id):
``serve`` here, ``helpers.workers``, ``helpers.loadtest`` and the TF Serving binary use it.
Re-exported by ``helpers.serving`` (see its docstring), except ``launch`` and ``log_excerpt``: import them from here.
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helpers.arguments import number, whole

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

    A base for the dataclasses that hold a ``process`` (``subprocess.Popen``, from ``launch``) and its
    ``log_path``: ``Server`` here, ``helpers.workers.Worker``.

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
    whole("port", port, 1, 65535, "or None for a free port")
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
def launch(command: list[str], log_path: str | os.PathLike, *, env: Mapping[str, str] | None = None,
           cwd: str | os.PathLike | None = None, stop_timeout: float = 10.0) -> Iterator[subprocess.Popen]:
    """Run ``command`` as a child process for the duration of a ``with`` block, and always stop it.

    Its stdout and stderr go to ``log_path`` (overwritten; its folder is created), its stdin is /dev/null.
    Leaving the block, normally or through an exception, stops it by its own id (``stop``: SIGTERM, then
    SIGKILL after ``stop_timeout`` seconds); so does the interpreter's exit, should the block never end.
    The one launcher of the project: servers (``serve``), training workers, Locust, TF Serving.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=cwd, env=env)
    stopper = functools.partial(stop, process, stop_timeout)
    atexit.register(stopper)
    try:
        yield process
    finally:
        stopper()
        atexit.unregister(stopper)


def log_excerpt(log_path: str | os.PathLike, lines: int = 15) -> str:
    """What an error message about a child process ends with: a header naming its log, then the log's last lines.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    return f"\n--- last lines of {Path(log_path).name} ---\n{log_tail(log_path, lines)}"


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
    number("timeout", timeout)
    if not health_path.startswith("/"):
        raise ValueError(f"health_path must start with '/', got {health_path!r}")
    if port is not None and port_in_use(port):  # port_in_use checks the port
        raise ServerError(f"port {port} on {HOST} is already in use (another server, or an earlier run still "
                          "alive); stop that process, or pass port=None to take a free port")
    log_path = Path(log_path) if log_path is not None else app_dir / f"{module.split('.')[-1]}.log"
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    attempts = 1 if port is not None else 3  # a free port can be taken between choosing and binding it
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        command = [sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir), "--host", HOST,
                   "--port", str(chosen), "--log-level", "info"]
        with launch(command, log_path, env=child_env) as process:
            server = Server(f"http://{HOST}:{chosen}", chosen, log_path, process)
            try:
                wait_until_healthy(server.url + health_path, timeout, process)
            except ServerError as exc:
                stop(process)  # its log is then complete
                if "address already in use" not in log_tail(log_path, 15).lower():
                    raise ServerError(f"{exc}{log_excerpt(log_path)}") from None
                if attempt + 1 < attempts:
                    continue
                raise ServerError(f"port {chosen} on {HOST} is already in use; stop that process, or pass "
                                  f"port=None{log_excerpt(log_path)}") from None
            yield server
            return
