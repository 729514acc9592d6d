"""The offline guard refuses non-loopback connections in every process the test run starts."""

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROBE = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: reserved for documentation, routed nowhere
    except ConnectionRefusedError as exc:
        print("refused:", exc)
    else:
        print("CONNECTED")
""")


def _run(code: str, log) -> subprocess.CompletedProcess:
    env = dict(os.environ, MLOPS_LABS_NETWORK_LOG=str(log))
    # Inside a network namespace of its own (when the machine allows one), even a guard that failed
    # could not send a packet anywhere.
    prefix = ["unshare", "-n"] if shutil.which("unshare") and os.geteuid() == 0 else []
    return subprocess.run(prefix + [sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_guard_is_on_for_this_run():
    assert os.environ.get("MLOPS_LABS_NETWORK_LOG"), "conftest.py must switch the guard on"
    assert "offline_guard" in os.environ["PYTHONPATH"]


def test_a_remote_connection_is_refused_and_logged(tmp_path):
    log = tmp_path / "net.log"
    result = _run(PROBE, log)
    assert "refused: MLOps Labs offline guard" in result.stdout, result.stdout + result.stderr
    assert "192.0.2.1" in log.read_text()


def test_loopback_stays_open(tmp_path):
    log = tmp_path / "net.log"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5).close(); print('ok')"
    env = dict(os.environ, MLOPS_LABS_NETWORK_LOG=str(log))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    server.close()
    assert result.stdout.strip() == "ok", result.stderr
    assert not log.exists() or log.read_text() == ""


# Only the ranges reserved for documentation (RFC 5737: TEST-NET-1/2/3, routed nowhere) and a reserved name
# (RFC 2606: .invalid never resolves); the guard refuses a name before it is looked up.
@pytest.mark.parametrize("address", [("192.0.2.53", 53), ("198.51.100.1", 53), ("203.0.113.1", 53),
                                     ("example.invalid", 80)])
def test_udp_and_names_are_refused_too(tmp_path, address):
    log = tmp_path / "net.log"
    code = f"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" \
           f"try:\n    s.sendto(b'x', {address!r})\nexcept ConnectionRefusedError:\n    print('refused')"
    result = _run(code, log)
    assert result.stdout.strip() == "refused", result.stdout + result.stderr
    assert repr(address) in log.read_text()


# The bypasses a reviewer found in the first guard: each is now refused before the call, and logged.
BYPASSES = {
    "the C-level socket": "import _socket\ns = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
                          "call = lambda: s.connect(('192.0.2.1', 80))",
    "sendmsg": "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
               "call = lambda: s.sendmsg([b'x'], [], 0, ('192.0.2.1', 53))",
    "a name lookup": "import socket\ncall = lambda: socket.getaddrinfo('example.invalid', 80)",
    "gethostbyname": "import socket\ncall = lambda: socket.gethostbyname('example.invalid')",
    "a gevent-patched process": "from gevent import monkey\nmonkey.patch_all()\nimport socket\n"
                                "call = lambda: socket.create_connection(('192.0.2.1', 80), timeout=5)",
    "a gevent-patched name lookup": "from gevent import monkey\nmonkey.patch_all()\nimport socket\n"
                                    "call = lambda: socket.getaddrinfo('example.invalid', 80)",
}


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_each_known_bypass_is_refused_and_logged(tmp_path, name):
    log = tmp_path / "net.log"
    code = BYPASSES[name] + "\ntry:\n    call()\nexcept ConnectionRefusedError as exc:\n    print('refused:', exc)\n" \
                            "else:\n    print('NOT REFUSED')"
    result = _run(code, log)
    assert "refused: MLOps Labs offline guard" in result.stdout, result.stdout + result.stderr
    assert ("192.0.2.1" in log.read_text()) or ("example.invalid" in log.read_text())


def test_local_names_and_addresses_still_resolve(tmp_path):
    log = tmp_path / "net.log"
    code = "import socket\nprint(socket.getaddrinfo('localhost', 80)[0][4][0], socket.gethostbyname('127.0.0.1'),\n" \
           "      socket.getaddrinfo('192.0.2.1', 80)[0][4][0])"  # an address needs no lookup: its connect is checked
    result = _run(code, log)
    assert result.stdout.split() in (["127.0.0.1", "127.0.0.1", "192.0.2.1"], ["::1", "127.0.0.1", "192.0.2.1"]), \
        result.stdout + result.stderr
    assert not log.exists() or log.read_text() == ""


def _protection() -> str | None:
    return os.environ.get("MLOPS_LABS_OFFLINE")


def test_the_run_says_which_protection_is_in_force():
    if _protection() is None:
        assert not os.environ.get("CI"), "CI must run the tests through tests/run_offline.py (make test)"
        pytest.skip("not started through tests/run_offline.py (`make test` does that)")
    assert _protection() in ("netns", "guard")
    if os.geteuid() == 0 and shutil.which("unshare"):
        assert _protection() == "netns", "as root, the run must be inside a network namespace"


def test_in_the_namespace_a_native_program_cannot_reach_the_network():
    if _protection() != "netns":
        pytest.skip("only a network namespace confines a native program; the Python guard cannot")
    bash = shutil.which("bash")
    result = subprocess.run([bash, "-c", "exec 3<>/dev/tcp/192.0.2.1/80"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0 and "Network is unreachable" in result.stderr, result.stderr
    # and loopback works for a native program too
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    result = subprocess.run([bash, "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"], capture_output=True, timeout=30)
    server.close()
    assert result.returncode == 0, result.stderr


def test_the_namespace_wrapper_runs_a_command_offline():
    wrapper = Path(__file__).parent / "run_offline.py"
    code = "import os, socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=5)\n" \
           "except OSError as exc:\n    print(os.environ['MLOPS_LABS_OFFLINE'], type(exc).__name__)"
    env = {k: v for k, v in os.environ.items() if k not in ("MLOPS_LABS_NETWORK_LOG", "PYTHONPATH")}
    result = subprocess.run([sys.executable, str(wrapper), sys.executable, "-c", code], capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("offline: "), result.stderr
    if "namespace" in result.stderr:
        assert result.stdout.split() == ["netns", "OSError"], result.stdout  # unreachable: no route out
    else:
        assert result.stdout.split()[0] == "guard", result.stdout


def test_only_documentation_addresses_are_used_here():
    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    for path in sorted(Path(__file__).parent.glob("**/*.py")):
        for text in re.findall(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])", path.read_text()):
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:  # not an address (e.g. 300.1.2.3)
                continue
            assert ip.is_loopback or ip.is_unspecified or any(ip in net for net in documentation), \
                f"{path.name} addresses {ip}: tests may use only 127.0.0.0/8 and the documentation ranges"
