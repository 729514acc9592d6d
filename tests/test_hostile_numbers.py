"""Hostile JSON against the collection's FastAPI services, as real uvicorn processes hit by real clients:
NaN, Infinity, -Infinity and numbers that overflow a double (in objects, in arrays, bare), malformed JSON,
bodies over the size limit sent by clients that write the whole body before reading the answer, and
bursts of concurrent requests. Each gets a 4xx with a clear message, and the next valid request a 200.

The refusals live in helpers.serving (``non_finite_json``, used by ``JSONGuardMiddleware`` and
``BodyLimitMiddleware``), so the wine service and the monitoring service get them without code of their own."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
from pathlib import Path

import pytest
import requests

from helpers import serving

ROOT = Path(__file__).resolve().parent.parent
WINE_ROW = [13.2, 1.78, 2.14, 11.2, 100.0, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050.0]
PERSON = {"age": 39, "workclass": "a", "education": "b", "marital_status": "a", "occupation": "b", "sex": "a",
          "hours_per_week": 40, "native_country": "a"}
JSON = {"Content-Type": "application/json"}
NOT_IN_JSON = "JSON has no NaN, Infinity or -Infinity, and no number beyond a double's range"
HOSTILE = ["NaN", "Infinity", "-Infinity", "1e999999", "-1e400", "1" + "0" * 400]


# --- the check itself ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body, where", [
    (b'{"alcohol": NaN}', "NaN in field 'alcohol'"),
    (b'{"alcohol": Infinity}', "Infinity in field 'alcohol'"),
    (b'{"alcohol": -Infinity}', "-Infinity in field 'alcohol'"),
    (b'1e999999', "1e999999 as the whole body"),
    (b'NaN', "NaN as the whole body"),
    (b'{"batches": [[1, 2, 1e400]]}', "1e400 at batches[0][2]"),
    (b'[1, 2, -1E+999]', "-1E+999 at [2]"),
    (b'{"a b": {"c": [0, Infinity]}}', 'Infinity at ["a b"].c[1]'),
    (b'{"n": ' + b"9" * 400 + b"}", "99999999999999999999... in field 'n'"),
])
def test_non_finite_json_names_the_value_and_where_it_is(body, where):
    problem = serving.non_finite_json(body)
    assert problem == f"{where} is not a JSON number: {NOT_IN_JSON} (about 1.8e308); send a finite number"


@pytest.mark.parametrize("body", [
    b'{"alcohol": 13.2}', b'{"x": 1e308, "y": -1.7976931348623157e308, "z": 1e-400}', b'[1, 2, 3]',
    b'{"s": "NaN, Infinity and 1e999 inside a string"}', b'{"NaN": 1}', b"",
    b'{"x": NaN',  # not JSON at all: left to the app, which says so
])
def test_non_finite_json_passes_finite_json_and_leaves_broken_json_to_the_app(body):
    assert serving.non_finite_json(body) is None


def test_non_finite_json_wants_bytes():
    with pytest.raises(TypeError, match="body must be bytes"):
        serving.non_finite_json('{"a": NaN}')


# --- the services, as real processes -------------------------------------------------------------------

@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    import joblib
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folder = tmp_path_factory.mktemp("wine")
    X, y = load_wine(return_X_y=True)
    joblib.dump(make_pipeline(StandardScaler(), RandomForestClassifier(5, random_state=0)).fit(X, y),
                folder / "wine.joblib")
    env = {"WINE_MODEL_PATH": str(folder / "wine.joblib")}
    with serving.serve("helpers.serving.wine_service:app", app_dir=ROOT, env=env, log_path=folder / "server.log",
                       timeout=120) as server:
        yield server
    assert not server.running


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory):
    import joblib
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    folder = tmp_path_factory.mktemp("monitoring")
    cats = ["workclass", "education", "marital_status", "occupation", "sex", "native_country"]
    frame = pd.DataFrame({"age": [20, 60, 30, 50], "hours_per_week": [20, 60, 40, 45],
                          **{c: ["a", "b", "a", "b"] for c in cats}})
    model = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cats),
                                                  remainder="passthrough"), LogisticRegression())
    joblib.dump(model.fit(frame, [0, 1, 0, 1]), folder / "model.joblib")
    env = {"MONITOR_MODEL_PATH": str(folder / "model.joblib"), "MONITOR_LOG_PATH": str(folder / "requests.jsonl")}
    with serving.serve("helpers.serving.monitoring_app:app", app_dir=ROOT, env=env, log_path=folder / "server.log",
                       timeout=120) as server:
        yield server
    assert not server.running


def _post(server, path: str, body: str | bytes) -> requests.Response:
    return requests.post(server.url + path, data=body, headers=JSON, timeout=60)


def _refused(response: requests.Response, status: int, *phrases: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    for phrase in phrases:
        assert phrase in detail, detail


def _valid_wine() -> dict:
    from helpers.serving import wine_service

    return dict(zip(wine_service.FEATURES, WINE_ROW))


@pytest.mark.parametrize("token", HOSTILE)
def test_wine_service_refuses_numbers_json_does_not_have(wine, token):
    wine_json = json.dumps(_valid_wine())
    in_object = wine_json.replace("13.2", token, 1)
    in_batch = json.dumps({"batches": [WINE_ROW, WINE_ROW]}).replace("1.05", token, 1)
    shown = token if len(token) <= 24 else token[:20] + "..."
    _refused(_post(wine, "/predict", in_object), 400, f"{shown} in field 'alcohol'", NOT_IN_JSON)
    _refused(_post(wine, "/predict_batch", in_batch), 400, f"{shown} at batches[0][10]", NOT_IN_JSON)
    _refused(_post(wine, "/predict", token), 400, f"{shown} as the whole body", NOT_IN_JSON)
    _refused(_post(wine, "/predict_batch", f"[{token}]"), 400, f"{shown} at [0]", NOT_IN_JSON)
    assert _post(wine, "/predict", wine_json).status_code == 200  # the next valid request
    assert _post(wine, "/predict_batch", json.dumps({"batches": [WINE_ROW]})).status_code == 200


@pytest.mark.parametrize("token", HOSTILE)
def test_monitoring_service_refuses_numbers_json_does_not_have(monitoring, token):
    person = json.dumps(PERSON)
    _refused(_post(monitoring, "/predict", person.replace("39", token, 1)), 400, "in field 'age'", NOT_IN_JSON)
    _refused(_post(monitoring, "/predict", token), 400, "as the whole body", NOT_IN_JSON)
    assert _post(monitoring, "/predict", person).status_code == 200


@pytest.mark.parametrize("body", ['{"alcohol": 13.2', "{'alcohol': 13.2}", "not json", '{"alcohol": NaN'])
def test_malformed_json_is_a_4xx_and_the_services_stay_up(wine, monitoring, body):
    for server in (wine, monitoring):
        response = _post(server, "/predict", body)
        assert response.status_code in (400, 422), response.text
        assert "detail" in response.json()
    assert _post(wine, "/predict", json.dumps(_valid_wine())).status_code == 200
    assert _post(monitoring, "/predict", json.dumps(PERSON)).status_code == 200


# --- bodies over the limit, sent by clients that write everything before reading ----------------------

FIVE_MB = b"[" + b"1.5," * 1_250_000 + b"1]"


def test_a_small_streamed_body_over_the_limit_gets_its_413_at_once(wine):
    """164 KB in 50 KB chunks: the server may receive it whole in one message; the 413 must not wait for more."""
    big = json.dumps({"batches": [WINE_ROW] * 2000}).encode()
    response = requests.post(wine.url + "/predict_batch", headers=JSON, timeout=30,
                             data=(big[i:i + 50_000] for i in range(0, len(big), 50_000)))
    _refused(response, 413, "request body over the limit of 100000 bytes")


@pytest.mark.parametrize("service", ["wine", "monitoring"])
def test_a_5_mb_body_gets_its_413_not_a_connection_reset(service, request):
    server = request.getfixturevalue(service)
    declared = requests.post(server.url + "/predict", data=FIVE_MB, headers=JSON, timeout=60)
    streamed = requests.post(server.url + "/predict", headers=JSON, timeout=60,
                             data=(FIVE_MB[i:i + 65_536] for i in range(0, len(FIVE_MB), 65_536)))
    for response in (declared, streamed):
        _refused(response, 413, "request body over the limit of", "send a smaller")
        assert response.headers["connection"] == "close"
    assert streamed.request.headers["Transfer-Encoding"] == "chunked"
    body = json.dumps(_valid_wine() if service == "wine" else PERSON)
    assert _post(server, "/predict", body).status_code == 200


def test_a_5_mb_body_through_http_client(wine):
    connection = http.client.HTTPConnection(serving.HOST, wine.port, timeout=60)
    try:
        connection.request("POST", "/predict_batch", body=FIVE_MB, headers=JSON)
        response = connection.getresponse()
        assert response.status == 413 and response.getheader("Connection") == "close"
        assert "request body over the limit of 100000 bytes" in json.loads(response.read())["detail"]
    finally:
        connection.close()
    assert _post(wine, "/predict", json.dumps(_valid_wine())).status_code == 200


def test_a_body_over_the_drain_bound_is_answered_at_once(wine):
    """A declared length beyond 32 MB is not read: the 413 comes at once, before the client sends more."""
    import socket

    with socket.create_connection((serving.HOST, wine.port), timeout=30) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 67108864\r\n\r\n" + b"1" * 1000)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65_536)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 413") and b"connection: close" in head
    assert _post(wine, "/predict", json.dumps(_valid_wine())).status_code == 200


def test_a_client_waiting_for_100_continue_gets_the_413_first(wine):
    """curl sends ``Expect: 100-continue`` for large bodies: it gets the 413 without sending the body."""
    import socket

    with socket.create_connection((serving.HOST, wine.port), timeout=30) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
        answer = sock.recv(65_536)
    assert answer.lower().startswith(b"http/1.1 413") and b"connection: close" in answer.lower()


# --- bursts ----------------------------------------------------------------------------------------------

def test_a_burst_of_hostile_and_valid_requests_is_answered_and_the_services_stay_up(wine, monitoring):
    good_wine, good_person = json.dumps(_valid_wine()), json.dumps(PERSON)
    jobs = []
    for i in range(96):
        token = HOSTILE[i % len(HOSTILE)]
        jobs += [(wine, good_wine.replace("13.2", token, 1), 400), (wine, good_wine, 200),
                 (monitoring, good_person.replace("39", token, 1), 400), (monitoring, good_person, 200)]

    def send(job):
        server, body, expected = job
        return _post(server, "/predict", body).status_code, expected

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, jobs))
    assert all(status == expected or status == 503 for status, expected in answers), answers
    assert sum(status == expected for status, expected in answers) >= len(jobs) // 2
    for server in (wine, monitoring):
        assert server.running and "Traceback" not in server.log()
    assert _post(wine, "/predict", good_wine).status_code == 200
    assert _post(monitoring, "/predict", good_person).status_code == 200
