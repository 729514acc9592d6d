"""Tests of helpers.serving.tfserving (config parsing, start/stop) and of the project's TF Serving REST server
(helpers.serving.tfserving: client, app, tensors, results, reload): every endpoint, TF Serving's bodies, codes and
wording, and the refusals of hostile input. The models are tiny ``tf.Module`` SavedModels made here."""

from __future__ import annotations

import json
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import psutil
import pytest
import requests

from helpers import serving
from helpers.serving import tfserving
from helpers.serving.tfserving import results as tr
from helpers.serving.tfserving import tensors as tj
from helpers.serving.tfserving.app import Limits

CONFIG = """
model_config_list {
  config {
    name: 'half_plus_two'
    base_path: '%(base)s/half_plus_two'
    model_platform: 'tensorflow'
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: 'stable' value: 1 }
    version_labels { key: 'canary' value: 2 }
  }
  config {
    name: 'multi'
    base_path: '%(base)s/multi'
  }
}
"""


def _save_models(base) -> None:
    import tensorflow as tf

    class HalfPlusTwo(tf.Module):
        def __init__(self, a: float):
            super().__init__()
            self.a = tf.Variable(a)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def predict(self, x):
            return {"y": self.a * x + 2.0}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def regress(self, inputs):
            x = tf.io.parse_example(inputs, {"x": tf.io.FixedLenFeature([1], tf.float32)})["x"]
            return {"outputs": self.a * x + 2.0}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def classify(self, inputs):
            x = tf.io.parse_example(inputs, {"x": tf.io.FixedLenFeature([1], tf.float32)})["x"]
            return {"scores": self.a * x + 2.0}

    class Multi(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([None], tf.int64),
                                      tf.TensorSpec([None], tf.string)])
        def predict(self, signal, count, tag):
            return {"total": tf.reduce_sum(signal, axis=1), "twice": count * 2, "tag_bytes": tag}

    for version, a in [(1, 0.5), (2, 1.0), (3, 1.5)]:
        model = HalfPlusTwo(a)
        tf.saved_model.save(model, str(base / "half_plus_two" / str(version)),
                            signatures={"serving_default": model.predict, "regress_x_to_y": model.regress,
                                        "classify_x_to_y": model.classify})
    for version in (1, 2):
        model = Multi()
        tf.saved_model.save(model, str(base / "multi" / str(version)), signatures={"serving_default": model.predict})


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    base = tmp_path_factory.mktemp("models")
    _save_models(base)
    config = base / "models.config"
    config.write_text(CONFIG % {"base": base})
    return SimpleNamespace(base=base, config=config)


@pytest.fixture(scope="module")
def server(models):
    with tfserving.model_server(model_config_file=models.config, engine="helpers", timeout=120) as running:
        yield running
    _assert_stopped(running)


def _save_tf_serving_example(base) -> None:
    """TF Serving's half_plus_two laid out as in its test data: version 123 in ``00000123``, input ``x``
    declared with shape [-1, 1] (y = 0.5 x + 2)."""
    import tensorflow as tf

    class HalfPlusTwo(tf.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = tf.Variable(0.5), tf.Variable(2.0)

        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="x")])
        def predict(self, x):
            return {"y": self.a * x + self.b}

    model = HalfPlusTwo()
    tf.saved_model.save(model, str(base / "half_plus_two" / "00000123"), signatures={"serving_default": model.predict})


@pytest.fixture(scope="module")
def tf_serving_example(tmp_path_factory):
    base = tmp_path_factory.mktemp("testdata")
    _save_tf_serving_example(base)
    with tfserving.model_server("half_plus_two", base / "half_plus_two", engine="helpers", timeout=120) as running:
        yield running
    _assert_stopped(running)


def test_version_folder_with_leading_zeros_is_version_123(tf_serving_example):
    assert _get(tf_serving_example, "/v1/models/half_plus_two").json() == _status(123)
    for path in ("/v1/models/half_plus_two/versions/123", "/v1/models/half_plus_two/versions/00000123"):
        assert _get(tf_serving_example, path).json() == _status(123)
    metadata = _get(tf_serving_example, "/v1/models/half_plus_two/metadata").json()
    assert metadata["model_spec"]["version"] == "123"
    x = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]["x"]
    assert x["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}, {"size": "1", "name": ""}]
    assert "Successfully loaded servable version {name: half_plus_two version: 123}" in tf_serving_example.log()


def test_the_documented_request_gets_the_documented_answer(tf_serving_example):
    """TF Serving's Docker guide: {"instances": [1.0, 2.0, 5.0]} -> {"predictions": [2.5, 3.0, 4.5]}, although
    the signature declares shape [-1, 1]: TF Serving feeds the [3] tensor and the graph computes it."""
    for path in ("/v1/models/half_plus_two:predict", "/v1/models/half_plus_two/versions/123:predict"):
        response = requests.post(tf_serving_example.url + path, data='{"instances": [1.0, 2.0, 5.0]}', timeout=30)
        assert response.status_code == 200 and response.json() == {"predictions": [2.5, 3.0, 4.5]}
    columnar = _post(tf_serving_example, "/v1/models/half_plus_two:predict", {"inputs": {"x": [[1.0], [2.0]]}})
    assert columnar.json() == {"outputs": [[2.5], [3.0]]}
    # NaN and Infinity are valid in TF Serving's JSON: passed to the model, not refused
    response = requests.post(tf_serving_example.url + "/v1/models/half_plus_two:predict",
                             data='{"instances": [NaN, Infinity, -Infinity]}', timeout=30)
    assert response.status_code == 200 and response.text == '{"predictions": [NaN, Infinity, -Infinity]}'


def _assert_stopped(running) -> None:
    assert not running.running
    listening = [c for c in psutil.net_connections("tcp")
                 if c.laddr and c.laddr.port == running.port and c.status == psutil.CONN_LISTEN]
    assert not listening, "something still listens on the server's port"
    assert not psutil.pid_exists(running.process.pid) or \
        psutil.Process(running.process.pid).status() == psutil.STATUS_ZOMBIE


def _get(server, path):
    return requests.get(server.url + path, timeout=30)


def _post(server, path, body=None, **kwargs):
    return requests.post(server.url + path, json=body, timeout=30, **kwargs)


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    return body["error"]


# --- model status ------------------------------------------------------------------------------------

def _status(*versions):
    return {"model_version_status": [{"version": str(v), "state": "AVAILABLE",
                                      "status": {"error_code": "OK", "error_message": ""}} for v in versions]}


def test_status_of_all_served_versions_newest_first(server):
    assert server.engine == "helpers"
    assert _get(server, "/v1/models/half_plus_two").json() == _status(2, 1)


def test_status_of_a_version_and_of_a_label(server):
    assert _get(server, "/v1/models/half_plus_two/versions/1").json() == _status(1)
    assert _get(server, "/v1/models/half_plus_two/labels/canary").json() == _status(2)


def test_default_version_policy_serves_only_the_latest(server):
    assert _get(server, "/v1/models/multi").json() == _status(2)
    assert _error(_get(server, "/v1/models/multi/versions/1"), 404) == "Could not find version 1 of model multi"


def test_status_errors_use_tf_servings_wording(server):
    assert _error(_get(server, "/v1/models/nope"), 404) == "Could not find any versions of model nope"
    assert _error(_get(server, "/v1/models/half_plus_two/versions/3"), 404) == \
        "Could not find version 3 of model half_plus_two"
    assert _error(_get(server, "/v1/models/half_plus_two/labels/beta"), 400) == \
        "Unrecognized servable version label: beta"
    assert _error(_get(server, "/v1/models"), 400) == "Missing model name in request."
    assert _error(_get(server, "/v1/foo"), 400) == "Malformed request: GET /v1/foo"
    assert _error(_post(server, "/v1/models/half_plus_two/metadata"), 400).startswith("Malformed request: POST")
    assert _get(server, "/index.html").status_code == 404


# --- metadata ----------------------------------------------------------------------------------------

def test_metadata_has_tf_servings_layout(server):
    body = _get(server, "/v1/models/half_plus_two/metadata").json()
    assert body["model_spec"] == {"name": "half_plus_two", "signature_name": "", "version": "2"}
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "regress_x_to_y", "classify_x_to_y"} <= set(signatures)
    default = signatures["serving_default"]
    assert default["method_name"] == "tensorflow/serving/predict"
    x = default["inputs"]["x"]
    assert x["dtype"] == "DT_FLOAT"
    assert x["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}
    assert x["name"].endswith(":0")


def test_metadata_of_a_version_and_label_and_unknowns(server):
    assert _get(server, "/v1/models/half_plus_two/versions/1/metadata").json()["model_spec"]["version"] == "1"
    assert _get(server, "/v1/models/half_plus_two/labels/stable/metadata").json()["model_spec"]["version"] == "1"
    assert _error(_get(server, "/v1/models/nope/metadata"), 404) == "Servable not found for request: Latest(nope)"


# --- predict -----------------------------------------------------------------------------------------

def test_predict_row_and_columnar(server):
    assert _post(server, "/v1/models/half_plus_two:predict", {"instances": [1.0, 2.0, 5.0]}).json() == \
        {"predictions": [3.0, 4.0, 7.0]}
    assert _post(server, "/v1/models/half_plus_two:predict", {"inputs": [1.0, 2.0, 5.0]}).json() == \
        {"outputs": [3.0, 4.0, 7.0]}
    assert _post(server, "/v1/models/half_plus_two:predict",
                 {"signature_name": "serving_default", "instances": [3, 4]}).json() == {"predictions": [5.0, 6.0]}


def test_predict_on_a_version_and_a_label(server):
    assert _post(server, "/v1/models/half_plus_two/versions/1:predict", {"instances": [1.0]}).json() == \
        {"predictions": [2.5]}
    assert _post(server, "/v1/models/half_plus_two/labels/stable:predict", {"instances": [1.0]}).json() == \
        {"predictions": [2.5]}
    assert _post(server, "/v1/models/half_plus_two/labels/canary:predict", {"instances": [1.0]}).json() == \
        {"predictions": [3.0]}


def test_predict_writes_floats_as_tf_serving_does(server):
    response = _post(server, "/v1/models/half_plus_two/versions/2:predict", {"instances": [-1.5, -2.0, 1e-5, -1.9]})
    assert response.text == '{"predictions": [0.5, 0.0, 2.00001, 0.100000024]}'  # float32's shortest digits


def test_predict_with_named_inputs_and_outputs(server):
    rows = {"instances": [{"signal": [1, 2], "count": 3, "tag": "a"}, {"signal": [3, 4], "count": 5, "tag": "b"}]}
    assert _post(server, "/v1/models/multi:predict", rows).json() == {"predictions": [
        {"tag_bytes": {"b64": "YQ=="}, "total": 3.0, "twice": 6},
        {"tag_bytes": {"b64": "Yg=="}, "total": 7.0, "twice": 10}]}
    columns = {"inputs": {"signal": [[1, 2]], "count": [3], "tag": [{"b64": "YQ=="}]}}
    assert _post(server, "/v1/models/multi:predict", columns).json() == {"outputs": {
        "tag_bytes": [{"b64": "YQ=="}], "total": [3.0], "twice": [6]}}


def test_predict_unknown_model_version_label_signature(server):
    assert _error(_post(server, "/v1/models/half:predict", {"instances": [1.0]}), 404) == \
        "Servable not found for request: Latest(half)"
    assert _error(_post(server, "/v1/models/half_plus_two/versions/3:predict", {"instances": [1.0]}), 404) == \
        "Servable not found for request: Specific(half_plus_two, 3)"
    assert _error(_post(server, "/v1/models/half_plus_two/labels/beta:predict", {"instances": [1.0]}), 400) == \
        "Unrecognized servable version label: beta"
    assert _error(_post(server, "/v1/models/half_plus_two:predict", {"signature_name": "nope", "instances": [1]}),
                  400) == 'Serving signature name: "nope" not found in signature def'


def test_predict_malformed_json(server):
    path = "/v1/models/half_plus_two:predict"
    assert _error(_post(server, path, data=""), 400) == "JSON Parse error: The document is empty"
    assert _error(_post(server, path, data="instances = [1, 2]"), 400).startswith("JSON Parse error: Invalid value")
    assert _error(_post(server, path, data='{"instances": [1, 2}'), 400).startswith("JSON Parse error:")
    assert _error(_post(server, path, [1, 2]), 400) == "JSON Value: [1, 2] Is not object"
    assert "'signature_name' key must be a string value." in _error(_post(server, path, {"signature_name": 100}), 400)
    assert _error(_post(server, path, {"x": 1}), 400) == "Missing 'inputs' or 'instances' key"
    assert "expecting only one of 'inputs' or 'instances'" in \
        _error(_post(server, path, {"inputs": [1], "instances": [1]}), 400)
    assert "No values in 'instances' array" in _error(_post(server, path, {"instances": []}), 400)


def test_predict_wrong_dtype(server):
    message = _error(_post(server, "/v1/models/half_plus_two:predict", {"instances": ["x", "y"]}), 400)
    assert message == ("Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "
                       '"x" Type: String is not of expected type: float')
    assert "is not of expected type: int64" in \
        _error(_post(server, "/v1/models/multi:predict", {"inputs": {"signal": [[1, 2]], "count": [1.5],
                                                                      "tag": ["a"]}}), 400)
    assert "without loss of precision" in \
        _error(_post(server, "/v1/models/half_plus_two:predict", {"instances": [16777217]}), 400)


def test_a_shape_other_than_the_signatures_is_fed_to_the_model(server):
    """As TF Serving does: the declared shape ([-1] here) is not checked; the model decides."""
    path = "/v1/models/half_plus_two/versions/1:predict"
    assert _post(server, path, {"instances": [[1.0], [2.0]]}).json() == {"predictions": [[2.5], [3.0]]}
    assert _post(server, path, {"inputs": [[1.0, 2.0]]}).json() == {"outputs": [[2.5, 3.0]]}
    # the model's own failure (reduce_sum over axis 1 of a rank-1 tensor): a 400 with TensorFlow's message,
    # without the Python preamble of an eager call
    error = _error(_post(server, "/v1/models/multi:predict", {"inputs": {"signal": [1.0, 2.0], "count": [1],
                                                                          "tag": ["a"]}}), 400)
    assert "Invalid reduction dimension" in error
    assert "Graph execution error" not in error and "[Op:" not in error
    assert _post(server, "/v1/models/multi:predict", {"instances": [{"signal": [1, 2], "count": 3, "tag": "a"}]}
                 ).status_code == 200  # the server answers the next request


def test_predict_wrong_shape(server):
    path = "/v1/models/half_plus_two:predict"
    assert _error(_post(server, path, {"inputs": [[1.0, 2.0], [3.0]]}), 400) == \
        "Encountered list at unexpected size: 1 at level: 1 expected size: 2"
    assert "Expecting tensor size: 2 but got: 3" in _error(_post(server, "/v1/models/multi:predict", {"instances": [
        {"signal": [1, 2], "count": 3, "tag": "a"}, {"signal": [3, 4, 5], "count": 5, "tag": "b"}]}), 400)
    assert "must only have keys: count,signal,tag" in \
        _error(_post(server, "/v1/models/multi:predict", {"instances": [{"signal": [1, 2], "count": 3}]}), 400)
    assert "instances is a plain list" in _error(_post(server, "/v1/models/multi:predict", {"instances": [1]}), 400)


# --- classify and regress ----------------------------------------------------------------------------

def test_regress_and_classify(server):
    body = {"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}, {"x": 2.0}]}
    assert _post(server, "/v1/models/half_plus_two:regress", body).json() == {"results": [82.0, 4.0]}
    assert _post(server, "/v1/models/half_plus_two/versions/1:regress", body).json() == {"results": [42.0, 3.0]}
    body = {"signature_name": "classify_x_to_y", "context": {"x": 20.0}, "examples": [{}]}
    assert _post(server, "/v1/models/half_plus_two/labels/stable:classify", body).json() == {"results": [[["", 12.0]]]}


def test_classify_refused_where_the_signature_does_not_allow_it(server):
    message = _error(_post(server, "/v1/models/half_plus_two:classify", {"examples": [{"x": 1.0}]}), 400)
    assert message.startswith("No classification inputs found in SignatureDef:")
    assert _error(_post(server, "/v1/models/multi:regress", {"examples": [{"x": 1.0}]}), 400) == \
        "Expected one input Tensor."
    assert "key 'examples' is expected and was not found" in _error(_post(server, "/v1/models/multi:regress", {}), 400)
    assert _error(_post(server, "/v1/models/half_plus_two:regress", {"examples": [[1]]}), 400) == \
        "Example must be JSON object but got JSON Array"


# --- hostile input -----------------------------------------------------------------------------------

def test_oversized_body_is_refused_with_413(server):
    limit = Limits().max_body_bytes
    response = _post(server, "/v1/models/half_plus_two:predict", data=b" " * (limit + 1))  # the client reads it
    assert f"limit of {limit} bytes" in _error(response, 413) and response.headers["connection"] == "close"
    assert _post(server, "/v1/models/half_plus_two:predict", {"instances": [1.0]}).status_code == 200


def test_nested_and_huge_json_is_refused(server):
    path = "/v1/models/half_plus_two:predict"
    assert "nested deeper than the limit of 32 levels" in _error(_post(server, path, data="[" * 5000 + "]" * 5000), 400)
    values = Limits().max_values
    assert f"more than the limit of {values} values; send smaller batches" in \
        _error(_post(server, path, data='{"instances": [' + "0," * values + "0]}"), 400)
    # brackets and commas inside strings are no nesting and no values (the scan skips strings)
    strings = {"note": "[" * 100 + "," * values, "instances": [1.0]}  # keys TF Serving does not read are ignored
    assert _post(server, "/v1/models/half_plus_two/versions/1:predict", strings).json() == {"predictions": [2.5]}
    assert "exceeds the limit of 512 per request (max_batch)" in \
        _error(_post(server, path, {"instances": [1.0] * 513}), 400)


def test_wrong_content_type_is_refused(server):
    response = _post(server, "/v1/models/half_plus_two:predict", data=b"\x89PNG", headers={"content-type": "image/png"})
    assert "Unsupported content type 'image/png'" in _error(response, 415)
    curl_style = {"content-type": "application/x-www-form-urlencoded"}  # what `curl -d` sends; TF Serving takes it
    assert _post(server, "/v1/models/half_plus_two:predict", data='{"instances": [0]}', headers=curl_style).ok


def test_a_burst_of_concurrent_requests_is_served_and_the_server_survives(server):
    def one(i):
        return _post(server, "/v1/models/half_plus_two:predict", {"instances": [float(i)] * 8}).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        codes = list(pool.map(one, range(200)))
    assert set(codes) <= {200, 503} and codes.count(200) > 0
    assert server.running
    assert _get(server, "/v1/models/half_plus_two").status_code == 200


# --- start-up through model_name/model_base_path, small limits -----------------------------------------

def test_model_name_and_base_path_with_small_limits(models, tmp_path):
    limits = {"max_body_bytes": 200, "max_batch": 4, "max_in_flight": 1}
    with tfserving.model_server("half_plus_two", models.base / "half_plus_two", engine="helpers", timeout=120,
                                limits=limits, log_path=tmp_path / "server.log") as running:
        assert _get(running, "/v1/models/half_plus_two").json() == _status(3)  # latest only
        assert _post(running, "/v1/models/half_plus_two:predict", {"instances": [1.0]}).json() == \
            {"predictions": [3.5]}
        assert _error(_post(running, "/v1/models/half_plus_two:predict", {"instances": [1.0] * 5}), 400).endswith(
            "exceeds the limit of 4 per request (max_batch)")
        assert _error(_post(running, "/v1/models/half_plus_two:predict", data="[" + "1," * 200 + "1]"), 413)

        def one(_):
            return _post(running, "/v1/models/half_plus_two:predict", {"instances": [1.0, 2.0, 3.0]}).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(one, range(64)))
        assert set(codes) <= {200, 503} and 200 in codes
        assert running.running
    _assert_stopped(running)


def test_a_server_that_cannot_load_fails_fast_with_the_log(tmp_path):
    (tmp_path / "m" / "1").mkdir(parents=True)  # a version folder without a SavedModel
    with pytest.raises(serving.ServerError, match="saved_model.pb"):
        with tfserving.model_server("m", tmp_path / "m", engine="helpers", timeout=120):
            pass


# --- helpers without a server ------------------------------------------------------------------------

def test_parse_model_config_with_the_proto_and_with_the_fallback(models, monkeypatch):
    text = models.config.read_text()
    parsed = tfserving.parse_model_config(text)
    monkeypatch.setitem(sys.modules, "tensorflow_serving.config.model_server_config_pb2", None)
    assert tfserving.parse_model_config(text) == parsed
    first, second = parsed
    assert (first.name, first.version_policy, first.version_labels) == \
        ("half_plus_two", ("specific", [1, 2]), {"stable": 1, "canary": 2})
    assert (second.name, second.version_policy) == ("multi", ("latest", 1))


def test_fallback_parser_reads_the_other_spellings(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_serving.config.model_server_config_pb2", None)
    text = textwrap.dedent("""
        # a comment
        model_config_list: {
          config: { name: "a", base_path: "/m/a", model_version_policy: { all: {} } },
          config < name: "b" base_path: "/m/b" model_version_policy { latest { num_versions: 2 } } >
        }""")
    a, b = tfserving.parse_model_config(text)
    assert a.version_policy == ("all", None) and b.version_policy == ("latest", 2)


@pytest.mark.parametrize("fallback", [False, True])
@pytest.mark.parametrize("text, match", [
    ("model_config_list { config { name: 'a' }", "not valid text protobuf|not closed"),
    ("model_config_list { config { base_path: '/x' } }", "has no name"),
    ("model_config_list { config { name: 'a' } }", "has no base_path"),
    ("model_config_list { }", "lists no model"),
    ("model_config_list { config { name: 'a' base_path: '/x' model_platform: 'pytorch' } }", "is not served"),
    ("model_config_list { config { name: 'a' base_path: '/x' } config { name: 'a' base_path: '/y' } }",
     "more than once"),
    ("model_config_list { config { name: 'a' base_path: '/x' } } ?", "not valid text protobuf"),
])
def test_parse_model_config_rejects_bad_configs(text, match, fallback, monkeypatch):
    if fallback:
        monkeypatch.setitem(sys.modules, "tensorflow_serving.config.model_server_config_pb2", None)
    with pytest.raises(ValueError, match=match):
        tfserving.parse_model_config(text)


def test_parse_model_config_rejects_wrong_types_and_missing_files(tmp_path):
    with pytest.raises(TypeError, match="a str"):
        tfserving.parse_model_config(b"model_config_list {}")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tfserving.read_model_config(tmp_path / "nope.config")


def test_model_versions(tmp_path):
    for name in ("10", "2", "tmp", "3.bak", "00000123"):
        (tmp_path / name).mkdir()
    assert tfserving.model_versions(tmp_path) == [2, 10, 123]
    assert tfserving.version_folders(tmp_path)[123] == tmp_path / "00000123"
    (tmp_path / "0002").mkdir()
    with pytest.raises(ValueError, match="'0002' and '2' .* both name version 2"):
        tfserving.version_folders(tmp_path)
    with pytest.raises(FileNotFoundError, match="export a SavedModel"):
        tfserving.model_versions(tmp_path / "missing")


def test_model_server_rejects_bad_arguments(tmp_path, models):
    with pytest.raises(ValueError, match="engine must be one of"):
        with tfserving.model_server("m", tmp_path, engine="docker"):
            pass
    with pytest.raises(ValueError, match="not both"):
        with tfserving.model_server("m", tmp_path, model_config_file=models.config):
            pass
    with pytest.raises(ValueError, match="model_name must be"):
        with tfserving.model_server("a/b", tmp_path):
            pass
    with pytest.raises(ValueError, match="model_base_path is required"):
        with tfserving.model_server("m"):
            pass
    with pytest.raises(FileNotFoundError, match="no numbered version folder"):
        with tfserving.model_server("m", tmp_path):
            pass


def test_engine_tensorflow_model_server_needs_the_binary(models, monkeypatch):
    monkeypatch.setattr(tfserving.client, "find_model_server", lambda: None)
    with pytest.raises(FileNotFoundError, match="is not on PATH"):
        with tfserving.model_server("half_plus_two", models.base / "half_plus_two", engine="tensorflow_model_server"):
            pass


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("TFSERVING_MAX_BATCH", "7")
    assert Limits.from_env().max_batch == 7
    assert Limits.from_env().max_depth == Limits().max_depth  # unset: the default
    for bad in ("-1", "0", "many"):
        monkeypatch.setenv("TFSERVING_MAX_BATCH", bad)
        with pytest.raises(ValueError, match=f"TFSERVING_MAX_BATCH must be a whole number of at least 1, got '{bad}' "
                                             r"\(unset it for the default, 512\)"):
            Limits.from_env()


def test_json_mapping_without_a_server():
    info = SimpleNamespace(dtype=1)
    assert tj.fill_tensor([[1, 2], [3, 4]], 1) == ([2, 2], [1, 2, 3, 4])
    with pytest.raises(tj.ServingError, match="found at incorrect level: 2"):
        tj.fill_tensor([[1, 2], 3], 1)
    with pytest.raises(tj.ServingError, match="Type: Null is not of expected type: float"):
        tj.fill_tensor([None], 1)
    with pytest.raises(tj.ServingError, match="not formatted correctly for base64"):
        tj.fill_tensor([{"b64": 1}], 7)
    assert tj.fill_tensor([{"b64": "YQ=="}], 7) == ([1], [b"a"])
    assert tj._batch([[1.0], [2.0]], info, None).dtype == np.float32
    assert tr.tensor_text(np.array([0.1, 1e10, float("nan"), -float("inf")], np.float32)) == \
        "[0.1, 1e+10, NaN, -Infinity]"
    assert tr.tensor_text(np.array([[True], [False]])) == "[[true], [false]]"
    assert json.loads(tj.error_body('say "hi"\n')) == {"error": 'say "hi"\n'}
    limits = Limits()
    with pytest.raises(tj.ServingError, match="Is not object"):
        tj.parse_request(b"[1]", limits)
    assert tj.parse_request(b'{"instances": [NaN, Infinity]}', limits)["instances"][1] == float("inf")
    assert tj.parse_request(b'{"a": "[[[[[[", "b": "\\"]]]]"}', Limits(max_depth=1))["b"] == '"]]]]'
    with pytest.raises(tj.ServingError, match="deeper than the limit of 1 levels"):
        tj.parse_request(b'{"a": ["[[["]}', Limits(max_depth=1))
    with pytest.raises(tj.ServingError, match="more than the limit of 2 values; send smaller batches"):
        tj.parse_request(b'{"a": 1, "b": 2, "c": ","}', Limits(max_values=2))
    # the parse error names the container the missing comma is in, whatever brackets the strings hold
    with pytest.raises(tj.ServingError, match="Missing a comma or '}' after an object member"):
        tj.parse_request(b'{"a": "[[" "b": 1}', limits)
    with pytest.raises(tj.ServingError, match="Missing a comma or ']' after an array element"):
        tj.parse_request(b'["{\\"{" 1]', limits)


def test_the_app_checks_the_body_size_itself_without_the_middleware():
    import asyncio

    from helpers.serving.tfserving import app as tfserving_app

    app = tfserving_app.TFServingApp(tfserving_app.Registry({}, {}), Limits(max_body_bytes=10))  # no middleware
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"x" * 11, "more_body": False}

    async def send(message):
        sent.append(message)

    for headers in ([(b"content-length", b"11")], []):  # declared, and counted while streaming
        sent.clear()
        scope = {"type": "http", "method": "POST", "path": "/v1/models/m:predict", "headers": headers}
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 413
        assert "limit of 10 bytes" in json.loads(sent[1]["body"])["error"]


# --- re-reading the model config file while the server runs (--model_config_file_poll_wait_seconds) -------

def _config(base, versions=(1, 2), **labels) -> str:
    lines = [f"    version_labels {{ key: '{key}' value: {value} }}" for key, value in labels.items()]
    return textwrap.dedent(f"""\
        model_config_list {{
          config {{
            name: 'half_plus_two'
            base_path: '{base}/half_plus_two'
            model_version_policy {{ specific {{ {' '.join(f'versions: {v}' for v in versions)} }} }}
        """) + "\n".join(lines) + "\n  }\n}\n"


def _rewrite(path, text: str) -> None:
    """Replace a config file in one atomic step, so the polling server never reads it half-written."""
    import os

    draft = path.with_suffix(".draft")
    draft.write_text(text)
    os.replace(draft, path)


def _wait_for(check, timeout: float = 30.0):
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server did not pick up the new config in time"
        time.sleep(0.2)


def test_a_rewritten_config_is_applied_without_a_restart(models, tmp_path):
    config = tmp_path / "models.config"
    _rewrite(config, _config(models.base, (1, 2), stable=1, canary=2))
    path = "/v1/models/half_plus_two"
    with tfserving.model_server(model_config_file=config, engine="helpers", timeout=120, poll_wait_seconds=1,
                                log_path=tmp_path / "server.log") as running:
        pid = running.process.pid
        assert _post(running, path + "/labels/stable:predict", {"instances": [2.0]}).json() == {"predictions": [3.0]}
        assert _error(_post(running, path + "/versions/3:predict", {"instances": [2.0]}), 404) == \
            "Servable not found for request: Specific(half_plus_two, 3)"

        # a label on a version that is not loaded yet: refused, the previous config keeps serving
        _rewrite(config, _config(models.base, (1, 2, 3), stable=1, canary=3))
        _wait_for(lambda: "Request to assign label to version 3 of model half_plus_two" in running.log())
        assert "PollFilesystemAndReloadConfig failed to ReloadConfig: Request to assign label to version 3 of " \
            "model half_plus_two, which is not currently available for inference\n" in running.log()  # TF's words
        assert "[this server's own note, not a TF Serving log line] still serving the previous config" in running.log()
        assert _get(running, path).json() == _status(2, 1)
        assert _get(running, path + "/labels/canary").json() == _status(2)

        # step 1 of a rollout: serve version 3, drop version 1 and the canary label
        _rewrite(config, _config(models.base, (2, 3), stable=2))
        _wait_for(lambda: _get(running, path).json() == _status(3, 2))
        assert _error(_post(running, path + "/versions/1:predict", {"instances": [2.0]}), 404) == \
            "Servable not found for request: Specific(half_plus_two, 1)"
        assert _error(_post(running, path + "/labels/canary:predict", {"instances": [2.0]}), 400) == \
            "Unrecognized servable version label: canary"
        assert _post(running, path + "/labels/stable:predict", {"instances": [2.0]}).json() == {"predictions": [4.0]}

        # step 2: label the loaded version 3 canary, then move stable onto it
        _rewrite(config, _config(models.base, (2, 3), stable=2, canary=3))
        _wait_for(lambda: _get(running, path + "/labels/canary").status_code == 200)
        assert _post(running, path + "/labels/canary:predict", {"instances": [2.0]}).json() == {"predictions": [5.0]}
        _rewrite(config, _config(models.base, (2, 3), stable=3, canary=3))
        _wait_for(lambda: _get(running, path + "/labels/stable").json() == _status(3))
        assert _post(running, path + "/labels/stable:predict", {"instances": [2.0]}).json() == {"predictions": [5.0]}
        assert running.process.pid == pid and running.running  # the same process: no restart
    _assert_stopped(running)


def test_without_polling_the_config_file_is_read_once(models, tmp_path):
    config = tmp_path / "models.config"
    _rewrite(config, _config(models.base, (1, 2), stable=1))
    with tfserving.model_server(model_config_file=config, engine="helpers", timeout=120,
                                log_path=tmp_path / "server.log") as running:
        _rewrite(config, _config(models.base, (1, 2), stable=2))
        import time

        time.sleep(1.5)
        assert _get(running, "/v1/models/half_plus_two/labels/stable").json() == _status(1)
    _assert_stopped(running)


def test_poll_wait_seconds_is_checked(models, tmp_path):
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="poll_wait_seconds must be a whole number"):
            with tfserving.model_server(model_config_file=models.config, poll_wait_seconds=bad):
                pass
    with pytest.raises(ValueError, match="poll_wait_seconds needs model_config_file"):
        with tfserving.model_server("half_plus_two", models.base / "half_plus_two", poll_wait_seconds=1):
            pass


def test_poll_seconds_from_the_environment(monkeypatch):
    from helpers.serving.tfserving import reload as tfserving_reload

    monkeypatch.delenv(tfserving_reload.POLL_ENV, raising=False)
    assert tfserving_reload.poll_seconds() is None
    for raw, seconds in [("0", None), ("2", 2.0), (" 0.5 ", 0.5)]:
        monkeypatch.setenv(tfserving_reload.POLL_ENV, raw)
        assert tfserving_reload.poll_seconds() == seconds
    for raw, match in [("soon", "must be a number of seconds"), ("-3", "must be 0 or more")]:
        monkeypatch.setenv(tfserving_reload.POLL_ENV, raw)
        with pytest.raises(ValueError, match=match):
            tfserving_reload.poll_seconds()


def test_reload_registry_reuses_loaded_versions(models):
    from helpers.serving.tfserving import reload as tfserving_reload
    from helpers.serving.tfserving.app import load_registry

    def parsed(versions, **labels):
        return tfserving.parse_model_config(_config(models.base, versions, **labels))

    first = load_registry(parsed((1, 2), stable=1))
    second = tfserving_reload.reload_registry(first, parsed((2, 3), stable=2))
    assert sorted(second.models["half_plus_two"]) == [2, 3]
    assert second.models["half_plus_two"][2] is first.models["half_plus_two"][2]  # not loaded again
    assert second.labels == {"half_plus_two": {"stable": 2}}
    with pytest.raises(RuntimeError, match="^Request to assign label to version 3 of model half_plus_two, which is "
                                           "not currently available for inference$"):
        tfserving_reload.reload_registry(first, parsed((1, 2, 3), stable=3))
    with pytest.raises(RuntimeError, match="version 4"):
        tfserving_reload.reload_registry(None, parsed((1,), stable=4))
