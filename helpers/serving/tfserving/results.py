"""The answers of this project's model server (``helpers.serving.tfserving.app``), and its classify/regress requests.

``:predict`` answers ``{"predictions": ...}`` (row request) or ``{"outputs": ...}`` (columnar), with floats in
their shortest round-tripping form, ``NaN``/``Infinity`` tokens and ``{"b64": ...}`` for ``*_bytes`` outputs.
``:classify`` and ``:regress`` take a list of ``tf.train.Example``s in JSON (``examples``, with an optional
shared ``context``), run a signature whose one input, ``inputs``, is a batch of serialized Examples, and
answer ``{"results": ...}``. The checks and wording follow TF Serving's ``json_tensor.cc``, ``classifier.cc``
and ``regressor.cc``. TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np

from helpers.serving.tfserving import tensors as tj


def _float_text(value: float, digits: int, kind) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = f"{value:g}"
    if kind(text) != kind(value):
        text = f"{value:.{digits}g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def tensor_text(array: np.ndarray, name: str = "") -> str:
    """A tensor as TF Serving writes it: nested lists, floats in their shortest round-tripping form.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    array = np.asarray(array)
    kind = array.dtype.kind
    if kind == "f":
        digits, cast = (9, np.float32) if array.dtype.itemsize <= 4 else (17, float)

        def scalar(v):
            return _float_text(v, digits, cast)
    elif kind == "b":
        def scalar(v):
            return "true" if v else "false"
    elif kind in "iu":
        scalar = str
    else:
        as_bytes = name.endswith("_bytes")

        def scalar(v):
            raw = v if isinstance(v, bytes) else str(v).encode()
            if as_bytes:
                return '{"b64": "' + base64.b64encode(raw).decode() + '"}'
            return json.dumps(raw.decode("utf-8", errors="replace"))

    def text(item) -> str:
        if isinstance(item, list):
            return "[" + ", ".join(text(x) for x in item) + "]"
        return scalar(item)

    return text(array.tolist() if kind != "O" else array.tolist())


def predict_response(outputs: dict, row: bool) -> bytes:
    """The body of a ``:predict`` answer: ``predictions`` (row request) or ``outputs`` (columnar).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    if not outputs:
        raise tj.invalid("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    if not row:
        if len(names) == 1:
            return ('{"outputs": ' + tensor_text(outputs[names[0]], names[0]) + "}").encode()
        parts = [json.dumps(n) + ": " + tensor_text(outputs[n], n) for n in names]
        return ('{"outputs": {' + ", ".join(parts) + "}}").encode()
    batch = 0
    for name in names:
        array = outputs[name]
        if array.ndim == 0:
            raise tj.invalid(f"Tensor name: {name} has no shape information ")
        if array.shape[0] < 1:
            raise tj.invalid(f"Tensor name: {name} has invalid batch size: {array.shape[0]}")
        if batch and array.shape[0] != batch:
            raise tj.invalid(f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} expecting: {batch}")
        batch = array.shape[0]
    if len(names) == 1:
        items = [tensor_text(outputs[names[0]][i], names[0]) for i in range(batch)]
    else:
        items = ["{" + ", ".join(json.dumps(n) + ": " + tensor_text(outputs[n][i], n) for n in names) + "}"
                 for i in range(batch)]
    return ('{"predictions": [' + ", ".join(items) + "]}").encode()


def example_inputs(doc: dict, verb: str, signature_defs: dict, name: str, limits) -> tuple[str, dict]:
    """The serialized ``tf.train.Example`` input of a ``:classify``/``:regress`` request, TF Serving's checks.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    import tensorflow as tf
    from google.protobuf import text_format

    context = _features(doc["context"]) if "context" in doc else {}
    if "examples" not in doc:
        raise tj.invalid(f"JSON Value: {tj.quote(doc)} When method is classify, key 'examples' is expected and "
                         "was not found")
    examples = doc["examples"]
    if not isinstance(examples, list):
        raise tj.invalid(f"JSON Value: {tj.quote(doc)} Expecting 'examples' value to be an list/array")
    if not examples:
        raise tj.invalid(f"JSON Value: {tj.quote(doc)} 'examples' value is an empty array")
    if len(examples) > limits.max_batch:
        raise tj.invalid(f"Batch of {len(examples)} examples exceeds the limit of {limits.max_batch} per request "
                         "(max_batch)")
    parsed = [{**context, **_features(example)} for example in examples]
    key = name or tj.DEFAULT_SIGNATURE
    if key not in signature_defs:
        raise tj.invalid(f"No signature was found with the name: {key}")
    signature = signature_defs[key]
    debug = text_format.MessageToString(signature)
    if len(signature.inputs) != 1:
        raise tj.invalid("Expected one input Tensor.")
    if verb == "classify":
        if len(signature.outputs) not in (1, 2):
            raise tj.invalid(f"Expected one or two output Tensors, found {len(signature.outputs)}")
        if "inputs" not in signature.inputs:
            raise tj.invalid(f"No classification inputs found in SignatureDef: {debug}")
        if "classes" not in signature.outputs and "scores" not in signature.outputs:
            raise tj.invalid('Expected classification signature outputs to contain at least one of "classes" or '
                             f'"scores". Signature was: {debug}')
    else:
        if len(signature.outputs) != 1:
            raise tj.invalid("Expected one output Tensor.")
        if "inputs" not in signature.inputs:
            raise tj.invalid(f"No regression inputs found in SignatureDef: {debug}")
        if "outputs" not in signature.outputs:
            raise tj.invalid(f"No regression outputs found in SignatureDef: {debug}")
    serialized = []
    for features in parsed:
        feature = {}
        for fname, (kind, values) in features.items():
            if kind == "float":
                feature[fname] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
            elif kind == "int64":
                feature[fname] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
            else:
                feature[fname] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        serialized.append(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    array = tj._array(serialized, [len(serialized)], 7)
    return key, {"inputs": array}


def _features(example) -> dict:
    if not isinstance(example, dict):
        raise tj.invalid(f"Example must be JSON object but got JSON {tj.json_type(example)}")
    features = {}
    for fname, content in example.items():
        kind, values = None, []
        for value in content if isinstance(content, list) else [content]:
            if value is None or isinstance(value, list) or (isinstance(value, dict) and not tj._is_b64(value)):
                raise tj.invalid(f"Feature: {fname} has element with unexpected JSON type: {tj.json_type(value)}")
            if isinstance(value, bool):
                this, item = "int64", int(value)
            elif isinstance(value, dict):
                this, item = "bytes", tj._scalar(value, 7)
            elif isinstance(value, str):
                this, item = "bytes", value.encode()
            elif isinstance(value, float):
                this, item = "float", tj._scalar(value, 1)
            else:
                if value > 2**63 - 1:
                    raise tj.invalid(f"Feature: {fname} has uint64 element. Only int64 is supported.")
                this, item = "int64", value
            if kind not in (None, this):
                raise tj.invalid(f"Unexpected element type in feature: {fname} expecting type: {kind}")
            kind = this
            values.append(item)
        features[fname] = (kind or "float", values)
    return features


def results_response(verb: str, outputs: dict, signature, batch: int) -> bytes:
    """The body of a ``:classify`` (label/score pairs) or ``:regress`` (one value each) answer.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    def check(array, what: str):
        if array.ndim != 2:
            raise tj.invalid(f"Expected Tensor shape: [batch_size num_classes] but got {list(array.shape)}")
        if array.shape[0] != batch:
            raise tj.invalid(f"Expected {what} output batch size of {batch}. Got: {array.shape[0]}")
        return array

    if verb == "regress":
        values = outputs["outputs"]
        if values.shape not in ((batch,), (batch, 1)):
            raise tj.invalid(f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
                             f"{list(values.shape)}")
        return ('{"results": ' + tensor_text(values.reshape(batch).astype("float32")) + "}").encode()
    classes = check(outputs["classes"], "classes") if "classes" in outputs else None
    scores = check(outputs["scores"], "scores") if "scores" in outputs else None
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise tj.invalid(f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. "
                         f"{scores.shape[1]}")
    num = (classes if classes is not None else scores).shape[1]
    rows = []
    for i in range(batch):
        pairs = []
        for c in range(num):
            label = classes[i, c] if classes is not None else b""
            label = label.decode("utf-8", "replace") if isinstance(label, bytes) else str(label)
            score = tensor_text(scores[i:i + 1, c].astype("float32"))[1:-1] if scores is not None else "0.0"
            pairs.append("[" + json.dumps(label) + ", " + score + "]")
        rows.append("[" + ", ".join(pairs) + "]")
    return ('{"results": [' + ", ".join(rows) + "]}").encode()


def metadata_json(name: str, version: int, signature_defs: dict) -> dict:
    """The ``GetModelMetadataResponse`` JSON: model spec and the SignatureDefMap, in TF Serving's layout.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    from helpers.serving.tfserving.tensors import DTYPES

    def tensor_info(info) -> dict:
        shape = info.tensor_shape
        out = {"dtype": _dtype_name(info.dtype, DTYPES),
               "tensor_shape": {"dim": [{"size": str(d.size), "name": d.name} for d in shape.dim],
                                "unknown_rank": shape.unknown_rank}}
        if info.WhichOneof("encoding") == "name":
            out["name"] = info.name
        return out

    signatures = {key: {"inputs": {k: tensor_info(v) for k, v in sorted(sig.inputs.items())},
                        "outputs": {k: tensor_info(v) for k, v in sorted(sig.outputs.items())},
                        "method_name": sig.method_name, "defaults": {}}
                  for key, sig in sorted(signature_defs.items())}
    return {"model_spec": {"name": name, "signature_name": "", "version": str(version)},
            "metadata": {"signature_def": {"signature_def": signatures}}}


def _dtype_name(dtype: int, known: dict) -> str:
    try:
        from tensorflow.core.framework import types_pb2

        return types_pb2.DataType.Name(dtype)
    except (ImportError, ValueError):
        return "DT_" + known.get(dtype, ("INVALID",))[0].upper()


def model_error(message: str) -> str:
    """The message of a model's own failure as TF Serving passes it on: the op's error and its node, without
    the Python preamble of an eager call ("Graph execution error: ... <stack traces unavailable>") and the
    trailing ``[Op:__inference_...]``.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    text = message.strip()
    if "<stack traces unavailable>" in text:
        text = text.split("<stack traces unavailable>", 1)[1].strip()
    elif text.startswith("Graph execution error:"):
        text = text[len("Graph execution error:"):].strip()
    return re.sub(r"\s*\[Op:[^\]]*\]\s*$", "", text)
