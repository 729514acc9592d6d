"""Run a command with no network but loopback: `python tests/run_offline.py COMMAND ...` (`make test` and
`make colab` run their notebooks, kernels and servers this way).

Where the system allows it, the command runs in a network namespace of its own, in which the only interface
is loopback: 127.0.0.1 works, and nothing else can be reached by any process, Python or native (a connect
fails with "Network is unreachable", a DNS lookup fails). As root that is `unshare -n`; otherwise `unshare
-rn`, where user namespaces are enabled. Where neither works, the command runs as it is, and the Python
offline guard (tests/offline_guard, switched on by conftest.py and helpers.harness.runner) is the only protection.
One line on standard error says which protection is in force; the command sees it in MLOPS_LABS_OFFLINE
("netns" or "guard").

`python tests/run_offline.py --pytest-phases N PYTHON -m pytest ARGS...` (`make test`) runs pytest twice in
that one offline namespace: first every test and notebook that may run beside another, N at a time
(pytest-xdist: `-n N --dist loadfile --no-loadscope-reorder --group parallel`, so each notebook stays in one
worker and the files start in conftest.py's order, the longest first), then the
serial group alone (`--group serial -n 0`: the tests and labs that time or load the machine, listed in
conftest.py). ARGS go to both; the run fails if either phase fails (a phase whose ARGS select none of its
tests, pytest's exit status 5, is not a failure unless both select none).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys

INNER = "MLOPS_LABS_OFFLINE_INNER"


def loopback_up() -> None:
    """Bring `lo` up in this (new, empty) network namespace: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, 0x8913, request))[1]
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH22x", b"lo", flags | 0x1))


def namespace_command() -> list[str] | None:
    """The `unshare` invocation that works here, or None."""
    if not shutil.which("unshare"):
        return None
    candidates = [["unshare", "-n"]] if os.geteuid() == 0 else []
    candidates.append(["unshare", "-rn"])
    for command in candidates:
        probe = subprocess.run(command + ["true"], capture_output=True)
        if probe.returncode == 0:
            return command
    return None


NO_TESTS = 5  # pytest's exit status when nothing was selected


def pytest_phases(jobs: str, command: list[str]) -> int:
    """Run ``PYTHON -m pytest ARGS`` as two phases (parallel, then serial); the combined exit status."""
    if command[1:3] != ["-m", "pytest"] or not jobs.isdigit():
        print("usage: run_offline.py --pytest-phases N PYTHON -m pytest [ARGS...]", file=sys.stderr)
        return 2
    head, args = command[:3], command[3:]
    phases = [
        (f"the tests and notebooks that may run beside another, {jobs} at a time",
         head + ["-n", jobs, "--dist", "loadfile", "--no-loadscope-reorder", "--group", "parallel"] + args),
        ("the serial group, one at a time (they time or load the machine)",
         head + ["--group", "serial"] + args + ["-n", "0"]),
    ]
    codes = []
    for number, (what, phase) in enumerate(phases, 1):
        print(f"\n=== make test, phase {number} of 2: {what}", file=sys.stderr, flush=True)
        try:
            codes.append(subprocess.call(phase))
        except KeyboardInterrupt:  # pytest got the Ctrl-C too and has stopped
            return 2
        if codes[-1] in (2, 4):  # interrupted, or a usage error: the second phase would say the same
            return codes[-1]
    failed = [code for code in codes if code not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return NO_TESTS if all(code == NO_TESTS for code in codes) else 0


def run(argv: list[str]) -> int:
    """Run the command (or, after --pytest-phases N, the two pytest phases) here, replacing this process."""
    if argv[0] == "--pytest-phases":
        return pytest_phases(argv[1] if len(argv) > 1 else "", argv[2:])
    os.execvp(argv[0], argv)
    return 0  # not reached


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if os.environ.get(INNER):  # inside the namespace: loopback up, then the command itself
        del os.environ[INNER]
        loopback_up()
        os.environ["MLOPS_LABS_OFFLINE"] = "netns"
        return run(argv)
    unshare = namespace_command()
    if unshare:
        print(f"offline: a network namespace with only loopback ({' '.join(unshare)}), plus the Python guard's log",
              file=sys.stderr)
        os.environ[INNER] = "1"
        os.execvp(unshare[0], unshare + ["--", sys.executable, os.path.abspath(__file__)] + argv)
    print("offline: the Python guard only (no network namespace can be made here: unshare is missing, or "
          "neither `unshare -n` as root nor `unshare -rn` is allowed)", file=sys.stderr)
    os.environ["MLOPS_LABS_OFFLINE"] = "guard"
    return run(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
