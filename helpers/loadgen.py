"""A bounded HTTP load from threads that follows a schedule: concurrent clients, or requests per second.

    with LoadGenerator(url, payload, [(5, 1), (10, 4), (5, 0)]) as load:              # clients
        while load.elapsed() < load.duration:
            ...   # watch the servers while the load runs
    LoadGenerator(url, payload, [(5, 30.0), (10, 100.0), (5, 0)], paced=True)           # requests per second

Only servers on this machine are accepted as targets, the number of clients is capped, and every client
stops after the last phase (or when the block is left).

Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from helpers.arguments import number, whole


class LoadGenerator:
    """Bounded HTTP load from threads: ``schedule`` is a list of (seconds, level) phases.

    By default the level is a number of concurrent clients: each client posts ``payload`` to ``url`` again
    and again (one session each) while its phase wants it. With ``paced=True`` the level is a rate in
    requests per second, sent on time by ``threads`` threads whatever the answers' speed (an open load: the
    server's CPU use then follows the rate, not its speed); a send more than a second late is skipped and
    counted in ``skipped``. After the last phase everything stops. ``results`` holds (start second, status,
    latency seconds) per request, status 0 for a request that failed without an answer.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """

    def __init__(self, url: str, payload: object, schedule: list[tuple[float, float]], max_clients: int = 32,
                 timeout: float = 10.0, paced: bool = False, threads: int = 8, max_rate: float = 2000.0) -> None:
        if not isinstance(url, str) or urlsplit(url).scheme != "http" \
                or urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"url must be a server on this machine (http://127.0.0.1:PORT/...), got {url!r}")
        if not isinstance(schedule, list) or not schedule:
            raise ValueError("schedule must be a non-empty list of (seconds, clients) phases")
        for phase in schedule:
            if not (isinstance(phase, (tuple, list)) and len(phase) == 2):
                raise ValueError(f"each phase must be (seconds, clients), got {phase!r}")
            number("a phase's seconds", phase[0])
            if paced:
                if phase[1] != 0:
                    number("a phase's requests per second", phase[1])
                if phase[1] > max_rate:
                    raise ValueError(f"a phase asks for {phase[1]} requests/s, over max_rate={max_rate:g}")
            else:
                whole("a phase's clients", phase[1], 0, max_clients, "the generator's max_clients")
        whole("threads", threads)
        self.url, self.payload, self.schedule, self.timeout = url, payload, schedule, timeout
        self.paced, self.threads, self.skipped = paced, threads, 0
        self.duration = float(sum(s for s, _ in schedule))
        self._phase, self._phase_start, self._sent = 0, 0.0, 0  # paced: where the schedule is
        self._lock = threading.Lock()
        self.results: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._start = 0.0

    def clients_at(self, second: float) -> float:
        """The level (clients, or requests/s if paced) the schedule wants ``second`` seconds after the start
        (0 after the end)."""
        end = 0.0
        for seconds, level in self.schedule:
            end += seconds
            if second < end:
                return level
        return 0

    def _next_send(self) -> float | None:
        """Paced: claim the next send time (seconds after the start); None once the schedule is over."""
        with self._lock:
            while self._phase < len(self.schedule):
                seconds, rate = self.schedule[self._phase]
                due = self._phase_start + (self._sent / rate if rate else seconds)
                if due >= self._phase_start + seconds - 1e-9:  # this phase is over (a quiet one at once)
                    self._phase, self._phase_start, self._sent = self._phase + 1, self._phase_start + seconds, 0
                    continue
                self._sent += 1
                if due < self.elapsed() - 1.0:  # over a second late: this machine cannot keep up, skip it
                    self.skipped += 1
                    continue
                return due
            return None

    def __enter__(self) -> LoadGenerator:
        self._start = time.monotonic()
        count = self.threads if self.paced else int(max(c for _, c in self.schedule))
        for index in range(count):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def wait(self) -> None:
        """Block until the schedule is over and every client has finished its last request."""
        for thread in self._threads:
            thread.join()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def _client(self, index: int) -> None:
        import requests

        with requests.Session() as session:
            session.trust_env = False  # never through an HTTP(S)_PROXY
            while not self._stop.is_set():
                if self.paced:
                    due = self._next_send()
                    if due is None or self._stop.wait(max(0.0, due - self.elapsed())):
                        return
                    second = due
                else:
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
