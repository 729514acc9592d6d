"""Run Locust headless, bounded in users and seconds, against a server on 127.0.0.1 only; read its stats.

    from helpers import loadtest

    stats = loadtest.run_locust("locustfile.py", "http://127.0.0.1:8000", users=10, spawn_rate=5,
                                run_time=8, stats_prefix=OUT / "run")
    stats[["name", "requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms"]]
    loadtest.read_history(OUT / "run")    # per second, with run_locust(..., history=True)

Locust runs as its own process (``python -m locust --headless ...``), as a load generator would, and is
stopped by its own id if it overruns. Its final statistics (``--json-file <prefix>``) become a DataFrame
with one row per request name plus the ``Aggregated`` row.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from helpers.arguments import number, whole
from helpers.serving.process import launch, log_excerpt

MAX_USERS = 200        # simulated users in one run: a load test here stays small
MAX_SECONDS = 600      # seconds of one run
STARTUP_SECONDS = 60   # what Locust may take, beyond run_time, to start, stop and write its statistics

COLUMNS = ["method", "name", "requests", "failures", "rps", "failures_per_s",  # the columns of read_stats
           "mean_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms"]


class LoadTestError(RuntimeError):
    """A Locust run that failed, overran its time or left no statistics.

    Introduced in course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb.
    """


def check_host(host: str) -> str:
    """``host`` (``http://127.0.0.1:PORT``) without a trailing slash; anything else is refused.

    A load test is an attack on whatever it targets: here it may only target this machine's loopback
    address, 127.0.0.1, on an explicit port.

    Introduced in course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb.
    """
    if not isinstance(host, str):
        raise TypeError(f"host must be a URL such as 'http://127.0.0.1:8000', got {type(host).__name__}")
    parts = urlsplit(host.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"host must be a URL such as 'http://127.0.0.1:8000', got {host!r}")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        address = None
    if address != ipaddress.ip_address("127.0.0.1"):
        raise ValueError(f"load tests here may target 127.0.0.1 only, not {parts.hostname!r}; "
                         "start the server locally (helpers.serving.serve) and pass its url")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        raise ValueError(f"host must name its port, e.g. 'http://127.0.0.1:8000', got {host!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"host must be scheme, address and port only (paths go in the locustfile), got {host!r}")
    return f"{parts.scheme}://127.0.0.1:{port}"


def locust_command(locustfile: str | os.PathLike, host: str, users: int, spawn_rate: float, run_time: int,
                   stats_prefix: str | os.PathLike, history: bool = False) -> list[str]:
    """The ``python -m locust`` command line of a bounded headless run (arguments checked).

    ``history=True`` adds ``--csv <prefix> --csv-full-history``: Locust then appends, once a second, a row
    per request name to ``<prefix>_stats_history.csv`` (what its web page charts); ``read_history`` reads it.

    Introduced in course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb.
    """
    host = check_host(host)
    whole("users", users, 1, MAX_USERS)
    if number("spawn_rate", spawn_rate) > MAX_USERS:
        raise ValueError(f"spawn_rate must be a finite number above 0 and at most {MAX_USERS}, got {spawn_rate!r}")
    whole("run_time", run_time, 1, MAX_SECONDS)
    locustfile = Path(locustfile)
    if not locustfile.is_file():
        raise FileNotFoundError(f"no locustfile at {str(locustfile)!r}; write one (an HttpUser class) first")
    return [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "-u", str(users), "-r", f"{spawn_rate:g}", "-t", f"{run_time}s", "--host", host,
            "--json-file", str(stats_prefix), "--only-summary", "--loglevel", "WARNING",
            *(["--csv", str(stats_prefix), "--csv-full-history"] if history else [])]


def run_locust(locustfile: str | os.PathLike, host: str, *, users: int, spawn_rate: float, run_time: int,
               stats_prefix: str | os.PathLike, env: dict[str, str] | None = None,
               log_path: str | os.PathLike | None = None, history: bool = False) -> pd.DataFrame:
    """Run Locust headless for ``run_time`` seconds with ``users`` users and return its statistics.

    Args:
        locustfile: the file that defines the users (``HttpUser`` classes) and their tasks.
        host: ``http://127.0.0.1:PORT``; any other address is refused.
        users: simulated users (1 to ``MAX_USERS``), started ``spawn_rate`` per second.
        run_time: whole seconds (1 to ``MAX_SECONDS``); Locust stops its users then.
        stats_prefix: Locust writes its final statistics to ``<prefix>.json`` (``--json-file``). Its
            ``--csv`` files are rewritten by a timer once a second, and miss the end of a short run.
        env: extra environment variables for the Locust process (the locustfile can read them).
        log_path: Locust's own output (default ``<prefix>.log``).
        history: also write the statistics of every second (``read_history(stats_prefix)`` reads them).

    Returns:
        ``read_stats(stats_prefix)``: one row per request name, and the ``Aggregated`` row.

    Raises:
        TypeError, ValueError, FileNotFoundError: bad arguments, before anything starts.
        LoadTestError: Locust crashed, overran ``run_time`` by ``STARTUP_SECONDS`` (it is then stopped by
            its process id) or wrote no statistics; the message ends with its log.

    Introduced in course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb.
    """
    command = locust_command(locustfile, host, users, spawn_rate, run_time, stats_prefix, history)
    stats_prefix = Path(stats_prefix)
    stats_prefix.parent.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", "_stats_history.csv"):
        Path(f"{stats_prefix}{suffix}").unlink(missing_ok=True)
    log_path = Path(log_path) if log_path is not None else stats_prefix.with_name(stats_prefix.name + ".log")
    # nothing in the environment may widen the run (LOCUST_USERS, LOCUST_HOST ...)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")} | (env or {})
    with launch(command, log_path, env=child_env) as process:  # stopped by its own id, never by name
        try:
            process.wait(timeout=run_time + STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            raise LoadTestError(f"Locust overran {run_time} s by more than {STARTUP_SECONDS} s and was stopped"
                                f"{log_excerpt(log_path)}") from None
    if process.returncode not in (0, 1):  # 1: the run had failed requests, which the stats show
        raise LoadTestError(f"Locust exited with code {process.returncode}{log_excerpt(log_path)}")
    try:
        return read_stats(stats_prefix)
    except FileNotFoundError:
        raise LoadTestError(f"Locust wrote no statistics{log_excerpt(log_path)}") from None


def read_stats(stats_prefix: str | os.PathLike) -> pd.DataFrame:
    """Locust's final statistics, ``<prefix>.json`` (``--json-file``), as one row per request name plus
    the ``Aggregated`` row: requests, failures, requests/s and latency (mean, percentiles) in ms.

    Percentiles are computed as Locust computes them, from its histogram of response times (rounded to
    two significant digits above 100 ms).

    Introduced in course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb.
    """
    path = Path(f"{stats_prefix}.json")
    if not path.is_file():
        raise FileNotFoundError(f"no Locust statistics at {str(path)!r}; run Locust with --json-file {stats_prefix}")
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not JSON ({exc}); it must be the file Locust's --json-file writes") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and _ENTRY_KEYS <= set(e) for e in entries):
        raise ValueError(f"{path.name} is not Locust's statistics: a list of entries with the keys "
                         f"{sorted(_ENTRY_KEYS)}")
    if not entries:
        raise ValueError(f"{path.name} has no entries: the run made no requests (is the server up? is the run "
                         "long enough?)")
    rows = [_row(e["method"] or "", e["name"], [e]) for e in entries]
    rows.append(_row("", "Aggregated", entries))
    return pd.DataFrame(rows, columns=COLUMNS)


_ENTRY_KEYS = {"name", "method", "num_requests", "num_failures", "start_time", "last_request_timestamp",
               "total_response_time", "max_response_time", "min_response_time", "response_times"}


def _row(method: str, name: str, entries: list[dict]) -> dict:
    histogram: dict[int, int] = {}
    for entry in entries:
        for time_ms, count in entry["response_times"].items():
            histogram[int(time_ms)] = histogram.get(int(time_ms), 0) + int(count)
    requests = sum(int(e["num_requests"]) for e in entries)
    failures = sum(int(e["num_failures"]) for e in entries)
    starts = [e["start_time"] for e in entries]
    lasts = [e["last_request_timestamp"] for e in entries if e["last_request_timestamp"] is not None]
    seconds = max(lasts) - min(starts) if lasts else 0.0
    minimums = [e["min_response_time"] for e in entries if e["min_response_time"] is not None]
    return {
        "method": method, "name": name, "requests": requests, "failures": failures,
        "rps": requests / seconds if seconds > 0 else float("nan"),
        "failures_per_s": failures / seconds if seconds > 0 else float("nan"),
        "mean_ms": sum(e["total_response_time"] for e in entries) / requests if requests else float("nan"),
        "min_ms": min(minimums) if minimums else float("nan"),
        "max_ms": max((e["max_response_time"] for e in entries), default=float("nan")),
        **{f"p{round(q * 100)}_ms": percentile(histogram, q) for q in (0.5, 0.95, 0.99)},
    }


def percentile(histogram: dict[int, int], fraction: float) -> float:
    """The response time (ms) below which ``fraction`` of the requests fall, from ``{ms: count}``, as Locust
    computes it; NaN for no requests.

    Introduced in course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb.
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    total = sum(histogram.values())
    if total == 0:
        return float("nan")
    below = int(total * fraction)
    processed = 0
    for time_ms in sorted(histogram, reverse=True):
        processed += histogram[time_ms]
        if total - processed <= below:
            return float(time_ms)
    return float(min(histogram))




def read_history(stats_prefix: str | os.PathLike) -> pd.DataFrame:
    """Locust's per-second statistics, ``<prefix>_stats_history.csv`` (``--csv-full-history``), one row per
    second and request name (``Aggregated`` included): ``second`` since the first row, ``users``,
    ``rps`` and ``p50_ms``/``p95_ms`` as Locust's web page charts them (over its last few seconds), and
    ``requests``, the running total.

    Introduced in course4_deployment/C4_W2_Lab_2_Load_Testing.ipynb.
    """
    path = Path(f"{stats_prefix}_stats_history.csv")
    if not path.is_file():
        raise FileNotFoundError(f"no Locust history at {str(path)!r}; run Locust with --csv {stats_prefix} "
                                "--csv-full-history (run_locust(..., history=True))")
    raw = pd.read_csv(path)
    needed = {"Timestamp", "User Count", "Name", "Requests/s", "50%", "95%", "Total Request Count"}
    if not needed <= set(raw.columns):
        raise ValueError(f"{path.name} is not Locust's stats history: it lacks {sorted(needed - set(raw.columns))}")
    if raw.empty:
        raise ValueError(f"{path.name} has no rows: the run was shorter than a second")
    percentiles = raw[["50%", "95%"]].apply(pd.to_numeric, errors="coerce")  # "N/A" before any request
    return pd.DataFrame({
        "second": raw["Timestamp"] - raw["Timestamp"].min(), "name": raw["Name"], "users": raw["User Count"],
        "rps": raw["Requests/s"].astype(float), "p50_ms": percentiles["50%"], "p95_ms": percentiles["95%"],
        "requests": raw["Total Request Count"].astype(int),
    })
