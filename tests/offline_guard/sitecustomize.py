"""The offline guard: loaded into every Python process the test run starts (notebook kernels, the servers
they start) through PYTHONPATH, when MLOPS_LABS_NETWORK_LOG names a file.

Any socket connection to an address outside the loopback range is refused before a packet leaves, and
written to that file; conftest.py fails the test run when the file is not empty, so a notebook that
quietly catches the error and falls back still fails. "Offline" is proven, not assumed.
"""

import os

_LOG = os.environ.get("MLOPS_LABS_NETWORK_LOG")

if _LOG:
    import ipaddress
    import socket
    import sys
    import traceback

    def _is_local(address) -> bool:
        if not isinstance(address, tuple):  # AF_UNIX paths and other families without a host
            return True
        host = address[0]
        if host in ("localhost", ""):
            return True
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return False  # a host name that is not localhost: resolving it already needs the network
        if ip.is_loopback or ip.is_unspecified:
            return True
        mapped = getattr(ip, "ipv4_mapped", None)
        return bool(mapped and mapped.is_loopback)

    def _refuse(address):
        where = "".join(traceback.format_stack(limit=8)[:-2])
        with open(_LOG, "a") as log:
            log.write(f"pid {os.getpid()} ({' '.join(sys.argv)[:120]}): connection to {address!r}\n{where}\n")
        raise ConnectionRefusedError(
            f"MLOps Labs offline guard: a connection to {address!r} was refused. Labs must not use the "
            "network: load data through helpers.data and bind servers to 127.0.0.1."
        )

    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _sendto = socket.socket.sendto

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            _refuse(address)
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            _refuse(address)
        return _connect_ex(self, address)

    def sendto(self, data, *args):
        address = args[-1]
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            _refuse(address)
        return _sendto(self, data, *args)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
