"""Tests of helpers/serving/wine_service.py: the schema, the JSON guard, the Dockerfile, and a real uvicorn process
that survives every bad or hostile payload and still answers a normal request afterwards."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from helpers import serving
from helpers.serving import wine_service

ROOT = Path(__file__).resolve().parent.parent
ROW = [13.2, 1.78, 2.14, 11.2, 100.0, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050.0]
WINE = dict(zip(wine_service.FEATURES, ROW))
JSON = {"Content-Type": "application/json"}


def _train(path: Path) -> Path:
    import joblib
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_wine(return_X_y=True)
    joblib.dump(make_pipeline(StandardScaler(), RandomForestClassifier(5, random_state=0)).fit(X, y), path)
    return path


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("wine") / "wine.joblib")


@pytest.fixture(scope="module")
def server(model_path: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("wine-log") / "server.log"
    env = {"WINE_MODEL_PATH": str(model_path), "UVICORN_LIMIT_CONCURRENCY": "16"}
    with serving.serve("helpers.serving.wine_service:app", app_dir=ROOT, env=env, log_path=log, timeout=60) as running:
        yield running
    assert not running.running


def post(server: serving.Server, path: str, **kwargs) -> requests.Response:
    return requests.post(server.url + path, timeout=30, **kwargs)


# --- the schema and the guard, in-process --------------------------------------------------------------

def test_wine_schema_accepts_a_wine_and_rejects_bad_ones() -> None:
    from pydantic import ValidationError

    assert wine_service.Wine(**WINE).proline == 1050.0
    for bad in ({k: v for k, v in WINE.items() if k != "ash"}, WINE | {"ash": "high"},
                WINE | {"alcohol": -1}, WINE | {"hue": float("nan")}, WINE | {"colour": 1}):
        with pytest.raises(ValidationError):
            wine_service.Wine(**bad)
    batch = wine_service.WineBatch(batches=[ROW, ROW])
    assert len(batch.batches) == 2
    for bad in ([], [ROW[:12]], [ROW + [1.0]], [ROW] * (wine_service.MAX_BATCH + 1)):
        with pytest.raises(ValidationError):
            wine_service.WineBatch(batches=bad)


def _limits_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    code = "import helpers.serving.wine_service as w; print(w.MAX_BATCH, w.MAX_VALUES)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_limits_from_the_environment() -> None:
    assert _limits_in_a_fresh_process(WINE_MAX_BATCH="12").stdout.split() == ["12", str(12 * 13 + 64)]
    for bad in ("0", "-3", "many"):
        failed = _limits_in_a_fresh_process(WINE_MAX_BATCH=bad)
        assert failed.returncode != 0
        assert f"WINE_MAX_BATCH must be a whole number of at least 1, got {bad!r} (unset it for the default, 256)" \
            in failed.stderr, failed.stderr


# --- the real server ------------------------------------------------------------------------------------

def test_single_and_batch_predictions(server: serving.Server) -> None:
    one = post(server, "/predict", json=WINE)
    assert one.status_code == 200 and one.json()["prediction"] in (0, 1, 2)
    many = post(server, "/predict_batch", json={"batches": [ROW] * 32})
    assert many.status_code == 200
    assert many.json()["predictions"] == [one.json()["prediction"]] * 32


@pytest.mark.parametrize(("payload", "where", "message"), [
    ({k: v for k, v in WINE.items() if k != "ash"}, "ash", "Field required"),
    (WINE | {"ash": "high"}, "ash", "valid number"),
    (WINE | {"alcohol": 99}, "alcohol", "less than or equal to 20"),
])
def test_bad_wines_get_422_naming_the_field(server: serving.Server, payload: dict, where: str, message: str) -> None:
    answer = post(server, "/predict", json=payload)
    assert answer.status_code == 422
    error = answer.json()["detail"][0]
    assert error["loc"][-1] == where and message in error["msg"]


def test_empty_and_oversized_batches_are_refused(server: serving.Server) -> None:
    empty = post(server, "/predict_batch", json={"batches": []})
    assert empty.status_code == 422 and "at least 1 item" in empty.json()["detail"][0]["msg"]
    limit = wine_service.MAX_BATCH
    over = post(server, "/predict_batch", json={"batches": [ROW] * (limit + 1)})
    assert over.status_code == 422 and f"at most {limit} items" in over.json()["detail"][0]["msg"]
    far_over = post(server, "/predict_batch", json={"batches": [ROW] * (4 * limit)})
    assert far_over.status_code == 400 and f"at most {limit} wines" in far_over.json()["detail"]


def test_hostile_bodies_are_refused_before_parsing(server: serving.Server) -> None:
    deep = post(server, "/predict_batch", data=b"[" * 30_000 + b"]" * 30_000, headers=JSON)
    assert deep.status_code == 400 and f"limit of {wine_service.MAX_DEPTH} levels" in deep.json()["detail"]
    wide = post(server, "/predict_batch", data=b'{"batches": [' + b",".join([b"0"] * 40_000) + b"]}", headers=JSON)
    assert wide.status_code == 400 and f"limit of {wine_service.MAX_VALUES} values" in wide.json()["detail"]
    big = json.dumps({"batches": [ROW] * 2000}).encode()
    assert len(big) > wine_service.MAX_BODY_BYTES
    for data in (big, (big[i:i + 40_000] for i in range(0, len(big), 40_000))):  # declared, then streamed
        answer = post(server, "/predict_batch", data=data, headers=JSON)
        assert answer.status_code == 413 and str(wine_service.MAX_BODY_BYTES) in answer.json()["detail"]


def test_wrong_content_type_and_malformed_json(server: serving.Server) -> None:
    form = post(server, "/predict", data=WINE)
    assert form.status_code == 415 and "application/json" in form.json()["detail"]
    text = post(server, "/predict", data=json.dumps(WINE), headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
    broken = post(server, "/predict", data=b"{alcohol: 13", headers=JSON)
    assert broken.status_code == 422 and broken.json()["detail"][0]["type"] == "json_invalid"


def test_a_burst_is_served_or_refused_and_the_process_survives(server: serving.Server) -> None:
    pid = server.process.pid
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        codes = list(pool.map(lambda _: post(server, "/predict_batch", json={"batches": [ROW] * 64}).status_code,
                              range(128)))
    assert set(codes) <= {200, 503} and 200 in codes
    assert server.running and server.process.pid == pid


def test_after_everything_a_normal_request_still_works(server: serving.Server) -> None:
    # runs last in this module (pytest keeps definition order): same process, model loaded once
    assert post(server, "/predict", json=WINE).status_code == 200
    health = requests.get(server.url + "/", timeout=10).json()
    assert health == {"status": "ok", "model_loads": 1, "max_batch": wine_service.MAX_BATCH}


def test_a_missing_model_stops_the_server_with_a_clear_message(tmp_path: Path) -> None:
    env = {"WINE_MODEL_PATH": str(tmp_path / "nothing.joblib")}
    with pytest.raises(serving.ServerError, match="no model at WINE_MODEL_PATH"):
        with serving.serve("helpers.serving.wine_service:app", app_dir=ROOT, env=env, log_path=tmp_path / "s.log",
                           timeout=60):
            pass


# --- the Dockerfile --------------------------------------------------------------------------------------

def test_the_dockerfile_and_its_build_context(model_path: Path, tmp_path: Path) -> None:
    files = wine_service.docker_context(tmp_path / "docker", model_path)
    assert set(files) == {"Dockerfile", "requirements.txt", "helpers/", "model/wine.joblib"}
    facts = wine_service.dockerfile_facts((tmp_path / "docker" / "Dockerfile").read_text())
    assert facts["from"].startswith("python:3.") and facts["from"].endswith("-slim")
    assert facts["expose"] == [80]
    cmd = facts["cmd"]
    assert cmd[:2] == ["uvicorn", "helpers.serving.wine_service:app"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == "80"
    sources = [source for source, _ in facts["copy"]]
    assert sources[0] == "requirements.txt"  # the pip layer is cached across code changes
    assert "model/wine.joblib" in sources and facts["env"]["WINE_MODEL_PATH"] == "/app/model/wine.joblib"
    for source in sources:
        assert (tmp_path / "docker" / source).exists(), source
    pins = (tmp_path / "docker" / "requirements.txt").read_text().split()
    assert any(pin.startswith("scikit-learn==") for pin in pins) and all("==" in pin for pin in pins)
    # the service in the context imports with nothing but itself, the serving package and helpers.arguments
    assert sorted(p.name for p in (tmp_path / "docker" / "helpers").iterdir()) == ["__init__.py", "arguments.py",
                                                                                 "serving"]
    assert sorted(p.name for p in (tmp_path / "docker" / "helpers" / "serving").iterdir()) == [
        "__init__.py", "json_scan.py", "limits.py", "process.py", "wine_service.py"]
    imported = subprocess.run([sys.executable, "-c", "import helpers.serving.wine_service as w; print(w.__file__)"],
                              cwd=tmp_path / "docker", capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).resolve().is_relative_to((tmp_path / "docker").resolve())


def test_docker_helpers_refuse_bad_input(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train and save it"):
        wine_service.docker_context(tmp_path / "docker", tmp_path / "missing.joblib")
    for bad in ("", "   ", None):
        with pytest.raises(ValueError, match="non-empty text"):
            wine_service.dockerfile_facts(bad)
    facts = wine_service.dockerfile_facts("FROM python:3.11-slim\nEXPOSE 80/tcp 443\nCMD uvicorn app:app\n")
    assert facts["expose"] == [80, 443] and facts["cmd"] == ["uvicorn", "app:app"]
