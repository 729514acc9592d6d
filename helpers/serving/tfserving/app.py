"""This project's model server: TensorFlow Serving's REST API over SavedModels, as an ASGI app for uvicorn.

Started by ``helpers.serving.tfserving.model_server`` when the ``tensorflow_model_server`` binary is not installed.
It reads the binary's arguments from the environment (``TFSERVING_MODEL_NAME`` with
``TFSERVING_MODEL_BASE_PATH``, or ``TFSERVING_MODEL_CONFIG_FILE``), loads every served version once at
start-up, and answers the endpoints of TF Serving's RESTful API with its bodies, HTTP codes and error
wording (``/v1/models/NAME[/versions/N|/labels/L]``, ``.../metadata``, ``...:predict|classify|regress``).
With ``TFSERVING_MODEL_CONFIG_FILE_POLL_WAIT_SECONDS`` it re-reads its config file while it runs
(``helpers.serving.tfserving.reload``): labels move and versions load or unload without a restart.
Before any heavy work it refuses what could take it down: a body over ``TFSERVING_MAX_BODY_BYTES`` (413, by
``helpers.serving.BodyLimitMiddleware``),
a content type that is not JSON (415), JSON nested deeper than ``TFSERVING_MAX_DEPTH`` or with more than
``TFSERVING_MAX_VALUES`` values, a batch over ``TFSERVING_MAX_BATCH`` (400), and more than
``TFSERVING_MAX_IN_FLIGHT`` requests at once (503). TensorFlow is imported when the models load.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from helpers.serving import BodyLimitMiddleware
from helpers.serving.tfserving import reload as tr
from helpers.serving.tfserving import results as tx
from helpers.serving.tfserving import tensors as tj

log = logging.getLogger("uvicorn.error")

PREDICT_PATH = re.compile(r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
                          r":(classify|regress|predict)", re.IGNORECASE)
STATUS_PATH = re.compile(r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
                         re.IGNORECASE)
API_PATH = re.compile(r"/v1/.*", re.IGNORECASE)
JSON_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded", "")  # curl -d sends form


@dataclass
class Limits:
    """The limits a request must stay within (defaults; each overridable by ``TFSERVING_<NAME>``).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 512
    max_depth: int = 32
    max_values: int = 1_000_000
    max_in_flight: int = 64

    @classmethod
    def from_env(cls) -> Limits:
        values = {}
        for name in cls.__dataclass_fields__:
            raw = os.environ.get(f"TFSERVING_{name.upper()}")
            if raw is not None:
                if not raw.isdigit() or int(raw) < 1:
                    raise ValueError(f"TFSERVING_{name.upper()} must be a positive integer, got {raw!r}")
                values[name] = int(raw)
        return cls(**values)


@dataclass
class Servable:
    """One loaded version of a model: its SavedModel object and its signature defs (protos).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    name: str
    version: int
    loaded: object
    signature_defs: dict = field(repr=False)
    path: str = ""


class Registry:
    """The served models: ``{name: {version: Servable}}`` and ``{name: {label: version}}``.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    def __init__(self, models: dict[str, dict[int, Servable]], labels: dict[str, dict[str, int]]):
        self.models = models
        self.labels = labels

    def resolve(self, name: str, version: str | None, label: str | None) -> Servable:
        """The servable a request names (TF Serving's errors: 404 not found, 400 unknown label)."""
        versions = self.models.get(name, {})
        if label is not None:
            if label not in self.labels.get(name, {}):
                raise tj.invalid(f"Unrecognized servable version label: {label}")
            version = str(self.labels[name][label])
        if version is None:
            if not versions:
                raise tj.not_found(f"Servable not found for request: Latest({name})")
            return versions[max(versions)]
        number = _version_number(version)
        if number not in versions:
            raise tj.not_found(f"Servable not found for request: Specific({name}, {number})")
        return versions[number]

    def status(self, name: str, version: str | None, label: str | None) -> dict:
        """The ``GetModelStatusResponse`` JSON of one model (all versions, or the one asked for)."""
        if not name:
            raise tj.invalid("Missing model name in request.")
        versions = self.models.get(name, {})
        if label is not None:
            if label not in self.labels.get(name, {}):
                raise tj.invalid(f"Unrecognized servable version label: {label}")
            version = str(self.labels[name][label])
        if version is not None:
            number = _version_number(version)
            if number not in versions:
                raise tj.not_found(f"Could not find version {number} of model {name}")
            chosen = [number]
        elif not versions:
            raise tj.not_found(f"Could not find any versions of model {name}")
        else:
            chosen = sorted(versions, reverse=True)
        return {"model_version_status": [
            {"version": str(v), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            for v in chosen]}


def _version_number(text: str) -> int:
    number = int(text)
    if number > 2**63 - 1:
        raise tj.invalid(f"Failed to convert version: {text} to numeric.")
    return number


def load_registry(configs: list, reuse: dict | None = None) -> Registry:
    """Load every version each model config asks for (TF Serving's version policies), once; ``reuse`` maps
    ``(name, version folder)`` to a ``Servable`` already loaded (a config reload keeps those).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    from helpers.serving.tfserving.client import version_folders

    models: dict[str, dict[int, Servable]] = {}
    labels: dict[str, dict[str, int]] = {}
    for config in configs:
        base = Path(config.base_path)
        folders = version_folders(base) if base.is_dir() else {}
        found = sorted(folders)
        if not found:
            raise RuntimeError(f"No versions of servable {config.name} found under base path {base}")
        kind, arg = config.version_policy
        if kind == "latest":
            wanted = found[-arg:]
        elif kind == "all":
            wanted = found
        else:
            missing = sorted(set(arg) - set(found))
            if missing:
                raise RuntimeError(f"model {config.name}: version(s) {missing} of the specific version policy "
                                   f"are not under base path {base} (found {found})")
            wanted = list(arg)
        models[config.name] = {}
        for version in wanted:
            path = folders[version]  # the folder's own name: 00000123 is version 123
            if (config.name, str(path)) in (reuse or {}):
                models[config.name][version] = reuse[(config.name, str(path))]
                continue
            proto = saved_model_pb2.SavedModel()
            proto.ParseFromString((path / "saved_model.pb").read_bytes())
            graphs = [g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags] or list(proto.meta_graphs)
            loaded = tf.saved_model.load(str(path))
            models[config.name][version] = Servable(config.name, version, loaded, dict(graphs[0].signature_def),
                                                    str(path))
            log.info("Successfully loaded servable version {name: %s version: %d}", config.name, version)
        for version in config.version_labels.values():
            if version not in models[config.name]:
                raise RuntimeError(f"Request to assign label to version {version} of model {config.name}, "
                                   "which is not currently available for inference")
        labels[config.name] = dict(config.version_labels)
    return Registry(models, labels)


class TFServingApp:
    """The ASGI application (see the module's docstring).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    def __init__(self, registry: Registry | None = None, limits: Limits | None = None):
        self.registry = registry
        self.limits = limits or Limits()
        self.in_flight = 0
        self.poller = None  # the task re-reading the model config file (helpers.serving.tfserving.reload)
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="predict")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            status, body = await self._handle(scope, receive)
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    text = tr.config_text()  # before loading: a rewrite during the load is picked up
                    if self.registry is None:
                        self.registry = load_registry(tr.configs_from_env())
                    self.poller = tr.start_polling(self, text)
                except Exception as exc:  # the message goes to the log, uvicorn exits
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.poller is not None:
                    self.poller.cancel()
                self.executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, scope, receive) -> tuple[int, bytes]:
        method, path = scope["method"], scope["path"]
        if not API_PATH.fullmatch(path):
            return 404, tj.error_body(f"Not found: {path} (TF Serving's REST API lives under /v1/)")
        try:
            if self.registry is None:
                raise tj.ServingError(503, "Servable manager is not ready: the models are still loading")
            if method == "POST" and (match := PREDICT_PATH.fullmatch(path)):
                name, version, label, verb = match.groups()
                body = await self._read_body(scope, receive)
                return 200, await self._run(verb.lower(), name, version, label, body)
            if method == "GET" and (match := STATUS_PATH.fullmatch(path)):
                name, version, label, metadata = match.groups()
                if metadata:
                    if not name:
                        raise tj.invalid("Missing model name in request.")
                    servable = self.registry.resolve(name, version, label)
                    return 200, tj.dumps(tx.metadata_json(servable.name, servable.version, servable.signature_defs))
                return 200, tj.dumps(self.registry.status(name or "", version, label))
            raise tj.invalid(f"Malformed request: {method} {path}")
        except tj.ServingError as exc:
            return exc.status, tj.error_body(exc.message)
        except Exception as exc:  # TF Serving answers INTERNAL with 500 and the message
            log.exception("Error processing %s %s", method, path)
            return 500, tj.error_body(f"{type(exc).__name__}: {exc}")

    async def _read_body(self, scope, receive) -> bytes:
        limit = self.limits.max_body_bytes
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise tj.ServingError(415, f"Unsupported content type {content_type!r}: send the request as JSON "
                                       "(Content-Type: application/json)")
        if headers.get(b"content-encoding", b"identity").lower() != b"identity":
            raise tj.ServingError(415, "Compressed request bodies are not accepted: send plain JSON")
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise tj.ServingError(413, f"Request body of {int(declared)} bytes exceeds the limit of {limit} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise tj.ServingError(413, f"Request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _run(self, verb: str, name: str, version: str | None, label: str | None, body: bytes) -> bytes:
        doc = tj.parse_request(body, self.limits)
        signature_name = tj.signature_name(doc)
        servable = self.registry.resolve(name, version, label)
        if verb == "predict":
            signature, inputs, row = tj.predict_inputs(doc, servable.signature_defs, signature_name, self.limits)
        else:
            signature, inputs = tx.example_inputs(doc, verb, servable.signature_defs, signature_name, self.limits)
        if self.in_flight >= self.limits.max_in_flight:
            raise tj.ServingError(503, f"Server is busy: {self.limits.max_in_flight} requests are already in "
                                       "flight (the max_in_flight limit); retry later")
        self.in_flight += 1
        try:
            loop = asyncio.get_running_loop()  # the model runs in a worker thread: the server keeps answering
            outputs = await loop.run_in_executor(self.executor, _call, servable, signature, inputs)
        finally:
            self.in_flight -= 1
        if verb == "predict":
            return tx.predict_response(outputs, row)
        return tx.results_response(verb, outputs, servable.signature_defs[signature], len(doc["examples"]))


def _call(servable: Servable, signature: str, inputs: dict) -> dict:
    import tensorflow as tf

    function = servable.loaded.signatures[signature]
    try:
        result = function(**{name: tf.constant(value) for name, value in inputs.items()})
    except (tf.errors.InvalidArgumentError, ValueError, TypeError) as exc:
        raise tj.invalid(tx.model_error(getattr(exc, "message", None) or str(exc)) or type(exc).__name__) from None
    return {key: value.numpy() for key, value in result.items()}



class TFServingErrors:
    """ASGI wrapper: rewrite a ``{"detail": ...}`` error (from ``serving.BodyLimitMiddleware``) into TF Serving's
    ``{"error": ...}`` body, so every answer of the server has TF Serving's shape.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held = {}

        async def rewrite(message) -> None:
            if message["type"] == "http.response.start":
                held["start"] = message
                return
            start = held.pop("start", None)
            body = message.get("body", b"")
            if start is not None and body.startswith(b'{"detail"') and not message.get("more_body", False):
                body = tj.error_body(str(json.loads(body).get("detail", "")))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                start = {**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
                message = {**message, "body": body}
            if start is not None:
                await send(start)
            await send(message)

        await self.app(scope, receive, rewrite)


def create_app(registry: Registry | None = None, limits: Limits | None = None):
    """The server's ASGI app: ``TFServingApp`` behind ``serving.BodyLimitMiddleware`` (413 over the body limit,
    before the app reads anything), its answers in TF Serving's ``{"error": ...}`` shape.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    limits = limits or Limits.from_env()
    app = TFServingApp(registry, limits)  # NaN and Infinity are valid in TF Serving's JSON: not refused here
    return TFServingErrors(BodyLimitMiddleware(app, max_bytes=limits.max_body_bytes, finite_json=False))


app = create_app()

if __name__ == "__main__":  # pragma: no cover - run by hand: python -m helpers.serving.tfserving.app PORT
    import sys

    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8501)
