"""A bounded HTTP load from threads that follows a schedule of concurrent clients (a ramp up, then down).

    with LoadGenerator(url, payload, [(5, 1), (10, 4), (5, 0)]) as load:
        while load.elapsed() < load.duration:
            ...   # watch the servers while the load runs

Only servers on this machine are accepted as targets, the number of clients is capped, and every client
stops after the last phase (or when the block is left).

Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
"""

from __future__ import annotations

import math
import threading
import time
from urllib.parse import urlsplit


def _int(name: str, value: object, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int of at least {low}, got {value!r}")
    return value


def _number(name: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}")
    return float(value)


class LoadGenerator:
    """Bounded HTTP load from threads: ``schedule`` is a list of (seconds, concurrent clients) phases.

    Each client posts ``payload`` to ``url`` again and again (one session each) while its phase wants
    it; after the last phase every client stops. ``results`` holds (start second, status, latency seconds)
    per request, status 0 for a request that failed without an answer.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """

    def __init__(self, url: str, payload: object, schedule: list[tuple[float, int]], max_clients: int = 32,
                 timeout: float = 10.0) -> None:
        if not isinstance(url, str) or urlsplit(url).scheme != "http" \
                or urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"url must be a server on this machine (http://127.0.0.1:PORT/...), got {url!r}")
        if not isinstance(schedule, list) or not schedule:
            raise ValueError("schedule must be a non-empty list of (seconds, clients) phases")
        for phase in schedule:
            if not (isinstance(phase, (tuple, list)) and len(phase) == 2):
                raise ValueError(f"each phase must be (seconds, clients), got {phase!r}")
            _number("a phase's seconds", phase[0])
            _int("a phase's clients", phase[1], 0)
            if phase[1] > max_clients:
                raise ValueError(f"a phase asks for {phase[1]} clients, over max_clients={max_clients}")
        self.url, self.payload, self.schedule, self.timeout = url, payload, schedule, timeout
        self.duration = float(sum(s for s, _ in schedule))
        self.results: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._start = 0.0

    def clients_at(self, second: float) -> int:
        """How many clients the schedule wants ``second`` seconds after the start (0 after the end)."""
        end = 0.0
        for seconds, clients in self.schedule:
            end += seconds
            if second < end:
                return clients
        return 0

    def __enter__(self) -> LoadGenerator:
        self._start = time.monotonic()
        for index in range(max(c for _, c in self.schedule)):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def _client(self, index: int) -> None:
        import requests

        with requests.Session() as session:
            session.trust_env = False  # never through an HTTP(S)_PROXY
            while not self._stop.is_set():
                second = self.elapsed()
                if second >= self.duration:
                    return
                if index >= self.clients_at(second):
                    time.sleep(0.05)
                    continue
                start = time.monotonic()
                try:
                    status = session.post(self.url, json=self.payload, timeout=self.timeout).status_code
                except requests.RequestException:
                    status = 0
                self.results.append((second, status, time.monotonic() - start))
