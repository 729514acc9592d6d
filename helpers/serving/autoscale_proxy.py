"""A round-robin HTTP proxy in front of replicas on 127.0.0.1: the local stand-in for a Kubernetes Service.

Run it with uvicorn (``helpers.autoscale.serve_proxy`` does, through ``helpers.serving.serve``):

    python -m uvicorn helpers.serving.autoscale_proxy:app --port 8000

- ``GET /_proxy/health``: health check, with the ports of the replicas it sends traffic to.
- ``PUT /_proxy/backends``: ``[port, ...]``, the replicas that are ready (the autoscaler's deployment sends
  it every time a replica becomes ready or is being removed, as Kubernetes updates a Service's endpoints).
- ``GET /_proxy/stats``: requests forwarded to each port since start.
- any other request is forwarded to the next ready replica in turn (round robin), and its answer returned;
  a replica that refuses the connection (it is stopping) is skipped for the next one. No ready replica: 503.

The proxy only ever forwards to ports of 127.0.0.1, never to an address a request names, and refuses a
body over ``MAX_BODY_BYTES`` (413; ``PROXY_MAX_BODY_BYTES`` overrides it) and a backend list that is not a
short list of ports (400).

Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import urllib.error
import urllib.request

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpers.arguments import env_whole
from helpers.serving import HOST, LOCAL_OPENER, BodyLimitMiddleware

MAX_BODY_BYTES = env_whole("PROXY_MAX_BODY_BYTES", 100_000)
MAX_BACKENDS = 64
TIMEOUT = 30.0
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host",
               "content-length", "proxy-authorization", "proxy-authenticate"}

_lock = threading.Lock()
_backends: list[int] = []
_cycle = itertools.cycle([])
_counts: collections.Counter = collections.Counter()


def parse_backends(body: bytes) -> list[int]:
    """The ports in a ``PUT /_proxy/backends`` body; ``ValueError`` naming the problem otherwise."""
    try:
        ports = json.loads(body)
    except ValueError:
        raise ValueError("the body must be a JSON list of ports, e.g. [8001, 8002]") from None
    if not isinstance(ports, list) or len(ports) > MAX_BACKENDS:
        raise ValueError(f"the body must be a JSON list of at most {MAX_BACKENDS} ports, e.g. [8001, 8002]")
    for port in ports:
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ValueError(f"every backend must be a port from 1 to 65535 on {HOST}, got {port!r}")
    return ports


def _next_backends() -> list[int]:
    """Every backend, starting with the next one in turn."""
    with _lock:
        if not _backends:
            return []
        first = next(_cycle)
        start = _backends.index(first)
        return _backends[start:] + _backends[:start]


def _forward(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", data=body or None, headers=headers,
                                     method=method)
    try:
        with LOCAL_OPENER.open(request, timeout=TIMEOUT) as answer:
            return answer.status, answer.read(), answer.headers.get("content-type", "application/json")
    except urllib.error.HTTPError as exc:  # a 4xx/5xx of the replica is an answer to pass on
        return exc.code, exc.read(), exc.headers.get("content-type", "application/json")


async def health(request: Request) -> JSONResponse:
    with _lock:
        return JSONResponse({"status": "ok", "backends": list(_backends)})


async def stats(request: Request) -> JSONResponse:
    with _lock:
        return JSONResponse({str(port): count for port, count in sorted(_counts.items())})


async def set_backends(request: Request) -> JSONResponse:
    global _backends, _cycle
    try:
        ports = parse_backends(await request.body())
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    with _lock:
        _backends = list(ports)
        _cycle = itertools.cycle(_backends)
    return JSONResponse({"backends": ports})


async def forward(request: Request) -> Response:
    body = await request.body()
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    for port in _next_backends():
        try:
            status, content, media = await run_in_threadpool(_forward, port, request.method, path, body, headers)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            continue  # that replica is going away: try the next one
        with _lock:
            _counts[port] += 1
        return Response(content, status_code=status, media_type=media)
    return JSONResponse({"detail": "no ready replica behind the proxy; wait for one to start"}, status_code=503)


_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
app = Starlette(routes=[
    Route("/_proxy/health", health, methods=["GET"]),
    Route("/_proxy/stats", stats, methods=["GET"]),
    Route("/_proxy/backends", set_backends, methods=["PUT"]),
    Route("/{path:path}", forward, methods=_METHODS),
])
app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
