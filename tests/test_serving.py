"""Tests of helpers.serving, and of the detector app that course1_intro/C1_W1_Lab_1_Deploying_a_Model.ipynb
serves with it (its source is read from the notebook, so the tests check the code the learner reads)."""

from __future__ import annotations

import ast
import json
import socket
import subprocess
import sys
import textwrap
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


def _children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def no_leftovers():
    before = {p.pid for p in _children()}
    yield
    left = [p for p in _children() if p.pid not in before]
    assert not left, f"processes left running: {[' '.join(p.cmdline()) for p in left]}"


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
    with pytest.raises(ValueError, match="port must be an int"):
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
    _write(tmp_path, "sick", UNHEALTHY_APP)
    with pytest.raises(serving.ServerError, match=r"did not answer with a 2xx status within 1.5 s \(last: HTTP 503\)"):
        with serving.serve("sick:app", tmp_path, timeout=1.5):
            pytest.fail("the block must not run")


@pytest.mark.parametrize("app", ["hello", "hello:", ":app", "", None, 3])
def test_serve_rejects_a_malformed_import_string(tmp_path, app):
    with pytest.raises(ValueError, match="module:attribute"), serving.serve(app, tmp_path):
        pass


def test_serve_rejects_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"), serving.serve("app:app", tmp_path / "missing"):
        pass


@pytest.mark.parametrize("kwargs, match", [
    ({"timeout": 0}, "timeout must be a positive number"),
    ({"timeout": "10"}, "timeout must be a positive number"),
    ({"port": 99999}, "port must be an int"),
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


def test_log_tail(tmp_path):
    assert serving.log_tail(tmp_path / "missing.log") == ""
    log = tmp_path / "server.log"
    log.write_text("\n".join(f"line {i}" for i in range(30)) + "\n")
    assert serving.log_tail(log, 2) == "line 28\nline 29"
    assert serving.log_tail(log, None).count("\n") == 29


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


def test_detector_finds_the_astronauts_face(lab_app, astronaut_png):
    import cv2
    import numpy as np

    namespace: dict = {}
    exec(compile((lab_app / "detector.py").read_text(), "detector.py", "exec"), namespace)
    image = cv2.imdecode(np.frombuffer(astronaut_png, np.uint8), cv2.IMREAD_COLOR)
    low = namespace["detect"](image, "face", 0.2)
    high = namespace["detect"](image, "face", 0.9)
    assert [d["confidence"] for d in low] == sorted((d["confidence"] for d in low), reverse=True)
    assert len(high) == 1 and high[0]["confidence"] > 0.99
    x, y, w, h = high[0]["box"]
    assert 150 < x < 220 and 40 < y < 100 and 70 < w < 120  # Eileen Collins's face
    assert len(low) > len(high)
    assert namespace["draw"](image, high).shape == image.shape
    with pytest.raises(ValueError, match="unknown model 'dog'"):
        namespace["detect"](image, "dog")


def test_lab_app_answers_images_and_rejects_bad_uploads(lab_app, astronaut_png, no_leftovers):
    import requests

    with serving.serve("app:app", lab_app, timeout=30) as server:
        predict = f"{server.url}/predict"
        ok = requests.post(predict, params={"confidence": 0.9}, files={"file": ("a.png", astronaut_png)}, timeout=30)
        text = requests.post(predict, files={"file": ("notes.txt", b"not an image at all")}, timeout=30)
        truncated = requests.post(predict, files={"file": ("cut.png", astronaut_png[:200])}, timeout=30)
        empty = requests.post(predict, files={"file": ("empty.jpg", b"")}, timeout=30)
        missing = requests.post(predict, timeout=30)
        too_confident = requests.post(predict, params={"confidence": 2},
                                      files={"file": ("a.png", astronaut_png)}, timeout=30)
        docs = requests.get(f"{server.url}/docs", timeout=30)

    assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
    assert ok.content.startswith(b"\x89PNG")
    assert [d["label"] for d in json.loads(ok.headers["X-Detections"])] == ["face"]
    assert text.status_code == 415 and "'notes.txt' is not an image" in text.json()["detail"]
    assert truncated.status_code == 415 and "send a PNG or JPEG" in truncated.json()["detail"]
    assert empty.status_code == 400 and "is empty" in empty.json()["detail"]
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "file"]
    assert too_confident.status_code == 422 and too_confident.json()["detail"][0]["loc"] == ["query", "confidence"]
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "Traceback" not in server.log()  # no request made the app fail
