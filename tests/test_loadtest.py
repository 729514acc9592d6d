"""Tests of helpers/loadtest.py: bounded headless Locust runs aimed at 127.0.0.1 only, and their statistics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import psutil
import pytest

from helpers import loadtest, serving

LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class Client(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def home(self):
        self.client.get("/")
"""
APP = """\
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""


@pytest.fixture
def locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "locustfile.py"
    path.write_text(LOCUSTFILE)
    return path


@pytest.mark.parametrize("host", ["http://127.0.0.1:8000", "http://127.0.0.1:8000/", " https://127.0.0.1:443 "])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert loadtest.check_host(host).startswith(("http://127.0.0.1:", "https://127.0.0.1:"))


@pytest.mark.parametrize(("host", "message"), [
    ("http://192.0.2.10:8000", "127.0.0.1 only"),
    ("http://203.0.113.5:80", "127.0.0.1 only"),
    ("http://localhost:8000", "127.0.0.1 only"),
    ("http://127.0.0.2:8000", "127.0.0.1 only"),
    ("http://0.0.0.0:8000", "127.0.0.1 only"),
    ("http://example.com:8000", "127.0.0.1 only"),
    ("http://127.0.0.1", "name its port"),
    ("http://127.0.0.1:99999", "name its port"),
    ("http://127.0.0.1:8000/predict", "scheme, address and port only"),
    ("127.0.0.1:8000", "must be a URL"),
    ("ftp://127.0.0.1:21", "must be a URL"),
    ("", "must be a URL"),
])
def test_other_hosts_are_refused(host: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        loadtest.check_host(host)


def test_a_host_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(TypeError, match="host must be a URL"):
        loadtest.check_host(("127.0.0.1", 8000))


USERS = f"users must be an int from 1 to {loadtest.MAX_USERS}"
RUN_TIME = f"run_time must be an int from 1 to {loadtest.MAX_SECONDS}"


@pytest.mark.parametrize(("change", "message"), [
    ({"users": 0}, f"{USERS}, got 0"),
    ({"users": -3}, f"{USERS}, got -3"),
    ({"users": loadtest.MAX_USERS + 1}, f"{USERS}, got {loadtest.MAX_USERS + 1}"),
    ({"users": 2.5}, f"{USERS}, got 2.5"),
    ({"users": True}, f"{USERS}, got True"),
    ({"spawn_rate": 0}, "spawn_rate must be a finite number above 0, got 0"),
    ({"spawn_rate": "5"}, "spawn_rate must be a finite number above 0, got '5'"),
    ({"spawn_rate": loadtest.MAX_USERS + 1}, f"above 0 and at most {loadtest.MAX_USERS}, got"),
    ({"run_time": -5}, f"{RUN_TIME}, got -5"),
    ({"run_time": 0}, f"{RUN_TIME}, got 0"),
    ({"run_time": loadtest.MAX_SECONDS + 1}, f"{RUN_TIME}, got {loadtest.MAX_SECONDS + 1}"),
    ({"run_time": 1.5}, f"{RUN_TIME}, got 1.5"),
    ({"host": "http://198.51.100.7:8000"}, "127.0.0.1 only"),
])
def test_unbounded_or_misdirected_runs_are_refused_before_starting(
        locustfile: Path, tmp_path: Path, change: dict, message: str) -> None:
    arguments = {"host": "http://127.0.0.1:8000", "users": 2, "spawn_rate": 2, "run_time": 1,
                 "stats_prefix": tmp_path / "run"} | change
    before = psutil.Process().children(recursive=True)
    with pytest.raises(ValueError, match=message):
        loadtest.run_locust(locustfile, **arguments)
    assert psutil.Process().children(recursive=True) == before
    assert not list(tmp_path.glob("run*"))


def test_a_missing_locustfile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no locustfile"):
        loadtest.locust_command(tmp_path / "nothing.py", "http://127.0.0.1:8000", 1, 1, 1, tmp_path / "run")


def test_the_command_is_bounded_and_headless(locustfile: Path, tmp_path: Path) -> None:
    command = loadtest.locust_command(locustfile, "http://127.0.0.1:8000/", 10, 5, 8, tmp_path / "run")
    assert command[:3] == [sys.executable, "-m", "locust"]
    text = " ".join(command)
    assert "--headless" in command and "-u 10 -r 5 -t 8s" in text and "--host http://127.0.0.1:8000 " in text
    assert command[command.index("--json-file") + 1] == str(tmp_path / "run")


def test_history_adds_the_csv_options(locustfile: Path, tmp_path: Path) -> None:
    command = loadtest.locust_command(locustfile, "http://127.0.0.1:8000", 2, 2, 3, tmp_path / "run", history=True)
    assert command[-3:] == ["--csv", str(tmp_path / "run"), "--csv-full-history"]
    assert "--csv" not in loadtest.locust_command(locustfile, "http://127.0.0.1:8000", 2, 2, 3, tmp_path / "run")


HISTORY = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,\
Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,\
Total Min Response Time,Total Max Response Time,Total Average Content Size
1000,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0.0
1001,4,POST,batch of 1,0.000000,0.000000,12,13,14,15,16,17,18,19,20,20,20,40,0,12,12.5,3,20,24.0
1001,4,,Aggregated,0.000000,0.000000,12,13,14,15,16,17,18,19,20,20,20,40,0,12,12.5,3,20,24.0
1002,4,POST,batch of 1,41.500000,0.000000,11,13,14,15,16,18,18,19,20,20,20,83,0,11,12.0,3,20,24.0
"""


def test_read_history(tmp_path: Path) -> None:
    (tmp_path / "run_stats_history.csv").write_text(HISTORY)
    history = loadtest.read_history(tmp_path / "run")
    assert list(history.columns) == ["second", "name", "users", "rps", "p50_ms", "p95_ms", "requests"]
    assert history["second"].tolist() == [0, 1, 1, 2]
    assert pd.isna(history.at[0, "p50_ms"]) and history.at[3, "p95_ms"] == 18 and history.at[3, "rps"] == 41.5
    assert history[history.name == "batch of 1"].requests.tolist() == [40, 83]


def _entry(name: str, times: dict[int, int], failures: int = 0, start: float = 100.0, last: float = 102.0) -> dict:
    return {"name": name, "method": "POST", "num_requests": sum(times.values()), "num_failures": failures,
            "start_time": start, "last_request_timestamp": last, "num_none_requests": 0,
            "total_response_time": float(sum(t * c for t, c in times.items())),
            "max_response_time": float(max(times)), "min_response_time": float(min(times)),
            "total_content_length": 0, "response_times": {str(t): c for t, c in times.items()},
            "num_reqs_per_sec": {}, "num_fail_per_sec": {}}


def test_read_stats(tmp_path: Path) -> None:
    entries = [_entry("batch of 8", {10: 90, 20: 8, 40: 2}, failures=1), _entry("batch of 1", {5: 50}, last=101.0)]
    (tmp_path / "ok.json").write_text(json.dumps(entries))
    stats = loadtest.read_stats(tmp_path / "ok")
    assert list(stats.columns) == loadtest.COLUMNS
    assert stats["name"].tolist() == ["batch of 8", "batch of 1", "Aggregated"]
    first = stats.iloc[0]
    assert first["requests"] == 100 and first["failures"] == 1 and first["rps"] == 50.0
    assert (first["p50_ms"], first["p95_ms"], first["p99_ms"]) == (10, 20, 40)
    assert first["mean_ms"] == pytest.approx((900 + 160 + 80) / 100)
    total = stats.iloc[-1]
    assert total["requests"] == 150 and total["rps"] == 75.0 and total["min_ms"] == 5 and total["max_ms"] == 40


def test_percentile_matches_locust() -> None:
    # the values locust.stats.calculate_response_time_percentile gives (Locust 2.47); locust is not imported
    # here: importing it monkey-patches the whole test process with gevent
    histogram = {3: 5, 7: 20, 12: 40, 18: 20, 33: 10, 75: 4, 150: 1}
    expected = {0.0: 3, 0.5: 12, 0.66: 18, 0.9: 33, 0.95: 75, 0.99: 150, 1.0: 150}
    for fraction, value in expected.items():
        assert loadtest.percentile(histogram, fraction) == value
    assert pd.isna(loadtest.percentile({}, 0.5))
    with pytest.raises(ValueError, match="fraction must be between 0 and 1"):
        loadtest.percentile(histogram, 95)


@pytest.mark.parametrize(("read", "suffix", "content", "error", "message"), [
    (loadtest.read_history, "", None, FileNotFoundError, "history=True"),
    (loadtest.read_history, "_stats_history.csv", "Type,Name\nGET,/\n", ValueError, "not Locust's stats history"),
    (loadtest.read_history, "_stats_history.csv", HISTORY.splitlines()[0] + "\n", ValueError, "no rows"),
    (loadtest.read_stats, "", None, FileNotFoundError, "no Locust statistics"),
    (loadtest.read_stats, ".json", "Type,Name\n", ValueError, "is not JSON"),
    (loadtest.read_stats, ".json", json.dumps({"name": "x"}), ValueError, "not Locust's statistics"),
    (loadtest.read_stats, ".json", json.dumps([{"name": "x", "method": "GET"}]), ValueError, "not Locust's statistics"),
    (loadtest.read_stats, ".json", "[]", ValueError, "made no requests"),
])
def test_readers_refuse_what_locust_did_not_write(tmp_path: Path, read, suffix: str, content: str | None,
                                                   error: type, message: str) -> None:
    if content is not None:
        Path(f"{tmp_path / 'run'}{suffix}").write_text(content)
    with pytest.raises(error, match=message):
        read(tmp_path / "run")


def test_a_real_run_against_a_local_server(locustfile: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tiny.py").write_text(APP)
    monkeypatch.setenv("LOCUST_USERS", "150")  # must not widen the run
    with serving.serve("tiny:app", app_dir=tmp_path) as server:
        stats = loadtest.run_locust(locustfile, server.url, users=2, spawn_rate=2, run_time=4,
                                    stats_prefix=tmp_path / "run", history=True)
        port = server.port
    row = stats.set_index("name").loc["/"]
    assert row["requests"] > 0 and row["failures"] == 0 and row["p50_ms"] >= 0
    assert row["requests"] < 2 * 20 * 4 * 1.5  # 2 users, 20 requests/s each at most, for about 4 s
    assert (tmp_path / "run.log").is_file()
    history = loadtest.read_history(tmp_path / "run")
    assert set(history.name) == {"/", "Aggregated"} and history.requests.max() <= row["requests"]
    assert not serving.port_in_use(port)
    assert psutil.Process().children(recursive=True) == []


def test_a_run_that_overruns_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(120)\n" + LOCUSTFILE)
    monkeypatch.setattr(loadtest, "STARTUP_SECONDS", 1)
    with pytest.raises(loadtest.LoadTestError, match="overran 1 s"):
        loadtest.run_locust(slow, "http://127.0.0.1:9", users=1, spawn_rate=1, run_time=1,
                            stats_prefix=tmp_path / "run")
    assert psutil.Process().children(recursive=True) == []


def test_a_broken_locustfile_gives_its_log(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def broken(:\n")
    with pytest.raises(loadtest.LoadTestError, match="SyntaxError"):
        loadtest.run_locust(broken, "http://127.0.0.1:9", users=1, spawn_rate=1, run_time=1,
                            stats_prefix=tmp_path / "run")
