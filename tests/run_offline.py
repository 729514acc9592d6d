"""Run a command with no network but loopback: `python tests/run_offline.py COMMAND ...` (`make test` and
`make colab` run their notebooks, kernels and servers this way).

Where the system allows it, the command runs in a network namespace of its own, in which the only interface
is loopback: 127.0.0.1 works, and nothing else can be reached by any process, Python or native (a connect
fails with "Network is unreachable", a DNS lookup fails). As root that is `unshare -n`; otherwise `unshare
-rn`, where user namespaces are enabled. Where neither works, the command runs as it is, and the Python
offline guard (tests/offline_guard, switched on by conftest.py and helpers.harness.runner) is the only protection.
One line on standard error says which protection is in force; the command sees it in MLOPS_LABS_OFFLINE
("netns" or "guard").
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


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if os.environ.get(INNER):  # inside the namespace: loopback up, then the command itself
        del os.environ[INNER]
        loopback_up()
        os.environ["MLOPS_LABS_OFFLINE"] = "netns"
        os.execvp(argv[0], argv)
    unshare = namespace_command()
    if unshare:
        print(f"offline: a network namespace with only loopback ({' '.join(unshare)}), plus the Python guard's log",
              file=sys.stderr)
        os.environ[INNER] = "1"
        os.execvp(unshare[0], unshare + ["--", sys.executable, os.path.abspath(__file__)] + argv)
    print("offline: the Python guard only (no network namespace can be made here: unshare is missing, or "
          "neither `unshare -n` as root nor `unshare -rn` is allowed)", file=sys.stderr)
    os.environ["MLOPS_LABS_OFFLINE"] = "guard"
    os.execvp(argv[0], argv)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
