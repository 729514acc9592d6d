"""What local processes use: their CPU time (to the nanosecond on Linux) and the ports they listen on.

    from helpers import procstats

    meter = procstats.CpuMeter()
    meter.sample(pids)              # the starting point
    cores = meter.sample(pids)      # {pid: cores used since the last sample}, what metrics-server reports per pod

Re-exported by ``helpers.autoscale``.

Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used, in seconds, summed over its threads.

    On Linux it is read from ``/proc/<pid>/task/*/schedstat`` in nanoseconds; elsewhere it is psutil's user
    + system time, counted in clock ticks of 10 ms. Ticks are too coarse here: one tick in a 1-second
    sample is 10 % of a 100m CPU request, enough to keep an idle replica "busy".

    Raises:
        ProcessLookupError: no process has this pid (it exited).

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """
    tasks = Path(f"/proc/{pid}/task")
    if not Path("/proc/self/task").is_dir():  # not Linux
        import psutil

        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error as exc:
            raise ProcessLookupError(f"no process {pid}") from exc
        return times.user + times.system
    try:
        threads = list(tasks.iterdir())
    except OSError as exc:
        raise ProcessLookupError(f"no process {pid}") from exc
    total = 0
    for thread in threads:
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that ended meanwhile
            total += int((thread / "schedstat").read_text().split()[0])
    return total / 1e9


class CpuMeter:
    """CPU cores each process used since the previous sample (CPU time / wall time), from ``cpu_seconds``.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """

    def __init__(self) -> None:
        self._last: dict[int, tuple[float, float]] = {}

    def sample(self, pids: list[int]) -> dict[int, float]:
        """Cores used by each pid since it was last sampled; a pid seen for the first time is left out."""
        now, used = time.monotonic(), {}
        for pid in pids:
            try:
                cpu = cpu_seconds(pid)
            except ProcessLookupError:  # it exited meanwhile
                self._last.pop(pid, None)
                continue
            if pid in self._last:
                last_cpu, last_time = self._last[pid]
                used[pid] = max(0.0, cpu - last_cpu) / max(now - last_time, 1e-6)
            self._last[pid] = (cpu, now)
        self._last = {pid: v for pid, v in self._last.items() if pid in pids}
        return used


def listening_ports(pids: list[int]) -> list[int]:
    """The TCP ports on which any of ``pids`` still listens (empty once they are all stopped).

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """
    import psutil

    ports = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        ports |= {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}
    return sorted(ports)
