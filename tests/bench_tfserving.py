"""Benchmark: the TF Serving REST server (``helpers.serving.tfserving.model_server``) beside a plain FastAPI endpoint
serving the same SavedModel, in the same run: requests per second and p50/p99 latency at concurrency 1 and 8.

    .venv/bin/python tests/bench_tfserving.py [--requests 400] [--out build/bench_tfserving.json]

A benchmark, not a test (pytest does not collect it): the figures depend on the machine and its load. It
exits 1 when the model server is more than 2x slower than the FastAPI endpoint (throughput or p50), 0
otherwise. Traffic goes only to 127.0.0.1, bounded in count and time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import serving
from helpers.serving import tfserving

FASTAPI_APP = """
import os

import numpy as np
import tensorflow as tf
from fastapi import FastAPI

model = tf.saved_model.load(os.environ["BENCH_MODEL"])
predict_fn = model.signatures["serving_default"]
input_name = next(iter(predict_fn.structured_input_signature[1]))
app = FastAPI()


@app.get("/health")
def health():
    return {"ok": True}


@app.post("/predict")
def predict(body: dict):
    x = np.asarray(body["instances"], dtype=np.float32)
    outputs = predict_fn(**{input_name: tf.constant(x)})
    return {"predictions": next(iter(outputs.values())).numpy().tolist()}
"""


def export_model(folder: Path) -> Path:
    """A small Fashion-MNIST-shaped classifier (untrained: the timing does not depend on the weights)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28), name="image"), keras.layers.Flatten(),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    base = folder / "fashion_mnist"
    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints the export's path and signature
        model.export(str(base / "1"))
    return base


def load(url: str, payload: bytes, concurrency: int, total: int, deadline_s: float = 120.0) -> dict:
    """Send ``total`` POSTs from ``concurrency`` threads; requests per second and latency percentiles (ms)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(total))
    stop_at = time.monotonic() + deadline_s

    def worker() -> None:
        with requests.Session() as session:
            session.trust_env = False  # never via a proxy
            while time.monotonic() < stop_at:
                with lock:
                    if next(counter, None) is None:
                        return
                start = time.perf_counter()
                response = session.post(url, data=payload, headers={"content-type": "application/json"}, timeout=30)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    errors[0] += response.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {"requests": len(latencies), "errors": errors[0], "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per server and concurrency")
    parser.add_argument("--batch", type=int, default=1, help="images per request")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here as JSON")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    images = rng.random((args.batch, 28, 28)).round(4).tolist()
    payload = json.dumps({"instances": images}).encode()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-tfserving-") as tmp:
        tmp = Path(tmp)
        base = export_model(tmp)
        (tmp / "fastapi_app.py").write_text(textwrap.dedent(FASTAPI_APP))
        with tfserving.model_server("fashion_mnist", base, log_path=tmp / "tfs.log") as tfs, \
                serving.serve("fastapi_app:app", tmp, health_path="/health", timeout=90,
                              env={"BENCH_MODEL": str(base / "1"), "TF_CPP_MIN_LOG_LEVEL": "3"}) as api:
            targets = {f"TF Serving REST ({tfs.engine})": tfs.url + "/v1/models/fashion_mnist:predict",
                       "plain FastAPI endpoint": api.url + "/predict"}
            for url in targets.values():  # warm up both
                load(url, payload, 2, 40)
            for concurrency in (1, 8):
                for name, url in targets.items():
                    row = {"server": name, "concurrency": concurrency, **load(url, payload, concurrency, args.requests)}
                    results.append(row)
                    print(f"{name:<32} c={concurrency}  {row['rps']:>7.1f} req/s  p50 {row['p50_ms']:>6.2f} ms  "
                          f"p99 {row['p99_ms']:>7.2f} ms  errors {row['errors']}", flush=True)
    verdicts = []
    for concurrency in (1, 8):
        tfs_row, api_row = [r for r in results if r["concurrency"] == concurrency]
        ratio_rps = api_row["rps"] / tfs_row["rps"]
        ratio_p50 = tfs_row["p50_ms"] / api_row["p50_ms"]
        ok = ratio_rps <= 2 and ratio_p50 <= 2 and tfs_row["errors"] == 0
        verdicts.append(ok)
        print(f"c={concurrency}: TF Serving REST throughput {tfs_row['rps'] / api_row['rps']:.2f}x FastAPI's, "
              f"p50 {ratio_p50:.2f}x: {'within' if ok else 'NOT within'} 2x")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"results": results, "median_rps": statistics.median(r["rps"] for r in results)},
                                       indent=2))
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
