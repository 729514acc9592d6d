"""Tests of helpers.monitoring (request logs, Prometheus metrics, alert rules) and helpers.serving.monitoring_app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import monitoring

FEATURES = ["age", "sex"]


def line(request_id: str = "r1", **features) -> str:
    return json.dumps({"request_id": request_id, "timestamp": 1.5, "features": {"age": 30, "sex": "Male", **features},
                       "prediction": "<=50K", "score": 0.2})


# --- parse_request_log ------------------------------------------------------------------------------------


def test_parse_request_log_reads_good_lines_from_a_file(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text(line("a") + "\n" + line("b", age=41) + "\n")
    log = monitoring.parse_request_log(path, FEATURES)
    assert log.total_lines == 2 and log.bad_lines.empty
    assert list(log.frame.columns[:4]) == ["request_id", "age", "sex", "prediction"]
    assert log.frame["age"].tolist() == [30, 41]
    assert "timestamp" in log.frame and "score" in log.frame
    assert log.summary() == "2 log lines = 2 parsed + 0 set aside"


def test_parse_request_log_sets_bad_lines_aside_with_reasons():
    lines = [
        line("ok"),
        '{"request_id": "cut", "features": {"age": 4',  # a write cut short
        "[1, 2]",
        json.dumps({"request_id": "x", "features": {"age": 1, "sex": "F"}}),
        json.dumps({"request_id": "y", "features": {"age": 1}, "prediction": "<=50K"}),
        json.dumps({"request_id": "z", "features": [1, 2], "prediction": "<=50K"}),
        json.dumps({"request_id": "w", "features": {"age": [1], "sex": "F"}, "prediction": "<=50K"}),
        "",
    ]
    log = monitoring.parse_request_log(lines, FEATURES)
    assert len(log.frame) == 1 and len(log.bad_lines) == 7 and log.total_lines == 8
    reasons = log.bad_lines.set_index("line")["reason"].to_dict()
    assert reasons[2].startswith("not JSON")
    assert reasons[3] == "a JSON list, not an object"
    assert reasons[4] == "no 'prediction' key"
    assert reasons[5] == "features lack 'sex'"
    assert "not an object" in reasons[6]
    assert "'age'" in reasons[7]
    assert reasons[8] == "an empty line"


def test_parse_request_log_all_bad_gives_an_empty_frame_with_columns():
    log = monitoring.parse_request_log(["garbage"], FEATURES)
    assert log.frame.empty and list(log.frame.columns) == ["request_id", "age", "sex", "prediction"]
    assert len(log.bad_lines) == 1


def test_parse_request_log_refuses_empty_missing_and_wrong_input(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError, match="holds no line"):
        monitoring.parse_request_log(empty, FEATURES)
    with pytest.raises(ValueError, match="holds no line"):
        monitoring.parse_request_log([], FEATURES)
    with pytest.raises(FileNotFoundError, match="no request log"):
        monitoring.parse_request_log(tmp_path / "missing.jsonl", FEATURES)
    with pytest.raises(TypeError, match="decode bytes"):
        monitoring.parse_request_log([b"{}"], FEATURES)
    with pytest.raises(TypeError, match="iterable of str"):
        monitoring.parse_request_log(42, FEATURES)
    with pytest.raises(TypeError, match="feature names"):
        monitoring.parse_request_log([line()], "age")
    with pytest.raises(TypeError, match="feature names"):
        monitoring.parse_request_log([line()], [])


# --- metrics_frame / metric_value ---------------------------------------------------------------------


def registry_text() -> str:
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    registry = CollectorRegistry()
    requests = Counter("svc_requests", "Requests.", ["endpoint", "status"], registry=registry)
    latency = Histogram("svc_latency_seconds", "Latency.", buckets=(0.1, 1.0), registry=registry)
    requests.labels(endpoint="/predict", status="200").inc(3)
    requests.labels(endpoint="/predict", status="422").inc()
    latency.observe(0.05)
    return generate_latest(registry).decode()


def test_metrics_frame_parses_counters_and_histograms_without_created():
    frame = monitoring.metrics_frame(registry_text())
    assert list(frame.columns) == ["metric", "type", "sample", "labels", "value"]
    assert not frame["sample"].str.endswith("_created").any()
    assert monitoring.metric_value(frame, "svc_requests_total") == 4
    assert monitoring.metric_value(frame, "svc_requests_total", status="200") == 3
    assert monitoring.metric_value(frame, "svc_requests_total", status="500") == 0
    assert monitoring.metric_value(frame, "svc_latency_seconds_count") == 1
    assert monitoring.metric_value(frame, "svc_latency_seconds_bucket", le="0.1") == 1


def test_metrics_frame_refuses_bad_input():
    with pytest.raises(TypeError, match="decode|str"):
        monitoring.metrics_frame(registry_text().encode())
    with pytest.raises(ValueError, match="Prometheus"):
        monitoring.metrics_frame("this is { not metrics\n")
    assert monitoring.metrics_frame("").empty
    with pytest.raises(KeyError, match="no sample named 'nope'"):
        monitoring.metric_value(monitoring.metrics_frame(registry_text()), "nope")


# --- alert rules --------------------------------------------------------------------------------------------


RULES = [
    monitoring.AlertRule("HighErrorRate", "error_rate", ">", 0.05, "sum(rate(x[5m])) > 0.05", "errors"),
    monitoring.AlertRule("InputDrift", "drift_anomalies", ">", 0, "model_drift_anomalies > 0", "drift"),
]


def test_evaluate_alerts_fires_and_stays_silent():
    quiet = monitoring.evaluate_alerts(RULES, {"error_rate": 0.0, "drift_anomalies": 0})
    assert not quiet["firing"].any()
    loud = monitoring.evaluate_alerts(RULES, {"error_rate": 0.07, "drift_anomalies": 0})
    assert loud["firing"].tolist() == [True, False]
    assert loud["condition"].tolist() == ["error_rate > 0.05", "drift_anomalies > 0"]


def test_evaluate_alerts_refuses_an_unknown_metric_and_bad_rules():
    with pytest.raises(KeyError, match="unknown metric 'drift_anomalies'.*known metrics: \\['error_rate'\\]"):
        monitoring.evaluate_alerts(RULES, {"error_rate": 0.0})
    with pytest.raises(TypeError, match="must be a number"):
        monitoring.evaluate_alerts(RULES, {"error_rate": "high", "drift_anomalies": 0})
    with pytest.raises(TypeError, match="AlertRule"):
        monitoring.evaluate_alerts([{"name": "x"}], {})
    with pytest.raises(ValueError, match="op must be one of"):
        monitoring.AlertRule("x", "m", "=>", 1, "m => 1", "s")
    with pytest.raises(TypeError, match="threshold"):
        monitoring.AlertRule("x", "m", ">", "1", "m > 1", "s")


def test_alert_rules_yaml_is_a_prometheus_rules_file():
    import yaml

    document = yaml.safe_load(monitoring.alert_rules_yaml(RULES))
    rules = document["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ["HighErrorRate", "InputDrift"]
    assert rules[1] == {"alert": "InputDrift", "expr": "model_drift_anomalies > 0", "for": "5m",
                        "labels": {"severity": "page"}, "annotations": {"summary": "drift"}}
    with pytest.raises(ValueError, match="no rules"):
        monitoring.alert_rules_yaml([])


# --- the monitored service -------------------------------------------------------------------------------


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def client(tmp_path):
    """The monitored service as a real uvicorn process, with a tiny model; a requests session at its URL."""
    import joblib
    import pandas as pd
    import requests
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from helpers import serving

    cats = ["workclass", "education", "marital_status", "occupation", "sex", "native_country"]
    frame = pd.DataFrame({"age": [20, 60, 30, 50], "hours_per_week": [20, 60, 40, 45],
                          **{c: ["a", "b", "a", "b"] for c in cats}})
    model = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cats),
                                                  remainder="passthrough"), LogisticRegression())
    model.fit(frame, [0, 1, 0, 1])
    joblib.dump(model, tmp_path / "model.joblib")
    env = {"MONITOR_MODEL_PATH": str(tmp_path / "model.joblib"), "MONITOR_LOG_PATH": str(tmp_path / "requests.jsonl")}
    with serving.serve("helpers.serving.monitoring_app:app", app_dir=ROOT, env=env, log_path=tmp_path / "server.log",
                       timeout=60) as server, requests.Session() as session:
        session.url, session.log_path = server.url, tmp_path / "requests.jsonl"
        yield session


PERSON = {"age": 39, "workclass": "a", "education": "b", "marital_status": "a", "occupation": "b", "sex": "a",
          "hours_per_week": 40, "native_country": "a"}


def test_service_logs_predictions_and_counts_every_answer(client):
    def get(path):
        return client.get(client.url + path, timeout=10)

    def post(path, **kwargs):
        return client.post(client.url + path, timeout=10, **kwargs)

    before = monitoring.metrics_frame(get("/metrics").text)

    def count(frame, **labels):
        return monitoring.metric_value(frame, "model_requests_total", endpoint="/predict", **labels)

    ok = post("/predict", json={"request_id": "t-1", **PERSON})
    assert ok.status_code == 200 and ok.json()["request_id"] == "t-1"
    assert post("/predict", json={**PERSON, "age": -1}).status_code == 422
    assert post("/predict", json={**PERSON, "colour": "red"}).status_code == 422
    assert post("/predict", data=b"x" * 5000, headers={"Content-Type": "application/json"}).status_code == 413
    assert post("/predict", data=b"age=3", headers={"Content-Type": "text/plain"}).status_code == 415
    deep = b"[" * 50 + b"]" * 50
    assert post("/predict", data=deep, headers={"Content-Type": "application/json"}).status_code == 400
    assert get("/").json()["status"] == "ok"

    after = monitoring.metrics_frame(get("/metrics").text)
    assert {status: count(after, status=status) - count(before, status=status)
            for status in ("200", "400", "413", "415", "422")} == {"200": 1, "400": 1, "413": 1, "415": 1, "422": 2}
    assert (monitoring.metric_value(after, "model_request_latency_seconds_count")
            - monitoring.metric_value(before, "model_request_latency_seconds_count")) == 6
    assert (monitoring.metric_value(after, "model_predictions_total")
            - monitoring.metric_value(before, "model_predictions_total")) == 1

    log = monitoring.parse_request_log(client.log_path, list(PERSON))
    assert log.frame["request_id"].tolist() == ["t-1"] and log.bad_lines.empty
    assert log.frame.loc[0, "prediction"] == ok.json()["prediction"]


# --- drift_skew_frame -----------------------------------------------------------------------------------


def test_drift_skew_frame_lists_measurements_and_refuses_other_objects():
    anomalies_pb2 = pytest.importorskip("tensorflow_metadata.proto.v0.anomalies_pb2")
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.drift_skew_info.add()
    info.path.step.append("age")
    measurement = info.drift_measurements.add()
    measurement.type = anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE
    measurement.value, measurement.threshold = 0.2823, 0.1
    info = anomalies.drift_skew_info.add()
    info.path.step.append("sex")
    measurement = info.skew_measurements.add()
    measurement.type = anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY
    measurement.value, measurement.threshold = 0.02, 0.1
    frame = monitoring.drift_skew_frame(anomalies)
    assert frame.to_dict("records") == [
        {"feature": "age", "check": "drift", "measure": "JENSEN_SHANNON_DIVERGENCE", "value": 0.282,
         "threshold": 0.1, "over": True},
        {"feature": "sex", "check": "skew", "measure": "L_INFTY", "value": 0.02, "threshold": 0.1, "over": False},
    ]
    assert monitoring.drift_skew_frame(anomalies_pb2.Anomalies()).empty
    with pytest.raises(TypeError, match="anomalies must be the Anomalies proto tfdv.validate_statistics returns, got"):
        monitoring.drift_skew_frame({"drift": 1})


def test_service_refuses_to_start_without_a_model(tmp_path):
    from helpers import serving

    env = {"MONITOR_MODEL_PATH": str(tmp_path / "missing.joblib"), "MONITOR_LOG_PATH": str(tmp_path / "r.jsonl")}
    with pytest.raises(serving.ServerError, match="MONITOR_MODEL_PATH must name the saved model file"):
        with serving.serve("helpers.serving.monitoring_app:app", app_dir=ROOT, env=env, log_path=tmp_path / "s.log",
                           timeout=60):
            pass


def test_service_logs_personal_fields_only_redacted(client):
    sent = {"request_id": "pii-1", **PERSON, "name": "Jane Doe", "email": "jane.doe@example.com",
            "note": "call me on 555-010-0123"}
    assert client.post(client.url + "/predict", json=sent, timeout=10).status_code == 200
    text = client.log_path.read_text()
    assert "Jane" not in text and "example.com" not in text and "555-010" not in text
    line = next(json.loads(line) for line in text.splitlines() if '"pii-1"' in line)
    assert line["client"] == {"name": "[PERSON_NAME]", "email": "[EMAIL_ADDRESS]", "note": "call me on [PHONE_NUMBER]"}
    assert set(line["features"]) == set(PERSON), "the personal fields are not model features"
