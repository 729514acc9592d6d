"""Start a web app as a real ``uvicorn`` process on 127.0.0.1, wait until it answers, and always stop it.

    from helpers import serving

    with serving.serve("app:app", app_dir=OUT, log_path=OUT / "server.log") as server:
        requests.get(server.url + "/")

The server runs in its own process, as it would in production, so the notebook's kernel stays free to act
as the client. Its output goes to a log file, not to the notebook. Leaving the ``with`` block, normally or
through an exception, stops the process by its own id (SIGTERM, then SIGKILL if it does not exit).

Every service of the project refuses what would take it down before doing any work:

    app.add_middleware(serving.BodyLimitMiddleware, max_bytes=5_000_000)   # 413 above 5 MB, streamed or not
    width, height = serving.check_image_pixels(data, max_pixels=25_000_000)  # reads the header only

``check_image_pixels`` raises ``RequestRejected`` (a ``ValueError``) whose ``status_code`` is the answer to
give: 413 for too many pixels, 415 for bytes that are no image, 400 for an empty upload.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server that could not be started, or did not become healthy in time.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    def _render_traceback_(self) -> list[str]:  # IPython shows the message (with the log tail), not a traceback
        return [f"ServerError: {self}"]


@dataclass
class Server:
    """A running server: where it listens, its process and its log file.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    url: str
    port: int
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def running(self) -> bool:
        """True while the server's process is alive."""
        return self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The process's exit code once it has stopped (negative: killed by that signal), else None."""
        return self.process.poll()

    def log(self, lines: int | None = None) -> str:
        """The server's log (its stdout and stderr); with ``lines``, only the last ones."""
        return log_tail(self.log_path, lines)


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
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP(S)_PROXY
    while True:
        if process is not None and process.poll() is not None:
            raise ServerError(f"the server exited with code {process.returncode} before answering {url}")
        try:
            with opener.open(url, timeout=min(2.0, max(timeout, 0.1))) as response:
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


# --- refusing hostile requests before any work -------------------------------------------------------

Scope = dict
Message = dict
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class RequestRejected(ValueError):
    """A request a service refuses before doing any work; ``status_code`` is the HTTP status to answer.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class ImageTooLarge(RequestRejected):
    """An image whose header declares more pixels than the limit (answer 413).

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    def __init__(self, width: int, height: int, max_pixels: int) -> None:
        super().__init__(
            f"the image is {width:,} x {height:,} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} pixels; send a smaller image (resize it first)", 413)
        self.width, self.height, self.max_pixels = width, height, max_pixels


class ImageUnreadable(RequestRejected):
    """Bytes that are not an image Pillow can identify (answer 415).

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"not an image Pillow can identify ({reason}); send a PNG, JPEG, GIF, BMP, TIFF or "
                         "WebP file", 415)


def _check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


_PIL_LOCK = threading.Lock()


def check_image_pixels(data: bytes, max_pixels: int) -> tuple[int, int]:
    """The ``(width, height)`` an encoded image declares, read from its header without decoding it.

    Raises:
        TypeError: ``data`` is not bytes.
        ValueError: ``max_pixels`` is not a positive int.
        RequestRejected: empty ``data`` (status 400); ``ImageUnreadable`` (415) for bytes Pillow cannot
            identify; ``ImageTooLarge`` (413) when width x height is over ``max_pixels``. A 400 KB PNG can
            declare 20,000 x 20,000 pixels, which would take 1.2 GB once decoded in colour.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be the image's bytes, got {type(data).__name__}")
    _check_positive_int("max_pixels", max_pixels)
    if not len(data):
        raise RequestRejected("the upload is empty; send an image file", 400)
    from PIL import Image, UnidentifiedImageError

    # Pillow's own guard (Image.MAX_IMAGE_PIXELS) raises on huge images without saying their size; ours
    # replaces it for this header read only. Image.open reads the header and decodes nothing.
    with _PIL_LOCK:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(io.BytesIO(bytes(data))) as image:
                width, height = image.size
        except UnidentifiedImageError:
            raise ImageUnreadable("its first bytes match no image format") from None
        except Exception as exc:  # the OSError, SyntaxError, ValueError ... of a broken header
            raise ImageUnreadable(f"a broken header: {exc}"[:200]) from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    if width * height > max_pixels:
        raise ImageTooLarge(width, height, max_pixels)
    return width, height


class BodyLimitMiddleware:
    """ASGI middleware: answer 413 to a request body over ``max_bytes``, before the app sees the request.

    A ``Content-Length`` over the limit is refused at once; a body without one (chunked upload) is counted
    as it streams and refused as soon as it passes the limit, without reading further. A body within the
    limit is read (at most ``max_bytes`` in memory) and handed to the app unchanged. The 413's JSON body is
    ``{"detail": "request body over the limit of N bytes; send a smaller file/batch"}``.

        app.add_middleware(BodyLimitMiddleware, max_bytes=5_000_000)   # FastAPI / Starlette
        app = BodyLimitMiddleware(app, max_bytes=5_000_000)            # any ASGI app

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if not callable(app):
            raise TypeError(f"app must be an ASGI application (a callable), got {type(app).__name__}")
        _check_positive_int("max_bytes", max_bytes)
        self.app = app
        self.max_bytes = max_bytes

    @property
    def message(self) -> str:
        """The 413 answer's ``detail``."""
        return f"request body over the limit of {self.max_bytes} bytes; send a smaller file/batch"

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = [value for name, value in scope.get("headers", []) if name.lower() == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                length = -1
            if length < 0:
                await _send_json(send, 400, "the Content-Length header must be a whole number of bytes")
                return
            if length > self.max_bytes:
                await _send_json(send, 413, self.message)
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_json(send, 413, self.message)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def _send_json(send: Callable[[Message], Awaitable[None]], status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
