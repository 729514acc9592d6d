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
