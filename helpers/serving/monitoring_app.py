"""A census-income model served with FastAPI that logs every prediction and exports Prometheus metrics.

    python -m uvicorn helpers.serving.monitoring_app:app      # MONITOR_MODEL_PATH and MONITOR_LOG_PATH set

- ``POST /predict`` takes one person (8 census features, an optional ``request_id``), answers the predicted
  income class with its score, and appends one JSON line per prediction to the request log:
  ``{"request_id", "timestamp", "model_version", "features": {...}, "prediction", "score"}``. A request may
  also carry the client's ``name``, ``email`` and a free-text ``note``; the model does not read them, and
  the log keeps them only redacted (``helpers.redaction``): ``"client": {"name": "[PERSON_NAME]", ...}``.
- ``GET /metrics`` answers the service's metrics in Prometheus' text format: requests by endpoint and
  status (``model_requests_total``), request latency (``model_request_latency_seconds``, a histogram) and
  predictions by class (``model_predictions_total``).
- ``GET /`` is the health check.

Hostile input is refused before any work: a body over ``MAX_BODY_BYTES`` (413), a body that is not JSON
(415), JSON nested deeper than 4 levels or holding more than 64 values (400), and anything outside the
schema (422). Refusals are counted in the metrics like any other answer.

Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpers.redaction import redact_record
from helpers.serving import BodyLimitMiddleware, JSONGuardMiddleware

MAX_BODY_BYTES = 4_096  # one person takes about 250 bytes
MODEL_VERSION = os.environ.get("MONITOR_MODEL_VERSION", "v1")
MEASURED = ("/predict",)  # endpoints with metrics: a fixed set, so a scan of random paths adds no series

disable_created_metrics()  # no `_created` timestamps: every sample is a count or a sum
REGISTRY = CollectorRegistry()  # the service's own metrics only (no process/platform collectors)
REQUESTS = Counter("model_requests", "Requests answered, by endpoint and HTTP status.",
                   ["endpoint", "status"], registry=REGISTRY)
LATENCY = Histogram("model_request_latency_seconds", "Time to answer a request, in seconds.", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0), registry=REGISTRY)
PREDICTIONS = Counter("model_predictions", "Predictions made, by predicted class.", ["predicted_class"],
                      registry=REGISTRY)
# Series exist (at 0) from the start, so a scrape before the first request already shows them.
REQUESTS.labels(endpoint="/predict", status="200")
LATENCY.labels(endpoint="/predict")
for _label in ("<=50K", ">50K"):
    PREDICTIONS.labels(predicted_class=_label)

Category = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FEATURES = ("age", "workclass", "education", "marital_status", "occupation", "sex", "hours_per_week",
            "native_country")
CLIENT_FIELDS = ("name", "email", "note")  # personal data the model does not use: logged only redacted


class Person(BaseModel):
    """One person to classify: the 8 census features the model reads, and an optional request id."""

    model_config = ConfigDict(extra="forbid")
    request_id: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    age: int = Field(ge=0, le=120)
    workclass: Category
    education: Category
    marital_status: Category
    occupation: Category
    sex: Category
    hours_per_week: int = Field(ge=0, le=168)
    native_country: Category
    name: Annotated[str, StringConstraints(max_length=100)] | None = None
    email: Annotated[str, StringConstraints(max_length=100)] | None = None
    note: Annotated[str, StringConstraints(max_length=200)] | None = None


STATE: dict = {}
_LOG_LOCK = threading.Lock()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the model once at start-up and open the request log for appending."""
    import joblib

    model_path = os.environ.get("MONITOR_MODEL_PATH", "")
    if not Path(model_path).is_file():
        raise RuntimeError(f"MONITOR_MODEL_PATH must name the saved model file, got {model_path!r}")
    STATE["model"] = joblib.load(model_path)
    log_path = Path(os.environ.get("MONITOR_LOG_PATH", "requests.jsonl"))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    STATE["log"] = open(log_path, "a", encoding="utf-8")  # closed at shut-down
    yield
    STATE["log"].close()


app = FastAPI(title="Census income service, monitored", version=MODEL_VERSION, lifespan=lifespan)
app.add_middleware(JSONGuardMiddleware, max_depth=4, max_values=64)
app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)


@app.middleware("http")  # added last, so it is the outermost layer: it also counts the 413s and 415s
async def measure(request: Request, call_next):
    """Count every answer of a measured endpoint by status, and time it."""
    endpoint = request.url.path
    if endpoint not in MEASURED:
        return await call_next(request)
    start = time.perf_counter()
    status = "500"  # what the client gets if the app raises
    try:
        response = await call_next(request)
        status = str(response.status_code)
        return response
    finally:
        REQUESTS.labels(endpoint=endpoint, status=status).inc()
        LATENCY.labels(endpoint=endpoint).observe(time.perf_counter() - start)


@app.get("/")
def health() -> dict:
    """The health check."""
    return {"status": "ok", "model_version": MODEL_VERSION}


def log_prediction(record: dict) -> None:
    """Append one JSON line to the request log (one write per line, under a lock)."""
    with _LOG_LOCK:
        STATE["log"].write(json.dumps(record) + "\n")
        STATE["log"].flush()


@app.post("/predict")
def predict(person: Person) -> dict:
    """Predict one person's income class, log the request and its answer, count the class."""
    import pandas as pd

    features = person.model_dump(include=set(FEATURES))
    request_id = person.request_id or uuid.uuid4().hex
    score = float(STATE["model"].predict_proba(pd.DataFrame([features]))[0, 1])
    label = ">50K" if score >= 0.5 else "<=50K"
    PREDICTIONS.labels(predicted_class=label).inc()
    record = {"request_id": request_id, "timestamp": round(time.time(), 3), "model_version": MODEL_VERSION,
              "features": features, "prediction": label, "score": round(score, 4)}
    client = person.model_dump(include=set(CLIENT_FIELDS), exclude_none=True)
    if client:  # redacted before it is written: the log never holds the personal data
        record["client"] = redact_record(client, whole_fields={"name": "PERSON_NAME"})
    log_prediction(record)
    return {"request_id": request_id, "prediction": label, "score": round(score, 4)}


@app.get("/metrics")
def metrics() -> Response:
    """The service's metrics in Prometheus' text exposition format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
