"""Tests of helpers.serving, and of the detector app that course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb
serves with it (its source is read from the notebook, so the tests check the code the learner reads)."""

from __future__ import annotations

import ast
import asyncio
import json
import socket
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import psutil
import pytest

from helpers import serving

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "course1_intro" / "C1_W1_Lab_1_Deploying_a_Model.ipynb"

HELLO_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    status = 200 if scope["path"] in ("/", "/health") else 404
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})
"""

UNHEALTHY_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 503, "headers": []})
    await send({"type": "http.response.body", "body": b"not ready"})
"""

CRASHING_APP = """
raise RuntimeError("the model file is missing (planted by the test)")
"""


def _write(folder: Path, name: str, source: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


# --- ports -------------------------------------------------------------------------------------------

def test_free_port_is_bindable():
    port = serving.free_port()
    assert 1024 <= port <= 65535
    assert not serving.port_in_use(port)


def test_port_in_use_detects_a_listening_socket():
    with socket.socket() as sock:
        sock.bind((serving.HOST, 0))
        sock.listen()
        assert serving.port_in_use(sock.getsockname()[1])


@pytest.mark.parametrize("port", [0, -1, 70000, "8000", 8000.0, True])
def test_port_in_use_rejects_bad_ports(port):
    with pytest.raises(ValueError, match=r"port must be an int from 1 to 65535 \(or None for a free port\), got"):
        serving.port_in_use(port)


# --- serve: the normal path --------------------------------------------------------------------------

def test_serve_starts_answers_and_stops(tmp_path, no_leftovers):
    _write(tmp_path, "hello", HELLO_APP)
    with serving.serve("hello:app", tmp_path, health_path="/health", timeout=20) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.running
        assert "uvicorn" in " ".join(psutil.Process(server.process.pid).cmdline())
        import urllib.request

        with urllib.request.urlopen(server.url + "/") as response:
            assert response.read() == b"hello"
    assert not server.running
    assert server.returncode in (0, -15)  # uvicorn re-raises SIGTERM after a graceful shutdown
    assert "Application shutdown complete" in server.log()
    assert server.log_path == tmp_path / "hello.log"
    assert "Uvicorn running on http://127.0.0.1:" in server.log()


def test_serve_on_a_given_free_port_and_log_path(tmp_path, no_leftovers):
    _write(tmp_path, "hello", HELLO_APP)
    port = serving.free_port()
    log = tmp_path / "logs" / "server.log"
    with serving.serve("hello:app", tmp_path, port=port, log_path=log, timeout=20) as server:
        assert server.port == port
    assert log.is_file() and "Application startup complete" in log.read_text()


def test_serve_again_on_the_same_port_right_after_stopping(tmp_path, no_leftovers):
    """A notebook that picks one port and starts its server there several times, as the C1_W1 lab does."""
    import urllib.request

    _write(tmp_path, "hello", HELLO_APP)
    with serving.serve("hello:app", tmp_path, timeout=20) as first:
        with urllib.request.urlopen(first.url + "/") as response:
            assert response.read() == b"hello"
    assert not serving.port_in_use(first.port)  # connections left in TIME_WAIT do not hold the port
    with serving.serve("hello:app", tmp_path, port=first.port, timeout=20) as second:
        assert second.port == first.port and second.running


def test_serve_stops_the_server_when_the_body_raises(tmp_path, no_leftovers):
    _write(tmp_path, "hello", HELLO_APP)
    with pytest.raises(KeyError, match="a failing cell"):
        with serving.serve("hello:app", tmp_path, timeout=20) as server:
            pid = server.process.pid
            raise KeyError("a failing cell")
    assert server.returncode is not None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


# --- serve: bad input --------------------------------------------------------------------------------

def test_serve_refuses_a_port_in_use(tmp_path, no_leftovers):
    _write(tmp_path, "hello", HELLO_APP)
    with socket.socket() as sock:
        sock.bind((serving.HOST, 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(serving.ServerError, match=f"port {port} on 127.0.0.1 is already in use.*port=None"):
            with serving.serve("hello:app", tmp_path, port=port, timeout=5):
                pytest.fail("the block must not run")


def test_serve_reports_a_server_that_crashes_on_start(tmp_path, no_leftovers):
    _write(tmp_path, "broken", CRASHING_APP)
    with pytest.raises(serving.ServerError) as info, serving.serve("broken:app", tmp_path, timeout=20):
        pytest.fail("the block must not run")
    message = str(info.value)
    assert "exited with code" in message
    assert "the model file is missing" in message  # the tail of the server's log


def test_serve_reports_a_missing_attribute(tmp_path, no_leftovers):
    _write(tmp_path, "hello", HELLO_APP)
    with pytest.raises(serving.ServerError, match='exited with code(?s:.*)Attribute "nothing_here" not found'):
        with serving.serve("hello:nothing_here", tmp_path, timeout=20):
            pytest.fail("the block must not run")


def test_serve_gives_up_on_a_server_that_never_becomes_healthy(tmp_path, no_leftovers):
    # On a loaded machine uvicorn may not even listen within the 5 s: the last failure is then a refused
    # connection rather than the 503, so the message is checked for what holds either way.
    _write(tmp_path, "sick", UNHEALTHY_APP)
    with pytest.raises(serving.ServerError, match=r"did not answer with a 2xx status within 5 s \(last: "):
        with serving.serve("sick:app", tmp_path, timeout=5):
            pytest.fail("the block must not run")


def test_wait_until_healthy_reports_the_last_status_of_a_running_server(tmp_path, no_leftovers):
    """Event-based: the server is first waited for (on a path that answers 200), then the sick path is polled."""
    _write(tmp_path, "sick", UNHEALTHY_APP.replace("await send({\"type\": \"http.response.start\", \"status\": 503",
                                                   "await send({\"type\": \"http.response.start\", "
                                                   "\"status\": 200 if scope[\"path\"] == \"/ready\" else 503"))
    with serving.serve("sick:app", tmp_path, health_path="/ready", timeout=120) as server:
        with pytest.raises(serving.ServerError, match=r"within 3 s \(last: HTTP 503\)"):
            serving.wait_until_healthy(server.url + "/", timeout=3, process=server.process)


@pytest.mark.parametrize("app", ["hello", "hello:", ":app", "", None, 3])
def test_serve_rejects_a_malformed_import_string(tmp_path, app):
    with pytest.raises(ValueError, match="module:attribute"), serving.serve(app, tmp_path):
        pass


def test_serve_rejects_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"), serving.serve("app:app", tmp_path / "missing"):
        pass


@pytest.mark.parametrize("kwargs, match", [
    ({"timeout": 0}, "timeout must be a finite number above 0, got 0"),
    ({"timeout": "10"}, "timeout must be a finite number above 0, got '10'"),
    ({"port": 99999}, "port must be an int from 1 to 65535 .*, got 99999"),
    ({"health_path": "health"}, "health_path must start with '/'"),
])
def test_serve_rejects_bad_arguments(tmp_path, kwargs, match):
    _write(tmp_path, "hello", HELLO_APP)
    with pytest.raises(ValueError, match=match), serving.serve("hello:app", tmp_path, **kwargs):
        pass


# --- the smaller pieces ------------------------------------------------------------------------------

def test_wait_until_healthy_times_out_when_nothing_listens():
    url = f"http://127.0.0.1:{serving.free_port()}/"
    with pytest.raises(serving.ServerError, match="did not answer with a 2xx status within 0.3 s"):
        serving.wait_until_healthy(url, timeout=0.3)


def test_stop_kills_a_process_that_ignores_sigterm(no_leftovers):
    code = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    assert serving.stop(process, timeout=0.5) == -9
    process.stdout.close()
    assert serving.stop(process) == -9  # stopping twice is harmless


def test_launch_logs_its_output_and_always_stops_the_process(tmp_path, no_leftovers):
    import os
    import time

    code = ("import os, sys, time; print(os.getcwd(), os.environ['MARK'], repr(sys.stdin.read()), flush=True); "
            "print('to stderr', file=sys.stderr, flush=True); time.sleep(60)")
    log = tmp_path / "logs" / "child.log"
    with pytest.raises(KeyError, match="a failing cell"):
        with serving.process.launch([sys.executable, "-c", code], log, env={**os.environ, "MARK": "here"},
                                    cwd=tmp_path, stop_timeout=5) as process:
            while "to stderr" not in serving.log_tail(log):
                assert process.poll() is None, serving.log_tail(log)
                time.sleep(0.05)
            raise KeyError("a failing cell")
    assert process.returncode == -15  # SIGTERM, by its own id
    assert serving.log_tail(log) == f"{tmp_path} here ''\nto stderr"  # stdin is /dev/null
    assert serving.process.log_excerpt(log, 1) == "\n--- last lines of child.log ---\nto stderr"


def test_log_tail(tmp_path):
    assert serving.log_tail(tmp_path / "missing.log") == ""
    log = tmp_path / "server.log"
    log.write_text("\n".join(f"line {i}" for i in range(30)) + "\n")
    assert serving.log_tail(log, 2) == "line 28\nline 29"
    assert serving.log_tail(log, None).count("\n") == 29


# --- check_image_pixels -------------------------------------------------------------------------------

def png_of_zeros(width: int, height: int, bits: int = 8) -> bytes:
    """A valid black greyscale PNG built with zlib: small on disk, width x height pixels once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width * bits + 7) // 8)  # a filter byte, then the pixels
    compressor = zlib.compressobj(9)
    block = row * 1000
    data = b"".join(compressor.compress(block) for _ in range(height // 1000))
    data += compressor.compress(row * (height % 1000)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bits, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    """20,000 x 20,000 8-bit pixels of zeros: about 390 KB on disk, 400 MB (1.2 GB in colour) decoded."""
    data = png_of_zeros(20_000, 20_000)
    assert 300_000 < len(data) < 500_000
    return data


def test_png_of_zeros_is_a_real_png():
    import cv2
    import numpy as np

    for bits in (1, 8):
        image = cv2.imdecode(np.frombuffer(png_of_zeros(300, 200, bits), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (200, 300, 3) and not image.any()


def test_check_image_pixels_reads_the_size_without_decoding(huge_png):
    from PIL import Image

    assert serving.check_image_pixels(png_of_zeros(300, 200), 60_000) == (300, 200)
    assert serving.check_image_pixels(bytearray(png_of_zeros(300, 200)), 60_000) == (300, 200)
    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(serving.ImageTooLarge) as info:
        serving.check_image_pixels(huge_png, 25_000_000)
    error = info.value
    assert isinstance(error, ValueError) and error.status_code == 413
    assert (error.width, error.height, error.max_pixels) == (20_000, 20_000, 25_000_000)
    assert "20,000 x 20,000 = 400,000,000 pixels, over the limit of 25,000,000 pixels" in str(error)
    assert Image.MAX_IMAGE_PIXELS == limit  # Pillow's own guard is back in place
    with pytest.raises(serving.ImageTooLarge, match="over the limit of 59,999 pixels"):
        serving.check_image_pixels(png_of_zeros(300, 200), 59_999)


def test_check_image_pixels_reads_jpeg_headers():
    import cv2
    import numpy as np

    ok, jpeg = cv2.imencode(".jpg", np.zeros((40, 70, 3), np.uint8))
    assert serving.check_image_pixels(jpeg.tobytes(), 10_000) == (70, 40)


@pytest.mark.parametrize("data, status, match", [
    (b"", 400, "the upload is empty; send an image file"),
    (b"a text file is not an image", 415, "not an image Pillow can identify.*send a PNG, JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 10, 415, "not an image Pillow can identify"),
])
def test_check_image_pixels_rejects_what_is_no_image(data, status, match):
    with pytest.raises(serving.RequestRejected, match=match) as info:
        serving.check_image_pixels(data, 1000)
    assert info.value.status_code == status
    assert "0x" not in str(info.value)  # no object reprs in a message meant for clients


@pytest.mark.parametrize("data, max_pixels, error, match", [
    ("a str", 10, TypeError, "data must be the image's bytes, got str"),
    (None, 10, TypeError, "got NoneType"),
    (b"x", 0, ValueError, "max_pixels must be an int of at least 1, got 0"),
    (b"x", 1.5, ValueError, "max_pixels must be an int of at least 1, got 1.5"),
    (b"x", True, ValueError, "max_pixels must be an int of at least 1, got True"),
])
def test_check_image_pixels_rejects_bad_arguments(data, max_pixels, error, match):
    with pytest.raises(error, match=match):
        serving.check_image_pixels(data, max_pixels)


# --- BodyLimitMiddleware, driven directly through ASGI ------------------------------------------------

def _call(middleware, headers, chunks):
    """Run one HTTP request through an ASGI app; return (status, body, chunks read, whether the app ran)."""
    app_ran = []
    inner = middleware.app

    async def spy(scope, receive, send):
        app_ran.append(True)
        await inner(scope, receive, send)

    middleware.app = spy
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    read, sent = [], []

    async def receive():
        if messages:
            read.append(messages[0])
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(middleware(scope, receive, send))
    middleware.app = inner
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body, len(read), bool(app_ran)


async def _echo(scope, receive, send):
    """An ASGI app that answers with the length of the body it read."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


LIMIT_DETAIL = {"detail": "request body over the limit of 1000 bytes; send a smaller file/batch"}


def test_body_limit_passes_a_body_within_the_limit():
    middleware = serving.BodyLimitMiddleware(_echo, max_bytes=1000)
    assert _call(middleware, [(b"content-length", b"1000")], [b"x" * 400, b"x" * 600]) == (200, b"1000", 2, True)
    assert _call(middleware, [], [b"x" * 300] * 3) == (200, b"900", 3, True)  # chunked, no Content-Length
    assert _call(middleware, [], [b""]) == (200, b"0", 1, True)  # a GET


def _headers_of_answer(middleware, headers, chunks) -> dict:
    sent = []

    async def send(message):
        sent.append(message)

    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    asyncio.run(middleware({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive, send))
    return dict(sent[0]["headers"])


def test_body_limit_drains_an_oversized_body_then_answers_413_and_closes():
    """A client that writes its whole body before reading (requests, http.client) must be able to read the
    413: the rest of the body is read and thrown away (never passed to the app), then the connection closes."""
    middleware = serving.BodyLimitMiddleware(_echo, max_bytes=1000)
    status, body, read, app_ran = _call(middleware, [(b"Content-Length", b"4000")], [b"x" * 400] * 10)
    assert (status, json.loads(body), read, app_ran) == (413, LIMIT_DETAIL, 10, False)
    assert _headers_of_answer(middleware, [(b"content-length", b"4000")], [b"x" * 4000])[b"connection"] == b"close"
    status, body, read, app_ran = _call(middleware, [], [b"x" * 400] * 10)  # 4,000 bytes, chunked
    assert (status, json.loads(body), read, app_ran) == (413, LIMIT_DETAIL, 10, False)
    # a client that lies: a small Content-Length, a large body
    status, body, read, app_ran = _call(middleware, [(b"content-length", b"10")], [b"x" * 600] * 5)
    assert (status, read, app_ran) == (413, 5, False)


def test_body_limit_never_waits_for_more_after_the_last_part_of_an_oversized_body():
    """uvicorn may hand a small oversized body over in one message: nothing is left to drain after it."""
    parts = [{"type": "http.request", "body": b"x" * 600, "more_body": True},
             {"type": "http.request", "body": b"x" * 600, "more_body": False}]
    sent = []

    async def receive():
        assert parts, "receive() called after the body's last part: a real server would wait forever"
        return parts.pop(0)

    async def send(message):
        sent.append(message)

    middleware = serving.BodyLimitMiddleware(_echo, max_bytes=1000)
    asyncio.run(middleware({"type": "http", "method": "POST", "path": "/", "headers": []}, receive, send))
    assert sent[0]["status"] == 413


def test_body_limit_answers_at_once_beyond_the_drain_bound_or_before_100_continue():
    middleware = serving.BodyLimitMiddleware(_echo, max_bytes=1000, drain_bytes=2000)
    status, _, read, app_ran = _call(middleware, [(b"content-length", b"2001")], [b"x" * 2001])
    assert (status, read, app_ran) == (413, 0, False)  # declared over the drain bound: nothing read
    status, _, read, app_ran = _call(middleware, [], [b"x" * 500] * 10)  # streamed: read up to about the bound
    assert (status, read, app_ran) == (413, 6, False)
    expect = [(b"content-length", b"1500"), (b"expect", b"100-continue")]
    status, _, read, app_ran = _call(middleware, expect, [b"x" * 1500])
    assert (status, read, app_ran) == (413, 0, False)  # the client has not sent the body: do not ask for it


def test_body_limit_refuses_numbers_json_does_not_have_unless_told_not_to():
    middleware = serving.BodyLimitMiddleware(_echo, max_bytes=1000)
    status, body, _, app_ran = _call(middleware, JSON, [b'{"x": [1, ', b'NaN]}'])
    assert (status, app_ran) == (400, False)
    assert json.loads(body)["detail"].startswith("NaN at x[1] is not a JSON number: JSON has no NaN")
    assert _call(middleware, [(b"content-type", b"text/plain")], [b"NaN"])[0] == 200  # not JSON: not checked
    permissive = serving.BodyLimitMiddleware(_echo, max_bytes=1000, finite_json=False)  # TF Serving's REST API
    assert _call(permissive, JSON, [b'{"x": [1, NaN]}']) == (200, b"15", 1, True)


@pytest.mark.parametrize("value", [b"ten", b"-5", b""])
def test_body_limit_refuses_a_malformed_content_length(value):
    middleware = serving.BodyLimitMiddleware(_echo, max_bytes=1000)
    status, body, read, app_ran = _call(middleware, [(b"content-length", value)], [b"x"])
    assert status == 400 and "Content-Length header must be a whole number" in json.loads(body)["detail"]
    assert not app_ran


def test_body_limit_lets_other_scopes_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    asyncio.run(serving.BodyLimitMiddleware(app, 10)({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]


@pytest.mark.parametrize("args, error, match", [
    ((_echo, 0), ValueError, "max_bytes must be an int of at least 1, got 0"),
    ((_echo, "5 MB"), ValueError, "max_bytes must be an int of at least 1, got '5 MB'"),
    (("app:app", 10), TypeError, "app must be an ASGI application"),
    ((_echo, 10, True, 0), ValueError, "drain_bytes must be an int of at least 1, got 0"),
    ((_echo, 10, True, 100, "detail"), TypeError, "error_body must be a callable"),
])
def test_body_limit_rejects_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        serving.BodyLimitMiddleware(*args)


# --- JSONGuardMiddleware and scan_json ---------------------------------------------------------------

JSON = [(b"content-type", b"application/json")]


def test_json_guard_passes_json_within_the_limits_and_replays_it():
    middleware = serving.JSONGuardMiddleware(_echo, max_depth=3, max_values=10)
    assert _call(middleware, JSON, [b"{\"batches\": ", b"[[1, 2], [3, 4]]}"]) == (200, b"29", 2, True)
    charset = [(b"content-type", b"application/json; charset=utf-8")]
    assert _call(middleware, charset, [b"[1]"]) == (200, b"3", 1, True)


def test_json_guard_refuses_what_is_not_json_unread():
    middleware = serving.JSONGuardMiddleware(_echo, max_depth=3, max_values=10)
    for headers in ([], [(b"content-type", b"text/plain")]):
        status, body, read, app_ran = _call(middleware, headers, [b"[1]"])
        assert (status, read, app_ran) == (415, 0, False)
        assert "the body must be JSON (Content-Type: application/json)" in json.loads(body)["detail"]


def test_json_guard_refuses_deep_or_wide_json_before_the_app_parses_it():
    middleware = serving.JSONGuardMiddleware(_echo, max_depth=3, max_values=10, advice="send at most 2 rows")
    status, body, _, app_ran = _call(middleware, JSON, [b"[[[[1]]]]"])
    assert (status, app_ran) == (400, False) and "deeper than the limit of 3 levels" in json.loads(body)["detail"]
    status, body, _, app_ran = _call(middleware, JSON, [b"[" + b"0," * 20 + b"0]"])
    assert (status, app_ran) == (400, False)
    assert json.loads(body)["detail"] == "JSON with more than the limit of 10 values; send at most 2 rows"


def test_scan_json_counts_depth_and_values_outside_strings() -> None:
    scan = serving.scan_json
    assert scan(json.dumps({"batches": [[1.5] * 13] * 10}).encode(), 8, 1000) is None
    assert "deeper than the limit of 3" in scan(b"[[[[1]]]]", 3, 100)
    assert "more than the limit of 5 values" in scan(b"[1,2,3,4,5,6]", 8, 5)
    assert scan(b'{"a": "[[[[[[[[[[,,,,,,,,,,"}', 2, 2) is None  # brackets and commas in a string
    assert scan(b'["a\\"[[[[[[", 1]', 2, 5) is None  # an escaped quote does not end the string
    assert scan(b'["a\\\\", [[[[1]]]]]', 3, 5) is not None  # an escaped backslash does
    assert scan(b"", 1, 1) is None


def test_scan_json_is_linear_on_adversarial_strings() -> None:
    import time

    start = time.perf_counter()
    serving.scan_json(b'"' + b'\\"' * 50_000, 8, 100)
    assert time.perf_counter() - start < 2


def test_json_guard_refuses_nan_infinity_and_overflow_naming_where():
    middleware = serving.JSONGuardMiddleware(_echo, max_depth=3, max_values=10)
    for raw, start in [(b'{"alcohol": Infinity}', "Infinity in field 'alcohol'"),
                       (b"1e999999", "1e999999 as the whole"),
                       (b'{"batches": [[1, -Infinity]]}', "-Infinity at batches[0][1]")]:
        status, body, _, app_ran = _call(middleware, JSON, [raw])
        assert (status, app_ran) == (400, False)
        assert json.loads(body)["detail"].startswith(start)
    assert _call(middleware, JSON, [b'{"alcohol": 1e308}'])[0] == 200


def test_json_guard_bad_arguments_name_the_problem() -> None:
    with pytest.raises(TypeError, match="body must be bytes"):
        serving.scan_json("[1]", 8, 10)
    with pytest.raises(ValueError, match="max_depth must be an int of at least 1, got 0"):
        serving.JSONGuardMiddleware(_echo, max_depth=0, max_values=10)
    with pytest.raises(ValueError, match="max_values must be an int of at least 1, got '10'"):
        serving.JSONGuardMiddleware(_echo, max_depth=8, max_values="10")
    with pytest.raises(TypeError, match="error_body must be a callable"):
        serving.JSONGuardMiddleware(_echo, max_depth=8, max_values=10, error_body=None)


def test_both_middlewares_write_their_refusals_with_the_error_body_given() -> None:
    """The default body is {"detail": ...}; a server with another shape (TF Serving's {"error": ...}) passes its own."""
    def error_body(status: int, message: str) -> bytes:
        return json.dumps({"error": message, "code": status}).encode()

    limit = serving.BodyLimitMiddleware(_echo, max_bytes=1000, error_body=error_body)
    status, body, _, app_ran = _call(limit, [], [b"x" * 1001])
    assert (status, json.loads(body), app_ran) == (413, {"error": LIMIT_DETAIL["detail"], "code": 413}, False)
    assert json.loads(_call(limit, [(b"content-length", b"ten")], [b"x"])[1])["code"] == 400
    guard = serving.JSONGuardMiddleware(_echo, max_depth=3, max_values=10, error_body=error_body)
    for headers, chunk, code in [([], b"[1]", 415), (JSON, b"[[[[1]]]]", 400), (JSON, b"[NaN]", 400)]:
        status, body, _, app_ran = _call(guard, headers, [chunk])
        assert (status, json.loads(body)["code"], app_ran) == (code, code, False)
        assert set(json.loads(body)) == {"error", "code"}
    assert serving.detail_body(413, "too big") == b'{"detail": "too big"}'


# --- the lab's detector app, served for real ---------------------------------------------------------

def _module_source(name: str) -> str:
    """The text the notebook assigns to ``name`` (DETECTOR or APP) and writes out as a module."""
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" or f"{name} = " not in source:
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]:
                return ast.literal_eval(node.value)
    raise AssertionError(f"the notebook has no cell assigning {name}")


@pytest.fixture(scope="module")
def lab_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("c1w1_app")
    (folder / "detector.py").write_text(_module_source("DETECTOR"))
    (folder / "app.py").write_text(_module_source("APP"))
    return folder


@pytest.fixture(scope="module")
def astronaut_png() -> bytes:
    import cv2
    import skimage.data

    ok, png = cv2.imencode(".png", cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    assert ok
    return png.tobytes()


@pytest.fixture(scope="module")
def lab_detector(lab_app):
    namespace: dict = {}
    exec(compile((lab_app / "detector.py").read_text(), "detector.py", "exec"), namespace)
    return namespace


def test_detector_finds_the_astronauts_face_with_both_models(lab_detector, astronaut_png):
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(astronaut_png, np.uint8), cv2.IMREAD_COLOR)
    for model in ("haar", "lbp"):
        low = lab_detector["detect"](image, model, 0.2)
        high = lab_detector["detect"](image, model, 0.7)
        assert [d["confidence"] for d in low] == sorted((d["confidence"] for d in low), reverse=True)
        assert len(high) == 1 and high[0]["confidence"] > 0.75, (model, high)
        x, y, w, h = high[0]["box"]
        assert 150 < x < 220 and 40 < y < 100 and 70 < w < 120, (model, high)  # Eileen Collins's face
        assert len(low) >= len(high)
        assert all(0 < d["confidence"] < 1 and d["label"] == "face" for d in low)
    assert lab_detector["draw"](image, high).shape == image.shape
    with pytest.raises(ValueError, match="unknown model 'dog'; choose one of \\['haar', 'lbp'\\]"):
        lab_detector["detect"](image, "dog")


def test_both_cascades_load_from_the_installed_wheels(lab_detector):
    for model, path in lab_detector["WEIGHTS"].items():
        assert path.is_file(), f"{model}: {path} is missing"
        assert not lab_detector["load"](model).empty()


def test_lab_app_answers_images_and_rejects_bad_uploads(lab_app, astronaut_png, no_leftovers):
    import requests

    with serving.serve("app:app", lab_app, timeout=30) as server:
        predict = f"{server.url}/predict"

        def post(params=None, **kwargs):
            return requests.post(predict, params={"model": "haar"} if params is None else params, timeout=30,
                                 **kwargs)

        ok = post({"model": "lbp", "confidence": 0.7}, files={"file": ("a.png", astronaut_png)})
        text = post(files={"file": ("notes.txt", b"not an image at all")})
        truncated = post(files={"file": ("cut.png", astronaut_png[:200])})
        empty = post(files={"file": ("empty.jpg", b"")})
        missing = post()
        no_model = post({}, files={"file": ("a.png", astronaut_png)})
        too_confident = post({"model": "haar", "confidence": 2}, files={"file": ("a.png", astronaut_png)})
        docs = requests.get(f"{server.url}/docs", timeout=30)

    assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
    assert ok.content.startswith(b"\x89PNG")
    assert [d["label"] for d in json.loads(ok.headers["X-Detections"])] == ["face"]
    assert text.status_code == 415 and "'notes.txt': not an image" in text.json()["detail"]
    assert truncated.status_code == 415 and "send a PNG or JPEG" in truncated.json()["detail"]
    assert empty.status_code == 400 and "is empty" in empty.json()["detail"]
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "file"]
    assert no_model.status_code == 422 and no_model.json()["detail"][0]["loc"] == ["query", "model"]
    assert too_confident.status_code == 422 and too_confident.json()["detail"][0]["loc"] == ["query", "confidence"]
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "Traceback" not in server.log()  # no request made the app fail


def test_lab_app_refuses_hostile_requests_and_stays_up(lab_app, astronaut_png, huge_png, no_leftovers):
    import requests

    limit = "request body over the limit of 5000000 bytes; send a smaller file/batch"
    big = b"x" * 6_000_000
    with serving.serve("app:app", lab_app, timeout=30) as server:
        predict = f"{server.url}/predict?model=haar"
        bomb = requests.post(predict, files={"file": ("huge.png", huge_png)}, timeout=30)
        alive_after_bomb = server.running
        after_bomb = requests.post(predict, files={"file": ("a.png", astronaut_png)}, timeout=30)
        declared = requests.post(predict, files={"file": ("big.jpg", big)}, timeout=30)
        streamed = requests.post(predict, data=(big[i:i + 500_000] for i in range(0, len(big), 500_000)), timeout=30)
        after_all = requests.post(predict, files={"file": ("a.png", astronaut_png)}, timeout=30)
        pid, alive = server.process.pid, server.running

    assert bomb.status_code == 413
    assert bomb.json() == {"detail": "'huge.png': the image is 20,000 x 20,000 = 400,000,000 pixels, over the "
                                     "limit of 25,000,000 pixels; send a smaller image (resize it first)"}
    assert alive_after_bomb and after_bomb.status_code == 200  # the same process answers the next request
    assert "content-length" in {k.lower() for k in declared.request.headers}
    assert declared.status_code == 413 and declared.json() == {"detail": limit}
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert streamed.request.headers["Transfer-Encoding"] == "chunked"
    assert streamed.status_code == 413 and streamed.json() == {"detail": limit}
    assert alive and after_all.status_code == 200 and server.returncode is not None
    assert server.log().count(f"Started server process [{pid}]") == 1  # never restarted
    assert "Traceback" not in server.log()
