"""Refuse what would take a service down, before any work: oversized bodies, hostile JSON, image bombs.

Re-exported by ``helpers.serving``; see its docstring.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Awaitable, Callable

from helpers.arguments import whole
from helpers.serving.json_scan import non_finite_json, scan_json

Scope = dict
Message = dict
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]
ErrorBody = Callable[[int, str], bytes]  # (HTTP status, message) -> the JSON body of a refusal


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


def detail_body(status: int, message: str) -> bytes:
    """The project's error body, ``{"detail": message}`` (FastAPI's shape): the middlewares' ``error_body``.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    return json.dumps({"detail": message}).encode()


_PIL_LOCK = threading.Lock()
DRAIN_BYTES = 32 * 1024 * 1024  # an oversized body is read and thrown away up to this size before the 413


def check_image_pixels(data: bytes, max_pixels: int) -> tuple[int, int]:
    """The ``(width, height)`` an encoded image declares, read from its header without decoding it.

    Raises:
        TypeError: ``data`` is not bytes.
        ValueError: ``max_pixels`` is not an int of at least 1.
        RequestRejected: empty ``data`` (status 400); ``ImageUnreadable`` (415) for bytes Pillow cannot
            identify; ``ImageTooLarge`` (413) when width x height is over ``max_pixels``. A 400 KB PNG can
            declare 20,000 x 20,000 pixels, which would take 1.2 GB once decoded in colour.

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be the image's bytes, got {type(data).__name__}")
    whole("max_pixels", max_pixels)
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

    A client that sends its whole body before reading the answer (``requests``, ``http.client``) would see
    the connection reset if the server answered and closed while it was still sending; so the rest of an
    oversized body is read and thrown away, up to ``drain_bytes`` in all (never kept in memory), before the
    413 goes out with ``Connection: close``. Beyond ``drain_bytes``, or when the client waits for
    ``Expect: 100-continue`` (curl, for bodies over 1 MB), the 413 goes out at once.

    With ``finite_json`` (the default), a JSON body is also refused with a 400 when it holds ``NaN``,
    ``Infinity``, ``-Infinity`` or a number beyond a double's range (``non_finite_json``); a server that
    must accept them, as TF Serving's REST API does, passes ``finite_json=False``.

    ``error_body(status, message)`` writes the JSON body of every refusal (``detail_body`` by default); a
    server with another error shape passes its own, as TF Serving's does (``{"error": message}``).

        app.add_middleware(BodyLimitMiddleware, max_bytes=5_000_000)   # FastAPI / Starlette
        app = BodyLimitMiddleware(app, max_bytes=5_000_000)            # any ASGI app

    Introduced in course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, finite_json: bool = True,
                 drain_bytes: int = DRAIN_BYTES, error_body: ErrorBody = detail_body) -> None:
        _check_callables(app, error_body)
        self.app = app
        self.max_bytes = whole("max_bytes", max_bytes)
        self.finite_json = finite_json
        self.drain_bytes = whole("drain_bytes", drain_bytes)
        self.error_body = error_body

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
                await _send_json(send, self.error_body, 400,
                                 "the Content-Length header must be a whole number of bytes")
                return
            if length > self.max_bytes:
                expects = any(name.lower() == b"expect" for name, _ in scope.get("headers", []))
                if not expects and length <= self.drain_bytes:
                    await _drain(receive, self.drain_bytes)
                await _send_json(send, self.error_body, 413, self.message, close=True)
                return
        body = await _read_body(receive, self.max_bytes)
        if body is _TOO_LARGE or body is _TOO_LARGE_ENDED:
            if body is _TOO_LARGE:  # more of it to come: read it, or the client sees a reset
                await _drain(receive, self.drain_bytes - self.max_bytes)
            await _send_json(send, self.error_body, 413, self.message, close=True)
            return
        if body is None:  # the client left, nobody to answer
            return
        problem = non_finite_json(body) if self.finite_json and _is_json(scope) else None
        if problem:
            await _send_json(send, self.error_body, 400, problem)
            return
        await self.app(scope, _replay(body, receive), send)


def _check_callables(app: object, error_body: object) -> None:
    if not callable(app):
        raise TypeError(f"app must be an ASGI application (a callable), got {type(app).__name__}")
    if not callable(error_body):
        raise TypeError(f"error_body must be a callable (status, message) -> bytes, got {type(error_body).__name__}")


def _is_json(scope: Scope) -> bool:
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1")
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def _drain(receive: Callable[[], Awaitable[Message]], limit: int) -> None:
    """Read and throw away the rest of a request body, at most ``limit`` bytes (never held in memory)."""
    size = 0
    while size <= limit:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _send_json(send: Callable[[Message], Awaitable[None]], error_body: ErrorBody, status: int, message: str,
                     close: bool = False) -> None:
    body = error_body(status, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:  # the rest of the request was not read: this connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_TOO_LARGE = object()  # markers: _read_body stopped reading at the limit, with more of the body to come
_TOO_LARGE_ENDED = object()  # ... or with the whole body read (uvicorn may hand it over in one message)


async def _read_body(receive: Callable[[], Awaitable[Message]], limit: int | None = None) -> bytes | object | None:
    """The request's whole body; ``None`` if the client left; ``_TOO_LARGE`` (or ``_TOO_LARGE_ENDED`` when that
    was its last part) as soon as it passes ``limit``."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return _TOO_LARGE if message.get("more_body", False) else _TOO_LARGE_ENDED
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Callable[[], Awaitable[Message]]) -> Callable[[], Awaitable[Message]]:
    """A ``receive`` for the app that hands it the body already read, then defers to the real one."""
    replayed = False

    async def receive_again() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again


class JSONGuardMiddleware:
    """ASGI middleware: a request with a body must be JSON (else 415), within ``max_depth`` levels of
    nesting and ``max_values`` values (else 400), checked on the raw bytes (``scan_json``) before anything
    parses them, and without ``NaN``, ``Infinity`` or numbers beyond a double's range (400,
    ``non_finite_json``), which Python's parser accepts but JSON does not have. Add it before
    ``BodyLimitMiddleware`` (the last added runs first), which bounds the body.

        app.add_middleware(JSONGuardMiddleware, max_depth=8, max_values=3_392)
        app.add_middleware(BodyLimitMiddleware, max_bytes=100_000)

    Introduced in course4_deployment/C4_W2_Lab_1_FastAPI_Batching.ipynb.
    """

    def __init__(self, app: ASGIApp, max_depth: int, max_values: int, advice: str = "send a smaller batch",
                 error_body: ErrorBody = detail_body) -> None:
        _check_callables(app, error_body)
        self.app, self.advice, self.error_body = app, advice, error_body
        self.max_depth, self.max_values = whole("max_depth", max_depth), whole("max_values", max_values)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1")
        if content_type.split(";")[0].strip().lower() != "application/json":
            shown = content_type[:60] or "none"
            await _send_json(send, self.error_body, 415,
                             f"the body must be JSON (Content-Type: application/json), got {shown!r}")
            return
        body = await _read_body(receive)
        if body is None:
            return
        problem = scan_json(body, self.max_depth, self.max_values, self.advice) or non_finite_json(body)
        if problem:
            await _send_json(send, self.error_body, 400, problem)
            return
        await self.app(scope, _replay(body, receive), send)
