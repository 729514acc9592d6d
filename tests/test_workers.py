"""Tests of helpers.workers: worker processes with TF_CONFIG, always stopped (crash, hang, error in the block)."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from helpers import workers

# A stand-in for a training script: no TensorFlow needed to test the process plumbing.
SCRIPT = """
import json, os, signal, socket, sys, time
config = json.loads(os.environ["TF_CONFIG"])
index = config["task"]["index"]
print(f"worker {index} of {len(config['cluster']['worker'])} at {config['cluster']['worker'][index]}")
print("I0000 00:00:1795843265.085591   17308 coordination_service_agent.cc:303] native noise", file=sys.stderr)
mode = os.environ.get("MODE", "ok")
if mode == "crash" and index == 1:
    sys.exit(3)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("handler installed")  # the readiness signal the test waits for
if mode == "listen":  # as a TensorFlow worker: worker 0 listens and waits until worker 1 reaches it
    host, port = config["cluster"]["worker"][index].rsplit(":", 1)
    if index == 0:
        server = socket.create_server((host, int(port)))
        peer, _ = server.accept()
        print(f"worker 0 met worker {peer.recv(16).decode()}")
    else:
        host, port = config["cluster"]["worker"][0].rsplit(":", 1)
        socket.create_connection((host, int(port))).sendall(str(index).encode())
if mode in ("crash", "hang", "stubborn"):
    time.sleep(600)  # a peer waiting for a worker that never comes
print(f"worker {index} done")
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "main.py"
    path.write_text(textwrap.dedent(SCRIPT))
    return path


def test_workers_get_their_tf_config_and_finish(script, no_leftovers):
    with workers.start_workers(script, n_workers=2) as team:
        assert [w.index for w in team] == [0, 1]
        assert len({w.address for w in team}) == 2 and all(w.address.startswith("127.0.0.1:") for w in team)
        assert workers.wait(team, timeout=30) == [0, 0]
    for worker in team:
        log = workers.clean_log(worker.log())
        assert log.splitlines()[0] == f"worker {worker.index} of 2 at {worker.address}"
        assert log.splitlines()[-1] == f"worker {worker.index} done"
        assert "native noise" not in log and "native noise" in worker.log()
        assert worker.log_path.name == f"worker-{worker.index}.log" and not worker.running


def test_a_crashed_worker_is_reported_at_once_and_its_peer_stopped(script, no_leftovers, monkeypatch):
    monkeypatch.setenv("MODE", "crash")
    start = time.monotonic()
    with pytest.raises(workers.WorkerError, match=r"worker 1 \(127\.0\.0\.1:\d+\) exited with code 3"):
        with workers.start_workers(script, n_workers=2) as team:
            workers.wait(team, timeout=60)
    assert time.monotonic() - start < 30
    assert team[0].returncode is not None and team[0].returncode != 0  # stopped by the block, not finished


def test_hung_workers_time_out_and_are_stopped(script, no_leftovers):
    with pytest.raises(workers.WorkerError, match=r"still running after 1 s"):
        with workers.start_workers(script, n_workers=2, env={"MODE": "hang"}) as team:
            workers.wait(team, timeout=1)
    assert not any(w.running for w in team)


def test_a_worker_that_ignores_sigterm_is_killed(script, no_leftovers):
    with workers.start_workers(script, n_workers=1, env={"MODE": "stubborn"}, stop_timeout=0.5) as team:
        deadline = time.monotonic() + 60  # a readiness signal, not a fixed sleep: holds on a loaded machine
        while "handler installed" not in team[0].log():
            assert team[0].running and time.monotonic() < deadline, team[0].log()
            time.sleep(0.05)
    assert team[0].returncode == -9


def test_workers_start_one_after_the_other(script, no_leftovers):
    cluster = workers.cluster_spec(2)
    with workers.start_workers(script, 2, env={"MODE": "listen"}, cluster=cluster, only=[0]) as first:
        assert workers.wait_listening(first[0], timeout=60) >= 0
        assert first[0].running  # waiting for its peer
        with workers.start_workers(script, 2, env={"MODE": "listen"}, cluster=cluster, only=[1]) as rest:
            assert workers.wait(first + rest, timeout=60) == [0, 0]
    assert [w.index for w in first + rest] == [0, 1] and rest[0].address == cluster["worker"][1]
    assert "worker 0 met worker 1" in first[0].log()


def test_wait_listening_reports_a_worker_that_exits_first(script, no_leftovers, monkeypatch):
    monkeypatch.setenv("MODE", "crash")
    with workers.start_workers(script, n_workers=2, only=[1]) as team:
        with pytest.raises(workers.WorkerError, match=r"worker 1 .* exited with code 3 before it listened"):
            workers.wait_listening(team[0], timeout=60)


@pytest.mark.parametrize("only", [[], [2], [0, 0], [True]])
def test_only_takes_distinct_task_indices(script, only, no_leftovers):
    with pytest.raises(ValueError, match="only must list distinct task indices from 0 to 1"):
        with workers.start_workers(script, n_workers=2, only=only):
            pass


def test_an_error_in_the_block_stops_the_workers(script, no_leftovers):
    with pytest.raises(KeyboardInterrupt):
        with workers.start_workers(script, n_workers=2, env={"MODE": "hang"}) as team:
            raise KeyboardInterrupt  # an interrupted cell
    assert not any(w.running for w in team)


def test_a_given_cluster_is_used(script, no_leftovers):
    cluster = workers.cluster_spec(2)
    with workers.start_workers(script, n_workers=2, cluster=cluster) as team:
        workers.wait(team, timeout=30)
    assert [w.address for w in team] == cluster["worker"]
    assert workers.clean_log(team[1].log()).startswith(f"worker 1 of 2 at {cluster['worker'][1]}")


def test_logs_go_to_log_dir(script, tmp_path, no_leftovers):
    logs = tmp_path / "logs"
    with workers.start_workers(script, n_workers=1, log_dir=logs) as team:
        workers.wait(team, timeout=30)
    assert (logs / "worker-0.log").is_file()


def test_cluster_spec_and_tf_config():
    cluster = workers.cluster_spec(3)
    assert len(set(cluster["worker"])) == 3
    range_file = Path("/proc/sys/net/ipv4/ip_local_port_range")  # Linux: below the ephemeral range
    low = int(range_file.read_text().split()[0]) if range_file.is_file() else 32768
    assert all(1024 <= int(address.rsplit(":", 1)[1]) < low for address in cluster["worker"])
    config = json.loads(workers.tf_config(cluster, 2))
    assert config == {"cluster": cluster, "task": {"type": "worker", "index": 2}}


@pytest.mark.parametrize("bad", [0, -1, 17, 1.5, True, "2"])
def test_bad_worker_count(bad, script):
    message = rf"n_workers must be an int from 1 to 16 \(processes on this machine\), got {bad!r}"
    with pytest.raises(ValueError, match=message):
        workers.cluster_spec(bad)
    with pytest.raises(ValueError, match=message):
        with workers.start_workers(script, n_workers=bad):
            pass


@pytest.mark.parametrize("cluster, index, message", [
    ({"worker": ["127.0.0.1:1"]}, 1, r"index must be an int from 0 to 0 \(one per worker\), got 1"),
    ({"worker": ["127.0.0.1:1"]}, True, "index must be an int from 0 to 0 .*, got True"),
    ({}, 0, "cluster must map 'worker'"),
    ("127.0.0.1:1", 0, "cluster must map 'worker'"),
])
def test_bad_tf_config(cluster, index, message):
    with pytest.raises(ValueError, match=message):
        workers.tf_config(cluster, index)


def test_missing_script(tmp_path):
    with pytest.raises(FileNotFoundError, match="the worker script 'main.py' does not exist"):
        with workers.start_workers(tmp_path / "main.py"):
            pass


@pytest.mark.parametrize("kwargs, message", [
    ({"stop_timeout": 0}, "stop_timeout must be a finite number above 0, got 0"),
    ({"env": {"TF_USE_LEGACY_KERAS": 1}}, "env must map variable names to string values"),
    ({"cluster": {"worker": ["127.0.0.1:1"]}}, "cluster must list n_workers=2 'worker' addresses"),
])
def test_bad_start_arguments(script, kwargs, message, no_leftovers):
    with pytest.raises(ValueError, match=message):
        with workers.start_workers(script, **kwargs):
            pass


def test_bad_wait_arguments():
    with pytest.raises(ValueError, match="team must be the non-empty list of Worker"):
        workers.wait([], timeout=1)
    with pytest.raises(ValueError, match="timeout must be a finite number above 0, got 0"):
        workers.wait([workers.Worker(0, "127.0.0.1:1", Path("x.log"), None)], timeout=0)


def test_clean_log():
    text = ("worker 0 of 2\n"
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "E0000 00:00:1795843176.756120   12178 coordination_service_agent.cc:749] heartbeat timeout\n"
            "\n"
            "saved to /home/someone/outputs/model\n"
            "epoch 1: loss 1.480, accuracy 0.608\n")
    assert workers.clean_log(text) == "worker 0 of 2\nsaved to <path>\nepoch 1: loss 1.480, accuracy 0.608"
    with pytest.raises(TypeError, match="clean_log takes a log's text"):
        workers.clean_log(None)
