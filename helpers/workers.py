"""Run a TensorFlow multi-worker training script as real worker processes on 127.0.0.1, and always stop them.

    from helpers import workers

    with workers.start_workers(OUT / "main.py", n_workers=2, env={"TF_USE_LEGACY_KERAS": "1"}) as team:
        workers.wait(team, timeout=300)              # raises WorkerError if one crashes or they hang
    print(workers.clean_log(team[0].log()))

Each worker is a separate Python process, as on a cluster: it reads its ``TF_CONFIG`` (the whole cluster, and
which task it is) from its environment, listens on its own free port of 127.0.0.1 and writes its output to its
own log file. Leaving the ``with`` block, normally or through an exception (a crash, a hang that ``wait`` timed
out on, an interrupted cell), stops every worker by its own process id (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helpers.arguments import number, whole
from helpers.serving.process import HOST, ChildProcess, free_port, launch, port_in_use

__all__ = ["WorkerError", "Worker", "cluster_spec", "tf_config", "start_workers", "wait", "wait_listening",
           "clean_log"]

# What the workers inherit unless the caller says otherwise: TensorFlow's start-up chatter off, as in env.quiet().
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "GRPC_VERBOSITY": "ERROR",
             "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning", "PYTHONUNBUFFERED": "1"}


class WorkerError(RuntimeError):
    """A worker that crashed, or workers that did not finish in time (the message ends with their logs).

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """

    def _render_traceback_(self) -> list[str]:  # IPython shows the message (with the log tails), not a traceback
        return [f"WorkerError: {self}"]


@dataclass
class Worker(ChildProcess):
    """One running worker: its index in the cluster, its address, its process and its log file;
    ``running``, ``returncode`` and ``log()`` as for a server (``helpers.serving.ChildProcess``).

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """

    index: int
    address: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)


def cluster_spec(n_workers: int, host: str = HOST) -> dict[str, list[str]]:
    """A cluster of ``n_workers`` workers on ``host``, each on its own free port: ``{"worker": ["host:port", ...]}``.

    The ports are chosen below the system's ephemeral range, so that no outgoing connection takes one before
    its worker binds it.

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """
    whole("n_workers", n_workers, 1, 16, "processes on this machine")
    ports: list[int] = []
    while len(ports) < n_workers:
        port = _listening_port(host)
        if port not in ports:
            ports.append(port)
    return {"worker": [f"{host}:{port}" for port in ports]}


def _listening_port(host: str) -> int:
    """A free port below the ephemeral range, where ``free_port`` (bind to port 0) lands otherwise.

    Workers bind their ports seconds after the cluster is chosen (TensorFlow's import comes first). A port of the
    ephemeral range can meanwhile become the source port of any outgoing connection on the machine; one below it
    cannot, so it stays free unless a server asks for it by number.
    """
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.SystemRandom()  # not the notebook's seeded generator
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        if not port_in_use(port, host):
            return port
    return free_port(host)


def tf_config(cluster: Mapping[str, list[str]], index: int, task_type: str = "worker") -> str:
    """The ``TF_CONFIG`` value (JSON) of task ``index`` of ``task_type`` in ``cluster``.

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """
    if not isinstance(cluster, Mapping) or not cluster.get(task_type):
        raise ValueError(f"cluster must map {task_type!r} to a list of 'host:port' addresses "
                         f"(see cluster_spec), got {cluster!r}")
    tasks = cluster[task_type]
    whole("index", index, 0, len(tasks) - 1, f"one per {task_type}")
    return json.dumps({"cluster": dict(cluster), "task": {"type": task_type, "index": index}})


@contextlib.contextmanager
def start_workers(script: str | os.PathLike, n_workers: int = 2, *, env: Mapping[str, str] | None = None,
                  log_dir: str | os.PathLike | None = None, stop_timeout: float = 10.0,
                  cluster: Mapping[str, list[str]] | None = None,
                  only: Iterable[int] | None = None) -> Iterator[list[Worker]]:
    """Start ``n_workers`` processes running ``python script``, each with its ``TF_CONFIG``, for a ``with`` block.

    Args:
        script: the training script; it runs in its own folder (so it finds the files next to it).
        n_workers: how many worker processes (1-16), each on a free port of 127.0.0.1.
        env: extra environment variables for every worker (e.g. ``{"TF_USE_LEGACY_KERAS": "1"}``); they
            override ``QUIET_ENV``, which silences TensorFlow's start-up logs.
        log_dir: where ``worker-<i>.log`` go (default: the script's folder); overwritten.
        stop_timeout: seconds a worker gets to exit after SIGTERM before it is killed.
        cluster: the cluster to start (from ``cluster_spec``, so it can be shown first); by default a new one.
        only: start only these task indices of the cluster (e.g. ``[0]``, then ``[1]`` in a nested block, to
            start the workers one after the other); by default all of them.

    Yields:
        the list of ``Worker`` (index, address, log_path, process), in task order.

    Raises:
        FileNotFoundError: the script does not exist.  ValueError: a bad argument.
        Nothing is left running when the block ends, whatever happened inside it.

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """
    whole("n_workers", n_workers, 1, 16, "processes on this machine")
    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"the worker script {script.name!r} does not exist; write it first "
                                "(e.g. with %%writefile) and pass its path")
    number("stop_timeout", stop_timeout)
    if env is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in dict(env).items()):
        raise ValueError("env must map variable names to string values, e.g. {'TF_USE_LEGACY_KERAS': '1'}")
    log_dir = Path(log_dir) if log_dir is not None else script.parent
    if cluster is None:
        cluster = cluster_spec(n_workers)
    elif not isinstance(cluster, Mapping) or len(cluster.get("worker") or []) != n_workers:
        raise ValueError(f"cluster must list n_workers={n_workers} 'worker' addresses (see cluster_spec), "
                         f"got {cluster!r}")
    indices = list(range(n_workers)) if only is None else list(only)
    if not indices or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_workers
                              for i in indices) or len(set(indices)) != len(indices):
        raise ValueError(f"only must list distinct task indices from 0 to {n_workers - 1}, got {only!r}")
    with contextlib.ExitStack() as stack:  # leaving it stops every worker started, by its own id
        team: list[Worker] = []
        for index in indices:
            child_env = {**os.environ, **QUIET_ENV, **(env or {}), "TF_CONFIG": tf_config(cluster, index)}
            log_path = log_dir / f"worker-{index}.log"
            process = stack.enter_context(launch([sys.executable, script.name], log_path, env=child_env,
                                                 cwd=script.parent, stop_timeout=stop_timeout))
            team.append(Worker(index, cluster["worker"][index], log_path, process))
        yield team


def wait(team: list[Worker], timeout: float, interval: float = 0.2) -> list[int]:
    """Wait until every worker has exited with code 0; return the exit codes.

    A crashed worker is reported at once (its peers would otherwise wait for it until their own timeouts).

    Raises:
        WorkerError: a worker exited with a non-zero code, or some were still running after ``timeout``
            seconds (a hang: e.g. a peer that never joined). The message ends with the logs' last lines;
            the ``with start_workers(...)`` block then stops them all.

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """
    if not isinstance(team, list) or not team or not all(isinstance(w, Worker) for w in team):
        raise ValueError("team must be the non-empty list of Worker that start_workers(...) yields")
    number("timeout", timeout)
    deadline = time.monotonic() + timeout
    while True:
        failed = [w for w in team if w.returncode not in (None, 0)]
        if failed:
            worker = failed[0]
            raise WorkerError(f"worker {worker.index} ({worker.address}) exited with code {worker.returncode}; "
                              f"the others are stopped\n{_tails(team)}")
        if all(w.returncode == 0 for w in team):
            return [0] * len(team)
        if time.monotonic() >= deadline:
            hung = [w.index for w in team if w.running]
            raise WorkerError(f"worker(s) {hung} still running after {timeout:g} s (hung, or waiting for a peer "
                              f"that never joined); raise the timeout if they are only slow\n{_tails(team)}")
        time.sleep(interval)


def wait_listening(worker: Worker, timeout: float, interval: float = 0.1) -> float:
    """Wait until ``worker`` listens on the port of its address; return the seconds it took.

    A worker's server starts when its script creates the strategy (after TensorFlow's import), and then waits
    for the other workers of the cluster before training starts.

    Raises:
        WorkerError: the worker exited first, or did not listen within ``timeout`` seconds (the message ends
            with its log's last lines).

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """
    if not isinstance(worker, Worker):
        raise ValueError("worker must be one Worker of the list that start_workers(...) yields")
    number("timeout", timeout)
    host, port = worker.address.rsplit(":", 1)
    start = time.monotonic()
    while not port_in_use(int(port), host):
        if not worker.running:
            raise WorkerError(f"worker {worker.index} ({worker.address}) exited with code {worker.returncode} "
                              f"before it listened\n{_tails([worker])}")
        if time.monotonic() - start >= timeout:
            raise WorkerError(f"worker {worker.index} did not listen on {worker.address} within {timeout:g} s"
                              f"\n{_tails([worker])}")
        time.sleep(interval)
    return time.monotonic() - start


def _tails(team: list[Worker], lines: int = 10) -> str:
    return "\n".join(f"--- last lines of {w.log_path.name} ---\n{clean_log(w.log(lines))}" for w in team)


# Native (C++) log lines of TensorFlow, gRPC and absl: "I0000 00:00:1795843265.085591   17308 file.cc:303] ..."
_NATIVE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]")
_NOISE = ("WARNING: All log messages before absl::InitializeLog() is called",)
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?")


def clean_log(text: str) -> str:
    """A worker log without what differs from run to run: native log lines (timestamps, thread ids) and paths.

    Introduced in course3_modeling/C3_W3_Lab_1_Distributed_Training.ipynb.
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_log takes a log's text (a str, e.g. worker.log()), got {type(text).__name__}")
    kept = [_PATH.sub("<path>", line) for line in text.splitlines()
            if line.strip() and not _NATIVE.match(line) and not line.startswith(_NOISE)]
    return "\n".join(kept)
