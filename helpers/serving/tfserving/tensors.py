"""TensorFlow Serving's JSON mapping, for this project's model server (``helpers.serving.tfserving.app``).

Request JSON to tensors (row ``instances`` and columnar ``inputs``), with TF Serving's rules and its error
wording (from its ``json_tensor.cc``): strict dtypes, dense shapes, ``{"b64": ...}`` for bytes, ``NaN`` and
``Infinity`` accepted; the refusals of oversized, deeply nested and huge requests. The answers are written
by ``helpers.serving.tfserving.results``. Imports numpy, not TensorFlow.
"""

from __future__ import annotations

import base64
import binascii
import json
import math

import numpy as np

from helpers.serving.json_scan import scan_json

DEFAULT_SIGNATURE = "serving_default"
# DataType enum -> (TF Serving's DataTypeString, numpy dtype)
DTYPES = {1: ("float", np.float32), 2: ("double", np.float64), 3: ("int32", np.int32), 4: ("uint8", np.uint8),
          5: ("int16", np.int16), 6: ("int8", np.int8), 7: ("string", object), 9: ("int64", np.int64),
          10: ("bool", np.bool_), 17: ("uint16", np.uint16), 19: ("half", np.float16), 22: ("uint32", np.uint32),
          23: ("uint64", np.uint64)}
INT_RANGES = {3: (-2**31, 2**31 - 1), 4: (-2**31, 2**31 - 1), 5: (-2**31, 2**31 - 1), 6: (-2**31, 2**31 - 1),
              17: (-2**31, 2**31 - 1), 9: (-2**63, 2**63 - 1), 22: (0, 2**32 - 1), 23: (0, 2**64 - 1)}
FLOAT_LIMITS = {1: (2**24 - 1, float(np.finfo(np.float32).max)), 19: (2**11 - 1, 65504.0),
                2: (2**53 - 1, float(np.finfo(np.float64).max))}
MAX_QUOTED = 1000  # characters of a request quoted back in an error message


class ServingError(Exception):
    """An error answered as TF Serving does: an HTTP status and ``{"error": message}``.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def invalid(message: str) -> ServingError:
    """INVALID_ARGUMENT, which TF Serving answers with HTTP 400.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    return ServingError(400, message)


def not_found(message: str) -> ServingError:
    """NOT_FOUND, which TF Serving answers with HTTP 404.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    return ServingError(404, message)


def dumps(obj) -> bytes:
    """JSON bytes of a response object.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    return json.dumps(obj).encode()


def error_body(message: str) -> bytes:
    """TF Serving's error body: ``{"error": message}``.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    return dumps({"error": message})


def quote(value) -> str:
    """A JSON value as text, for an error message (long ones cut).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    text = json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "..."


def json_type(value) -> str:
    """rapidjson's name of a JSON value's type.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    return {dict: "Object", list: "Array", str: "String"}.get(type(value), "Number")


_PARSE_ERRORS = {"Expecting value": "Invalid value.",
                 "Extra data": "The document root must not be followed by other values.",
                 "Unterminated string": "Missing a closing quotation mark in string.",
                 "Invalid \\escape": "Invalid escape character in string.",
                 "Expecting property name enclosed in double quotes": "Missing a name for object member.",
                 "Expecting ':' delimiter": "Missing a colon after a name of object member.",
                 "Expecting ',' delimiter": "Missing a comma or ']' after an array element.",
                 "Invalid control character": "Invalid encoding in string."}


def parse_request(body: bytes, limits) -> dict:
    """Parse a request body into a JSON object, refusing nesting deeper than ``limits.max_depth`` and more than
    ``limits.max_values`` values before parsing (``helpers.serving.scan_json``, which skips strings' contents).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    if not body.strip():
        raise invalid("JSON Parse error: The document is empty")
    problem = scan_json(body, limits.max_depth, limits.max_values, advice="send smaller batches")
    if problem:
        raise invalid(problem)
    try:
        doc = json.loads(body)
    except UnicodeDecodeError as exc:
        raise invalid(f"JSON Parse error: Invalid encoding in string. at offset: {exc.start}") from None
    except json.JSONDecodeError as exc:
        message = next((v for k, v in _PARSE_ERRORS.items() if exc.msg.startswith(k)), exc.msg)
        if exc.msg.startswith("Expecting ',' delimiter") and _inside_object(exc.doc, exc.pos):
            message = "Missing a comma or '}' after an object member."
        raise invalid(f"JSON Parse error: {message} at offset: {exc.pos}") from None
    except RecursionError:
        raise invalid(f"JSON nested deeper than the parser can read (the server's max_depth, {limits.max_depth} "
                      "levels, is set higher than that)") from None
    if not isinstance(doc, dict):
        raise invalid(f"JSON Value: {quote(doc)} Is not object")
    return doc


def _inside_object(doc: str, pos: int) -> bool:
    """Whether ``pos`` is inside an object rather than an array (brackets inside strings do not count)."""
    stack, in_string, escaped = [], False, False
    for char in doc[:pos]:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return bool(stack) and stack[-1] == "{"


def signature_name(doc: dict) -> str:
    """The request's optional ``signature_name`` (TF Serving's error when it is not a string).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid(f"JSON Value: {quote(doc)} not formatted correctly. 'signature_name' key must be a string value.")
    return name


def _signature(signature_defs: dict, name: str):
    key = name or DEFAULT_SIGNATURE
    if key not in signature_defs:
        raise invalid(f'Serving signature name: "{key}" not found in signature def')
    return key, signature_defs[key]


def predict_inputs(doc: dict, signature_defs: dict, name: str, limits) -> tuple[str, dict, bool]:
    """The input tensors of a ``:predict`` request: ``(signature key, {input: ndarray}, row format?)``.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    key, signature = _signature(signature_defs, name)
    infos = dict(signature.inputs)
    if not infos:
        raise invalid(f"Failed to get input map for signature: {name or 'DEFAULT'}")
    if "instances" in doc:
        if "inputs" in doc:
            raise invalid(f"JSON Value: {quote(doc)} Not formatted correctly expecting only one of 'inputs' or "
                          "'instances' keys to exist ")
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise invalid(f"JSON Value: {quote(doc)} Excepting 'instances' to be an list/array")
        if not instances:
            raise invalid(f"JSON Value: {quote(doc)} No values in 'instances' array")
        _check_batch(len(instances), limits)
        tensors = _from_instances(instances, infos)
        row = True
    elif "inputs" in doc:
        tensors = _from_inputs(doc["inputs"], infos, limits)
        row = False
    else:
        raise invalid("Missing 'inputs' or 'instances' key")
    # As TF Serving does, the tensors are fed as they are, whatever shape the signature declares: the model
    # decides (half_plus_two, declared [-1,1], answers [1.0, 2.0, 5.0]); only its own failure is an error.
    return key, tensors, row


def _check_batch(size: int, limits) -> None:
    if size > limits.max_batch:
        raise invalid(f"Batch of {size} instances exceeds the limit of {limits.max_batch} per request (max_batch)")


def _from_instances(instances: list, infos: dict) -> dict:
    is_object = [isinstance(x, dict) and not _is_b64(x) for x in instances]
    if not is_object[0] and len(infos) > 1:
        raise invalid("instances is a plain list, but expecting list of objects as multiple input tensors "
                      "required as per tensorinfo_map")
    if not is_object[0]:
        name = sorted(infos)[0]
        if any(is_object):
            raise invalid(f"Expecting value/list but got object at item {is_object.index(True)} of input list")
        return {name: _batch(instances, infos[name], None)}
    if not all(is_object):
        raise invalid(f"Expecting object but got list at item {is_object.index(False)} of input list")
    names = sorted(infos)
    for i, item in enumerate(instances):
        for key in item:
            if key not in infos:
                raise invalid(f"Failed to process element: {i} key: {key} of 'instances' list. Error: "
                              f"INVALID_ARGUMENT: JSON object: does not have named input: {key}")
        if sorted(item) != names:
            raise invalid(f"Failed to process element: {i} of 'instances' list. JSON object: {quote(item)} must "
                          f"only have keys: {','.join(names)}")
    return {name: _batch([item[name] for item in instances], infos[name], name) for name in names}


def _batch(items: list, info, key: str | None) -> np.ndarray:
    """Stack the instances of one input into one tensor, with TF Serving's per-element errors."""
    array = _fast(items, info.dtype)
    if array is not None:
        return array
    first_shape = None
    values = []
    for i, item in enumerate(items):
        try:
            shape, flat = fill_tensor(item, info.dtype)
            if first_shape is None:
                first_shape = shape
            elif math.prod(shape) != math.prod(first_shape):
                raise invalid(f"Expecting tensor size: {math.prod(first_shape)} but got: {math.prod(shape)}")
            elif shape != first_shape:
                raise invalid(f"Expecting shape {_shape_text(first_shape)} but got: {_shape_text(shape)}")
        except ServingError as exc:
            where = f" key: {key}" if key is not None else ""
            raise invalid(f"Failed to process element: {i}{where} of 'instances' list. Error: "
                          f"INVALID_ARGUMENT: {exc.message}") from None
        values.extend(flat)
    return _array(values, [len(items), *first_shape], info.dtype)


def _from_inputs(value, infos: dict, limits) -> dict:
    if not isinstance(value, dict) or _is_b64(value):
        if len(infos) > 1:
            raise invalid("inputs is a plain value/list, but expecting an object as multiple input tensors "
                          "required as per tensorinfo_map")
        named = {sorted(infos)[0]: value}
    else:
        named = {}
        for name in sorted(infos):
            if name not in value:
                raise invalid(f"Missing named input: {name} in 'inputs' object.")
            named[name] = value[name]
    tensors = {}
    for name, item in named.items():
        if isinstance(item, list):
            _check_batch(len(item), limits)
        array = _fast(item, infos[name].dtype)
        if array is None:
            shape, flat = fill_tensor(item, infos[name].dtype)
            array = _array(flat, shape, infos[name].dtype)
        tensors[name] = array
    return tensors


def _fast(value, dtype: int) -> np.ndarray | None:
    """The tensor of a well-formed value in one numpy call, or None when it needs the careful path."""
    if dtype not in DTYPES or dtype == 7:
        return None
    try:
        array = np.asarray(value)
    except (ValueError, OverflowError):
        return None
    kind = array.dtype.kind
    if dtype in FLOAT_LIMITS:
        if kind == "f" or (kind in "iu" and (array.size == 0 or np.abs(array).max() <= FLOAT_LIMITS[dtype][0])):
            finite = array[np.isfinite(array)] if kind == "f" else array
            if kind == "f" and finite.size and np.abs(finite).max() > FLOAT_LIMITS[dtype][1]:
                return None
            return array.astype(DTYPES[dtype][1], copy=False)
        return None
    if dtype == 10:
        return array if kind == "b" else None
    if kind in "iu" and array.size and INT_RANGES[dtype][0] <= array.min() and array.max() <= INT_RANGES[dtype][1]:
        return array.astype(DTYPES[dtype][1], copy=False)
    return None


def _array(values: list, shape: list, dtype: int) -> np.ndarray:
    if dtype == 7:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    return np.array(values, dtype=DTYPES[dtype][1]).reshape(shape)


def _shape_text(shape: list) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _is_b64(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def fill_tensor(value, dtype: int) -> tuple[list, list]:
    """``(shape, flat values)`` of one JSON value as a dense tensor of ``dtype`` (TF Serving's checks).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    if dtype not in DTYPES:
        raise ServingError(501, f"Conversion of JSON Value: {quote(value)} to type: DT enum {dtype}")
    shape = []
    probe = value
    while isinstance(probe, list):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    rank = len(shape)
    flat: list = []

    def walk(item, level: int) -> None:
        if not isinstance(item, list):
            if level != rank:
                raise invalid(f"JSON Value: {quote(item)} found at incorrect level: {level + 1} in the JSON DOM. "
                              f"Expected at level: {rank}")
            flat.append(_scalar(item, dtype))
            return
        if level >= rank:
            raise invalid(f"Encountered list at unexpected level: {level} expected < {rank}")
        if len(item) != shape[level]:
            raise invalid(f"Encountered list at unexpected size: {len(item)} at level: {level} expected size: "
                          f"{shape[level]}")
        for element in item:
            walk(element, level + 1)

    walk(value, 0)
    return shape, flat


def _scalar(value, dtype: int):
    name = DTYPES[dtype][0]
    type_error = invalid(f"JSON Value: {quote(value)} Type: {json_type(value)} is not of expected type: {name}")
    if isinstance(value, dict):
        if dtype != 7:
            raise type_error
        if not _is_b64(value):
            raise invalid(f"JSON Value: {quote(value)} not formatted correctly for base64 data")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise invalid("Unable to base64 decode") from None
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if dtype in FLOAT_LIMITS:
        if not is_number:
            raise type_error
        max_int, max_float = FLOAT_LIMITS[dtype]
        lossy = abs(value) > max_int if isinstance(value, int) else (math.isfinite(value) and abs(value) > max_float)
        if lossy:
            raise invalid(f"Cannot convert JSON value: {quote(value)} to {name} without loss of precision.")
        return value
    if dtype == 7:
        if not isinstance(value, str):
            raise type_error
        return value.encode()
    if dtype == 10:
        if not isinstance(value, bool):
            raise type_error
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise type_error
    low, high = INT_RANGES[dtype]
    if not low <= value <= high:
        raise type_error
    return value

