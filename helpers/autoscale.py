"""Horizontal autoscaling on one machine: the Kubernetes HPA rule, replicas as processes, a proxy, a load.

    from helpers import autoscale

    hpa = autoscale.HPA(min_replicas=1, max_replicas=3, target_utilization=20)
    with autoscale.serve_proxy(log_path=OUT / "proxy.log") as proxy, \\
            autoscale.LocalDeployment("helpers.serving.wine_service:app", APP_DIR, proxy=proxy, log_dir=OUT) as deploy:
        deploy.scale(1)
        ...   # every sync period: measure CPU, hpa.recommend(...), deploy.scale(...)

- ``desired_replicas`` and ``HPA``: the horizontal pod autoscaler's rule, its tolerance, its scale-down
  stabilisation window and a scale-up limit, as the Kubernetes controller applies them.
- ``cpu_seconds`` and ``CpuMeter`` (from ``helpers.procstats``): the CPU time processes used between two
  samples (what metrics-server reports per pod), to the nanosecond on Linux.
- ``LocalDeployment``: replicas of a uvicorn app, each started and stopped by its process id through
  ``helpers.serving.serve``; replicas start in the background and join the proxy once healthy.
- ``serve_proxy``: the round-robin proxy of ``helpers.serving.autoscale_proxy`` (the Service), and
  ``Proxy``, its client.
- ``listening_ports`` (from ``helpers.procstats``): the TCP ports processes listen on (to prove nothing is
  left running).

The load comes from ``helpers.loadgen.LoadGenerator``, and ``helpers.manifests.validate_manifest`` checks the
Deployment, Service and HorizontalPodAutoscaler manifests against the Kubernetes API's JSON schema.

Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from helpers import serving
from helpers.arguments import number, whole
from helpers.procstats import CpuMeter, cpu_seconds, listening_ports  # noqa: F401 (the lab uses autoscale.*)

# --- the rule --------------------------------------------------------------------------------------

def desired_replicas(current: int, utilization: float, target: float, tolerance: float = 0.1) -> int:
    """The HPA rule: ``ceil(current * utilization / target)``, or ``current`` within the tolerance.

    ``utilization`` and ``target`` are in percent of the CPU each replica requests. Kubernetes leaves the
    count alone while ``utilization / target`` is within ``tolerance`` (10 %) of 1, so that noise in the
    measurement does not make replicas come and go. Not clamped to min/max: ``HPA.recommend`` does that.

    Raises:
        ValueError: ``current`` below 1 (an HPA does not act on a Deployment scaled to 0: there is nothing
            to measure), a negative utilisation, a target or tolerance out of range.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """
    if isinstance(current, int) and not isinstance(current, bool) and current == 0:
        raise ValueError("current replicas is 0: the HPA does not act on a Deployment scaled to zero (no pod "
                         "to measure); scale it to at least 1 (kubectl scale --replicas=1)")
    whole("current replicas", current)
    number("utilization", utilization, positive=False)
    number("target", target)
    number("tolerance", tolerance, positive=False)
    ratio = utilization / target
    if abs(ratio - 1.0) <= tolerance:
        return current
    return max(1, math.ceil(current * ratio - 1e-9))  # a hair below: 3 x 40 / 20 is 6, not 7 by rounding


@dataclass
class Decision:
    """One pass of the autoscaler: the rule's answer, after stabilisation, after limits.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """

    current: int
    utilization: float
    raw: int           # ceil(current x utilization / target), tolerance applied
    stabilized: int    # the highest recommendation of the scale-down window (if lower than current)
    desired: int       # after the scale-up limit and the min/max clamp: what the Deployment is set to


@dataclass
class HPA:
    """A horizontal pod autoscaler: target CPU utilisation, replica bounds, tolerance and behaviour.

    Args:
        min_replicas, max_replicas: the bounds (``minReplicas``, ``maxReplicas``).
        target_utilization: target average CPU utilisation, percent of the CPU request.
        tolerance: no change while utilisation / target is within this share of 1 (Kubernetes: 0.1).
        scale_down_window: seconds of recommendations whose highest one a scale-down may not go below
            (``behavior.scaleDown.stabilizationWindowSeconds``, Kubernetes default 300).
        scale_up_pods: at most this many replicas added per decision (a ``Pods`` scale-up policy); None: no limit.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """

    min_replicas: int
    max_replicas: int
    target_utilization: float
    tolerance: float = 0.1
    scale_down_window: float = 300.0
    scale_up_pods: int | None = None
    _history: list[tuple[float, int]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        whole("min_replicas", self.min_replicas)
        whole("max_replicas", self.max_replicas)
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas}); "
                             "maxReplicas must be at least minReplicas")
        number("target_utilization", self.target_utilization)
        number("tolerance", self.tolerance, positive=False)
        number("scale_down_window", self.scale_down_window, positive=False)
        if self.scale_up_pods is not None:
            whole("scale_up_pods", self.scale_up_pods)

    def recommend(self, now: float, current: int, utilization: float) -> Decision:
        """The replica count for ``current`` replicas at ``utilization`` percent, at time ``now`` (seconds)."""
        number("now", now, positive=False)
        raw = desired_replicas(current, utilization, self.target_utilization, self.tolerance)
        self._history = [(t, r) for t, r in self._history if now - t < self.scale_down_window]
        self._history.append((now, raw))
        stabilized = raw
        if raw < current:  # scale down only to the highest recommendation of the window
            stabilized = min(current, max(r for _, r in self._history))
        desired = stabilized
        if self.scale_up_pods is not None and desired > current:
            desired = min(desired, current + self.scale_up_pods)
        desired = max(self.min_replicas, min(self.max_replicas, desired))
        return Decision(current, utilization, raw, stabilized, desired)


# --- the proxy (the Service) -------------------------------------------------------------------------



@dataclass
class Proxy:
    """Client of a running round-robin proxy: its ``url``, its ``server``, its backends and counts.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """

    server: serving.Server

    @property
    def url(self) -> str:
        return self.server.url

    def _call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with serving.LOCAL_OPENER.open(request, timeout=10) as answer:
            return json.loads(answer.read())

    def set_backends(self, ports: list[int]) -> None:
        """Send traffic to these ports of 127.0.0.1 (the ready replicas), in turn."""
        self._call("PUT", "/_proxy/backends", list(ports))

    def backends(self) -> list[int]:
        return self._call("GET", "/_proxy/health")["backends"]

    def stats(self) -> dict[int, int]:
        """Requests forwarded to each port since the proxy started."""
        return {int(port): count for port, count in self._call("GET", "/_proxy/stats").items()}


def _app_dir() -> str:
    return os.path.relpath(Path(__file__).resolve().parent.parent)  # the folder `helpers` imports from


@contextlib.contextmanager
def serve_proxy(log_path: str | os.PathLike | None = None, timeout: float = 30.0) -> Iterator[Proxy]:
    """The round-robin proxy (``helpers.serving.autoscale_proxy``) as a uvicorn process, for a ``with`` block.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """
    with serving.serve("helpers.serving.autoscale_proxy:app", app_dir=_app_dir(), health_path="/_proxy/health",
                       timeout=timeout, log_path=log_path) as server:
        yield Proxy(server)


# --- the replicas (the Deployment) -------------------------------------------------------------------

@dataclass
class Replica:
    """One running replica: its name, its server and when it was asked for and became ready.

    ``stop()`` closes its stack: out of the proxy's backends first, then its server stopped by its pid
    (``serving.serve``'s exit); a second ``stop()`` does nothing.
    """

    name: str
    server: serving.Server = field(repr=False)
    requested_at: float
    ready_at: float
    stack: contextlib.ExitStack = field(repr=False)

    def stop(self) -> None:
        self.stack.close()

    @property
    def pid(self) -> int:
        return self.server.process.pid

    @property
    def port(self) -> int:
        return self.server.port


class LocalDeployment:
    """Replicas of a uvicorn app on 127.0.0.1, scaled up and down like a Kubernetes Deployment.

    ``scale(n)`` returns at once: new replicas start in background threads (through
    ``helpers.serving.serve``) and join the proxy's backends once healthy, as a pod joins its Service once
    ready; surplus replicas leave the proxy first, then are stopped by their process id. Every replica is
    entered into the deployment's ``ExitStack``: leaving the ``with`` block, normally or through an exception,
    waits for the replicas still starting (each stops itself), then stops the others in reverse order.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """

    def __init__(self, app: str, app_dir: str | os.PathLike, *, log_dir: str | os.PathLike,
                 proxy: Proxy | None = None, env: dict[str, str] | None = None, name: str = "replica",
                 startup_timeout: float = 60.0) -> None:
        self.app, self.app_dir, self.log_dir = app, app_dir, Path(log_dir)
        self.proxy, self.env, self.name = proxy, env, name
        self.startup_timeout = number("startup_timeout", startup_timeout)
        self.replicas = 0                     # what was asked for (spec.replicas)
        self.ready: list[Replica] = []        # running and healthy
        self.errors: list[str] = []           # replicas that failed to start or exited while ready
        self.started = 0                      # replicas started so far (names are numbered)
        self.all_pids: list[int] = []         # every replica process ever started, to check none is left
        self.startup_seconds: list[float] = []  # from scale() asking for a replica to it being ready
        self._starting = 0
        self._threads: list[threading.Thread] = []
        self.published: list[int] = []        # the ports the proxy was last told about
        self._lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._closing = False
        self._stack = contextlib.ExitStack()  # every replica that became ready, in order

    def __enter__(self) -> LocalDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [r.pid for r in self.ready]

    def wait_ready(self, replicas: int, timeout: float = 60.0) -> None:
        """Block until ``replicas`` replicas are ready and in the proxy; ``TimeoutError`` (with errors) otherwise."""
        whole("replicas", replicas)
        deadline = time.monotonic() + number("timeout", timeout)
        known = len(self.errors)  # errors from before this wait were reported already
        while len(self.ready) < replicas or len(self.published) < replicas:
            if len(self.errors) > known or time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.ready)} of {replicas} replicas ready after {timeout:g} s; "
                                   f"errors: {self.errors or 'none'}; see the replicas' logs in {self.log_dir.name}/")
            time.sleep(0.05)

    def scale(self, replicas: int) -> None:
        """Ask for ``replicas`` replicas (at least 1); start or stop the difference.

        A ready replica whose process has exited is first recorded in ``errors`` and dropped, so it is
        replaced, as Kubernetes replaces a crashed pod."""
        whole("replicas", replicas)
        if self._closing:
            raise RuntimeError("the deployment is closed; create a new one")
        with self._lock:
            exited = [r for r in self.ready if not r.server.running]
            for replica in exited:  # a crashed pod: recorded, and replaced below, as a ReplicaSet would
                self.errors.append(f"{replica.name}: exited with code {replica.server.process.poll()} while serving")
            alive = [r for r in self.ready if r not in exited]
            self.replicas = replicas
            missing = replicas - len(alive) - self._starting
            leaving, self.ready = exited + alive[replicas:], alive[:replicas]
            for _ in range(max(0, missing)):
                self.started += 1
                self._starting += 1
                thread = threading.Thread(target=self._start, args=(f"{self.name}-{self.started}",), daemon=True)
                self._threads.append(thread)
                thread.start()
        for replica in leaving:
            replica.stop()  # out of the proxy first, so no new request reaches it; then stopped

    def _publish(self) -> None:
        with self._publish_lock:  # one update at a time, each with the latest list of ready replicas
            with self._lock:
                ports = [r.port for r in self.ready]
            if self.proxy is not None:
                self.proxy.set_backends(ports)
            self.published = ports

    def _withdraw(self, replica: Replica) -> None:
        with self._lock:
            self.ready = [r for r in self.ready if r is not replica]
        if self.proxy is None or self.proxy.server.running:
            with contextlib.suppress(OSError):  # a proxy that cannot be reached sends it nothing either
                self._publish()

    def _start(self, name: str) -> None:
        requested = time.monotonic()
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(serving.serve(self.app, app_dir=self.app_dir, env=self.env,
                                                       timeout=self.startup_timeout,
                                                       log_path=self.log_dir / f"{name}.log"))
        except Exception as exc:  # recorded in self.errors: wait_ready and the notebook show it
            with self._lock:
                self._starting -= 1
                self.errors.append(f"{name}: {exc}")
            return
        replica = Replica(name, server, requested, time.monotonic(), stack)
        stack.callback(self._withdraw, replica)  # on the way out: leave the proxy first, then stop
        with self._lock:
            self.all_pids.append(replica.pid)
            self.startup_seconds.append(replica.ready_at - replica.requested_at)
            self._starting -= 1
            keep = not self._closing and len(self.ready) < self.replicas
            if keep:
                self.ready.append(replica)
                self._stack.enter_context(stack)
        if keep:
            self._publish()
        else:
            replica.stop()

    def close(self) -> None:
        """Stop every replica: wait for those still starting (each then stops itself), then close the stack."""
        with self._lock:
            self._closing = True
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(self.startup_timeout + 15)
        self._stack.close()
