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
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from helpers.arguments import env_whole
from helpers.serving import BodyLimitMiddleware
from helpers.serving.tfserving import reload as tr
from helpers.serving.tfserving import results as tx
from helpers.serving.tfserving import tensors as tj
from helpers.serving.tfserving.registry import Registry, Servable, load_registry

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
        """The limits, each read from ``TFSERVING_<NAME>`` when it is set (a whole number of at least 1)."""
        defaults = cls()
        return cls(**{name: env_whole(f"TFSERVING_{name.upper()}", getattr(defaults, name))
                      for name in cls.__dataclass_fields__})


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


def create_app(registry: Registry | None = None, limits: Limits | None = None) -> BodyLimitMiddleware:
    """The server's ASGI app: ``TFServingApp`` behind ``serving.BodyLimitMiddleware`` (413 over the body limit,
    before the app reads anything), whose refusals too have TF Serving's ``{"error": ...}`` shape.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    limits = limits or Limits.from_env()
    app = TFServingApp(registry, limits)  # NaN and Infinity are valid in TF Serving's JSON: not refused here
    return BodyLimitMiddleware(app, max_bytes=limits.max_body_bytes, finite_json=False,
                               error_body=lambda status, message: tj.error_body(message))


app = create_app()

if __name__ == "__main__":  # pragma: no cover - run by hand: python -m helpers.serving.tfserving.app PORT
    import sys

    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8501)
