"""Tests of helpers.autoscale (the HPA rule, local deployment), helpers.procstats (CPU meter, ports),
helpers.serving.autoscale_proxy (the round-robin proxy), helpers.loadgen and helpers.manifests, used by
course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest
import requests

from helpers import autoscale, manifests, procstats
from helpers.loadgen import LoadGenerator
from helpers.serving import autoscale_proxy

ECHO_APP = """
import os

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"""

CRASHING_APP = """
raise RuntimeError("planted by the test: the model is missing")
"""


# --- the rule ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("current", "utilization", "expected"), [
    (1, 60, 3),     # the original lab: 3 x the target
    (1, 21, 1),     # within the 10 % tolerance
    (2, 23, 3),     # 2.3 -> 3
    (3, 40, 6),     # exactly 6, not 7 by rounding
    (3, 5, 1),      # 0.75 -> 1
    (4, 0, 1),      # idle: never below 1
    (1, 300, 15),   # not clamped here
])
def test_desired_replicas(current, utilization, expected):
    assert autoscale.desired_replicas(current, utilization, 20) == expected


def test_desired_replicas_refuses_zero_replicas():
    with pytest.raises(ValueError, match="scaled to zero"):
        autoscale.desired_replicas(0, 50, 20)


@pytest.mark.parametrize(("args", "message"), [
    ((-1, 50, 20), "current replicas must be an int of at least 1"),
    ((1.5, 50, 20), "current replicas must be an int"),
    ((True, 50, 20), "current replicas must be an int"),
    ((1, -5, 20), "utilization must be a finite number"),
    ((1, float("nan"), 20), "utilization must be a finite number"),
    ((1, 50, 0), "target must be a finite number above 0"),
    ((1, "50", 20), "utilization must be a finite number"),
])
def test_desired_replicas_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        autoscale.desired_replicas(*args)


def test_hpa_refuses_min_above_max():
    with pytest.raises(ValueError, match=r"min_replicas \(3\) is above max_replicas \(1\)"):
        autoscale.HPA(min_replicas=3, max_replicas=1, target_utilization=20)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"min_replicas": 0}, "min_replicas must be an int of at least 1"),
    ({"max_replicas": "3"}, "max_replicas must be an int"),
    ({"target_utilization": 0}, "target_utilization must be a finite number above 0"),
    ({"scale_down_window": -1}, "scale_down_window must be a finite number"),
    ({"scale_up_pods": 0}, "scale_up_pods must be an int of at least 1"),
])
def test_hpa_refuses_bad_settings(kwargs, message):
    settings = {"min_replicas": 1, "max_replicas": 3, "target_utilization": 20} | kwargs
    with pytest.raises(ValueError, match=message):
        autoscale.HPA(**settings)


def test_hpa_clamps_limits_scale_up_and_stabilises_scale_down():
    hpa = autoscale.HPA(1, 3, 20, scale_down_window=5, scale_up_pods=1)
    assert hpa.recommend(0, 1, 300).desired == 2          # rule 15, policy +1
    assert hpa.recommend(1, 2, 300).desired == 3          # capped by max
    decision = hpa.recommend(2, 3, 0)                     # idle, but the window remembers 30
    assert (decision.raw, decision.stabilized, decision.desired) == (1, 3, 3)
    assert hpa.recommend(5.5, 3, 0).desired == 3          # second 1's recommendation is still in the window
    assert hpa.recommend(7.5, 3, 0).desired == 1          # the window holds only idle recommendations now


def test_hpa_without_limits_goes_straight_to_max_and_min():
    hpa = autoscale.HPA(2, 5, 50, scale_down_window=0)
    assert hpa.recommend(0, 2, 1000).desired == 5
    assert hpa.recommend(1, 5, 0).desired == 2


# --- measuring -----------------------------------------------------------------------------------------

def _spin_cpu(seconds: float, clock=time.process_time) -> None:
    """Busy-loop until ``clock`` (CPU time, not wall time) has advanced ``seconds``: on a loaded machine
    this takes longer, but the CPU used is the same."""
    end = clock() + seconds
    while clock() < end:
        pass


def test_cpu_meter_measures_a_busy_process_and_forgets_dead_ones():
    meter = procstats.CpuMeter()
    me = psutil.Process().pid
    start = time.monotonic()
    assert meter.sample([me]) == {}                       # the first sample is the starting point
    _spin_cpu(0.2)
    used = meter.sample([me, 999_999_999])
    wall = time.monotonic() - start                       # at least the meter's own interval
    assert list(used) == [me]
    assert used[me] <= 1.5                                # one busy thread: at most about a core
    assert used[me] * wall >= 0.18                        # cores x seconds: the 0.2 s of CPU spent


def test_cpu_seconds_counts_every_thread_finer_than_a_clock_tick():
    stop, spent_enough = threading.Event(), threading.Event()

    def spin():
        _spin_cpu(0.1, clock=time.thread_time)  # this thread's own CPU time, however long it takes
        spent_enough.set()
        while not stop.is_set():
            pass

    before = procstats.cpu_seconds(os.getpid())
    worker = threading.Thread(target=spin)
    worker.start()
    try:
        assert spent_enough.wait(120), "the spinning thread never got 0.1 s of CPU"
        spent = procstats.cpu_seconds(os.getpid()) - before   # read while the thread runs
    finally:
        stop.set()
        worker.join()
    assert spent >= 0.09   # the other thread's time is counted (this one only waited)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert sleeper.stdout.readline() == "ready\n"  # past its start-up: from here on it only sleeps
        first = procstats.cpu_seconds(sleeper.pid)
        time.sleep(1.0)
        idle = procstats.cpu_seconds(sleeper.pid) - first
        assert 0 <= idle < 0.005          # a sleeping process uses (almost) nothing: no 10 ms tick noise
    finally:
        sleeper.kill()
        sleeper.wait()
        sleeper.stdout.close()
    with pytest.raises(ProcessLookupError):
        procstats.cpu_seconds(sleeper.pid)


def test_listening_ports_of_no_process_is_empty():
    assert procstats.listening_ports([]) == []
    assert procstats.listening_ports([999_999_999]) == []


# --- the proxy and the deployment ------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "JSON list of ports"),
    (b'{"port": 1}', "JSON list of at most"),
    (b"[0]", "port from 1 to 65535"),
    (b'["8000"]', "port from 1 to 65535"),
    (b"[true]", "port from 1 to 65535"),
    (str(list(range(1000, 1100))).encode(), "at most 64 ports"),
])
def test_proxy_refuses_bad_backend_lists(body, message):
    with pytest.raises(ValueError, match=message):
        autoscale_proxy.parse_backends(body)


def test_proxy_and_deployment_scale_balance_and_stop_everything(tmp_path, no_leftovers):
    (tmp_path / "echo_app.py").write_text(textwrap.dedent(ECHO_APP))
    with autoscale.serve_proxy(log_path=tmp_path / "proxy.log") as proxy:
        assert requests.get(proxy.url + "/anything", timeout=5).status_code == 503  # no replica yet
        bad = requests.put(proxy.url + "/_proxy/backends", data=b"[70000]", timeout=5)
        assert bad.status_code == 400 and "65535" in bad.json()["detail"]
        assert requests.post(proxy.url + "/x", data=b"0" * 200_000, timeout=5).status_code == 413
        with autoscale.LocalDeployment("echo_app:app", tmp_path, proxy=proxy, log_dir=tmp_path / "logs",
                                       name="echo") as deployment:
            with pytest.raises(ValueError, match="replicas must be an int of at least 1"):
                deployment.scale(0)
            deployment.scale(2)
            deployment.wait_ready(2, timeout=60)
            assert sorted(proxy.backends()) == sorted(r.port for r in deployment.ready)
            pids = {requests.get(proxy.url + "/", timeout=5).text for _ in range(6)}
            assert pids == {str(pid) for pid in deployment.pids}  # round robin reached both replicas
            deployment.scale(1)
            assert len(deployment.ready) == 1 and len(proxy.backends()) == 1
            all_pids = list(deployment.all_pids)
        assert deployment.ready == [] and autoscale.listening_ports(all_pids) == []
        with pytest.raises(RuntimeError, match="closed"):
            deployment.scale(1)
        assert sum(proxy.stats().values()) >= 6
    assert autoscale.listening_ports([proxy.server.process.pid]) == []


def test_deployment_reports_a_replica_that_cannot_start(tmp_path, no_leftovers):
    (tmp_path / "crash_app.py").write_text(CRASHING_APP)
    with autoscale.LocalDeployment("crash_app:app", tmp_path, log_dir=tmp_path, startup_timeout=30) as deployment:
        deployment.scale(1)
        with pytest.raises(TimeoutError, match="0 of 1 replicas ready.*planted by the test"):
            deployment.wait_ready(1, timeout=60)


def test_deployment_reports_and_replaces_a_replica_that_exits(tmp_path, no_leftovers):
    (tmp_path / "echo_app.py").write_text(textwrap.dedent(ECHO_APP))
    with autoscale.LocalDeployment("echo_app:app", tmp_path, log_dir=tmp_path / "logs", name="echo") as deployment:
        deployment.scale(1)
        deployment.wait_ready(1, timeout=60)
        victim = deployment.ready[0].server.process
        victim.kill()
        victim.wait()
        deployment.scale(1)                                  # the next decision notices, and replaces it
        assert deployment.errors == ["echo-1: exited with code -9 while serving"]
        deployment.wait_ready(1, timeout=60)                 # an error reported before the wait is not fatal
        assert [r.name for r in deployment.ready] == ["echo-2"] and deployment.started == 2


def test_leaving_by_an_exception_stops_ready_and_starting_replicas(tmp_path, no_leftovers):
    (tmp_path / "echo_app.py").write_text(textwrap.dedent(ECHO_APP))
    with pytest.raises(KeyError, match="a failing cell"):
        with autoscale.LocalDeployment("echo_app:app", tmp_path, log_dir=tmp_path / "logs") as deployment:
            deployment.scale(1)
            deployment.wait_ready(1, timeout=60)
            deployment.scale(3)  # two more replicas still starting when the cell fails
            raise KeyError("a failing cell")
    assert deployment.ready == [] and deployment.started == 3
    assert autoscale.listening_ports(deployment.all_pids) == []


# --- the load ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "schedule", "message"), [
    ("http://192.0.2.1:80/", [(1, 1)], "a server on this machine"),
    ("http://127.0.0.1.example.com/x", [(1, 1)], "a server on this machine"),  # not 127.0.0.1 at all
    ("http://127.0.0.1:8000/", [], "non-empty list"),
    ("http://127.0.0.1:8000/", [(1,)], r"\(seconds, clients\)"),
    ("http://127.0.0.1:8000/", [(0, 1)], "seconds must be a finite number above 0"),
    ("http://127.0.0.1:8000/", [(1, -1)], "clients must be an int from 0 to 32"),
    ("http://127.0.0.1:8000/", [(1, 100)], r"from 0 to 32 \(the generator's max_clients\), got 100"),
])
def test_load_generator_refuses_bad_settings(url, schedule, message):
    with pytest.raises(ValueError, match=message):
        LoadGenerator(url, {}, schedule)


def test_load_generator_follows_its_schedule():
    load = LoadGenerator("http://127.0.0.1:9/", {}, [(2, 1), (3, 4), (1, 0)])
    assert load.duration == 6
    assert [load.clients_at(s) for s in (0, 1.9, 2, 4.9, 5, 6, 100)] == [1, 1, 4, 4, 0, 0, 0]


def test_load_generator_records_failures_and_stops(no_leftovers):
    port = autoscale.serving.free_port()  # nothing listens there: every request fails fast
    with LoadGenerator(f"http://127.0.0.1:{port}/", {}, [(60, 2)], timeout=2) as load:
        deadline = time.monotonic() + 60
        while not load.results and time.monotonic() < deadline:  # the first answer, however slow the machine
            time.sleep(0.05)
    assert load.results and {status for _, status, _ in load.results} == {0}
    assert all(not thread.is_alive() for thread in load._threads)  # leaving the block stopped every client


def test_paced_load_sends_its_rate_on_time_and_skips_what_is_late(no_leftovers):
    port = autoscale.serving.free_port()  # nothing listens there: every request fails fast
    with LoadGenerator(f"http://127.0.0.1:{port}/", {}, [(1, 20), (0.5, 0), (0.5, 40)], paced=True, timeout=2) as load:
        assert load.clients_at(0.5) == 20 and load.clients_at(1.2) == 0
        deadline = time.monotonic() + 60
        while any(thread.is_alive() for thread in load._threads) and time.monotonic() < deadline:
            time.sleep(0.05)
    seconds = sorted(second for second, _, _ in load.results)
    assert len(seconds) + load.skipped == 40                      # 20 in the first second, 20 in the last half
    assert not [s for s in seconds if 1.0 <= s < 1.5]             # nothing in the quiet phase
    on_schedule = [s * 20 if s < 1 else (s - 1.5) * 40 for s in seconds]   # 20/s from 0 s, 40/s from 1.5 s
    assert all(abs(k - round(k)) < 1e-6 for k in on_schedule) and len(set(seconds)) == len(seconds)


@pytest.mark.parametrize(("schedule", "message"), [
    ([(1, -5)], "requests per second must be a finite number above 0"),
    ([(1, 5000)], "over max_rate=2000"),
    ([(1, float("inf"))], "requests per second must be a finite number"),
])
def test_paced_load_refuses_bad_rates(schedule, message):
    with pytest.raises(ValueError, match=message):
        LoadGenerator("http://127.0.0.1:8000/", {}, schedule, paced=True)


# --- manifests -----------------------------------------------------------------------------------------

HPA = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "wine"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "wine"},
             "minReplicas": 1, "maxReplicas": 3},
}


def _hpa(**spec):
    return HPA | {"spec": HPA["spec"] | spec}


def test_validate_manifest_accepts_a_valid_hpa():
    assert manifests.validate_manifest(HPA, "1.30") == "HorizontalPodAutoscaler/wine"


@pytest.mark.parametrize(("manifest", "message"), [
    (_hpa(scaleTargetRef={"kind": "Deployment"}), r"spec\.scaleTargetRef: 'name' is a required property"),
    (HPA | {"spec": {k: v for k, v in HPA["spec"].items() if k != "maxReplicas"}}, "'maxReplicas' is a required"),
    (_hpa(maxReplicas="3"), r"spec\.maxReplicas: '3' is not of type 'integer'"),
    (_hpa(minReplica=1), "'minReplica' was unexpected"),
    (_hpa(minReplicas=4), r"must be greater than or equal to minReplicas \(3 < 4\)"),
    ({"kind": "Deployment"}, "lacks apiVersion"),
    ({"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "x"}}, "no schema for kind 'Gadget'"),
    (["not", "a", "mapping"], "must be a mapping"),
])
def test_validate_manifest_names_the_problem(manifest, message):
    with pytest.raises(manifests.ManifestError, match=message):
        manifests.validate_manifest(manifest, "1.30")
