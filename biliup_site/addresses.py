"""Which addresses the site may fetch from or send to: the one rule against SSRF.

The /proxy, webhooks and the recorder all fetch URLs that someone typed in. A URL aimed at the
machine itself, the LAN or a cloud's metadata service (169.254.169.254) would turn the site into
a way to read what only it can reach, so such addresses are refused unless the operator allowed
the host. Each address a name resolves to is checked; the recorder checks again on every
connection (`guard`), on the address actually connected to, so a name that resolves to a public
address for the check and a private one later (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The address may not be reached. Not an OSError nor a requests error on purpose: the
    code that retries on network failures must not retry this, it goes up to say why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def forbidden(ip: IPAddress) -> bool:
    """Loopback, private, link-local (the metadata service), multicast, reserved or unspecified,
    IPv4-mapped IPv6 addresses included."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        not ip.is_global
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def parse(address: str) -> IPAddress:
    """An address as getaddrinfo or getpeername gives it (an IPv6 zone dropped)."""
    return ipaddress.ip_address(address.split("%", 1)[0])


def named(host: str, patterns: Iterable[str], address: str = "") -> bool:
    """The host (or the address it resolved to) matches one of the operator's patterns:
    fnmatch patterns of names or addresses ("*.lan", "192.168.1.10"), or networks
    ("192.168.0.0/16")."""
    host = host.lower().strip("[]")
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if not pattern:
            continue
        if "/" in pattern:
            try:
                network = ipaddress.ip_network(pattern, strict=False)
            except ValueError:
                continue
            for candidate in (host, address):
                try:
                    if candidate and parse(candidate) in network:
                        return True
                except ValueError:
                    pass
        elif fnmatch.fnmatch(host, pattern) or (
            address and fnmatch.fnmatch(address, pattern)
        ):
            return True
    return False


def refusal(host: str, address: str) -> str:
    """The sentence saying why this address of host may not be reached."""
    where = address if host.strip("[]") == address else f"{host} ({address})"
    return (
        f"{where} is a loopback, private, link-local or reserved address: "
        "the site does not fetch from there unless the host is allowed"
    )


def check_host(host: str, port: int, allowed: Iterable[str] = ()) -> list[IPAddress]:
    """The host's addresses if every one may be reached; Refused if one may not. A name that
    does not resolve raises socket.gaierror (or UnicodeError): it may resolve later."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [parse(str(info[4][0])) for info in infos]
    allowed = list(allowed)
    for ip in addresses:
        if forbidden(ip) and not named(host, allowed, str(ip)):
            raise Refused(refusal(host, str(ip)))
    return addresses


def _checked(base: type[HTTPConnection], allowed: tuple[str, ...]) -> type:
    class Checked(base):  # type: ignore[misc, valid-type]
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            # Through a proxy's tunnel the peer is the proxy, which the operator chose.
            if getattr(self, "_tunnel_host", None):
                return sock
            address = str(sock.getpeername()[0])
            if forbidden(parse(address)) and not named(self.host, allowed, address):
                sock.close()
                raise Refused(refusal(self.host, address))
            return sock

    return Checked


def guard(http: requests.Session, allowed: Iterable[str] = ()) -> requests.Session:
    """Make every direct connection of this session check the address it reached (after DNS,
    redirects included); a forbidden one raises Refused. The adapters stay what they are (only
    their pools' connection classes change), so their settings and fast paths still apply.
    Connections through a configured proxy are the proxy's business and are not checked."""
    allowed = tuple(allowed)
    http_conn, https_conn = (
        _checked(HTTPConnection, allowed),
        _checked(HTTPSConnection, allowed),
    )
    pools: dict[str, Any] = {
        "http": type(
            "CheckedPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}
        ),
        "https": type(
            "CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
        ),
    }
    for adapter in http.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.clear()
            manager.pool_classes_by_scheme = pools
    return http
