"""The offline guard: loaded into every Python process the test run starts (notebook kernels, the servers
they start) through PYTHONPATH, when MLOPS_LABS_NETWORK_LOG names a file.

It is the second line of defence and the run's witness. The first is the network namespace that
`tests/offline_guard/offline.py` puts the whole run in where the system allows one (only loopback exists
there, so nothing leaves, whatever the language). The guard works inside Python: a connection, datagram or
name lookup that would leave the machine is refused before the socket call is made, and written to the log
with the process and the call stack; conftest.py fails the test run when the log is not empty, so a
notebook that quietly catches the error and falls back still fails.

Covered: `socket.socket` and the C-level `_socket.socket` underneath it (connect, connect_ex, sendto,
sendmsg), so gevent's monkey-patched sockets, which are built on `_socket.socket`, are covered too; and the
resolver (`getaddrinfo`, `gethostbyname`, `gethostbyname_ex`), so a host name is refused before a DNS query
is sent. Not covered: native programs (a C++ server binary): only the namespace confines those.
"""

import os

_LOG = os.environ.get("MLOPS_LABS_NETWORK_LOG")

if _LOG:
    import _socket
    import ipaddress
    import sys
    import traceback

    _LOCAL_NAMES = {"localhost", "localhost.", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
    try:
        _LOCAL_NAMES.add(_socket.gethostname())  # the machine's own name resolves from /etc/hosts
    except OSError:
        pass

    def _is_local_host(host) -> bool:
        if host is None:
            return True
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if not isinstance(host, str):
            return True
        if host.lower() in _LOCAL_NAMES:
            return True
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return False  # a host name that is not local: resolving it already needs the network
        if ip.is_loopback or ip.is_unspecified:
            return True
        mapped = getattr(ip, "ipv4_mapped", None)
        return bool(mapped and mapped.is_loopback)

    def _is_local(address) -> bool:
        if not isinstance(address, tuple) or not address:  # AF_UNIX paths and other families without a host
            return True
        return _is_local_host(address[0])

    def _refuse(what):
        where = "".join(traceback.format_stack(limit=8)[:-2])
        with open(_LOG, "a") as log:
            log.write(f"pid {os.getpid()} ({' '.join(sys.argv)[:120]}): {what}\n{where}\n")
        raise ConnectionRefusedError(
            f"MLOps Labs offline guard: {what} was refused. Labs must not use the network: load data "
            "through helpers.data and bind servers to 127.0.0.1."
        )

    _INET = (_socket.AF_INET, _socket.AF_INET6)
    _Base = _socket.socket

    class _GuardedSocket(_Base):
        """`_socket.socket` with its outgoing calls checked (every Python socket is built on this class)."""

        __slots__ = ()

        def connect(self, address):
            if self.family in _INET and not _is_local(address):
                _refuse(f"a connection to {address!r}")
            return _Base.connect(self, address)

        def connect_ex(self, address):
            if self.family in _INET and not _is_local(address):
                _refuse(f"a connection to {address!r}")
            return _Base.connect_ex(self, address)

        def sendto(self, data, *args):
            if args and self.family in _INET and not _is_local(args[-1]):
                _refuse(f"a datagram to {args[-1]!r}")
            return _Base.sendto(self, data, *args)

        def sendmsg(self, buffers, *args):
            if len(args) >= 3 and args[2] is not None and self.family in _INET and not _is_local(args[2]):
                _refuse(f"a message to {args[2]!r}")
            return _Base.sendmsg(self, buffers, *args)

    def _is_address(host) -> bool:
        try:
            ipaddress.ip_address((host.decode() if isinstance(host, bytes) else host).split("%")[0])
        except (AttributeError, UnicodeDecodeError, ValueError):
            return False
        return True

    def _resolver(function):
        def guarded(host, *args, **kwargs):  # an address needs no lookup: its connection is checked instead
            if not _is_local_host(host) and not _is_address(host):
                _refuse(f"a name lookup of {host!r}")
            return function(host, *args, **kwargs)

        guarded.__name__ = function.__name__
        return guarded

    # Before `socket` is imported, so socket.socket (and gevent's socket, made later) subclass the guarded one.
    _socket.socket = _socket.SocketType = _GuardedSocket
    for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        setattr(_socket, _name, _resolver(getattr(_socket, _name)))

    import socket

    if not issubclass(socket.socket, _GuardedSocket):  # imported before this file ran (not the usual case)
        for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
            setattr(socket.socket, _name, getattr(_GuardedSocket, _name))
    for _name in ("gethostbyname", "gethostbyname_ex"):  # socket.getaddrinfo calls _socket's at each call
        setattr(socket, _name, getattr(_socket, _name))
