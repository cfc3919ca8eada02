"""The WebSocket Origin check, in front of every socket the site serves.

Browsers send cookies with a WebSocket handshake from any page, and CSRF protection does not
cover sockets: without this check a foreign page could open /ws/pages/ or /v1/ws/logs with the
admin's session. channels' AllowedHostsOriginValidator compares the Origin with ALLOWED_HOSTS,
which is "*" by default here, so it let every origin through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = ("80", "443")


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _host_port(netloc: str) -> tuple[str, str]:
    host, port = split_domain_port(netloc.lower())
    # Scheme-insensitive: behind a TLS proxy the page is https:// and the Host header bare.
    return host, "" if port in DEFAULT_PORTS else port


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """May a socket whose handshake carries this Origin and Host header be opened?"""
    if origin is None:
        # Browsers always send Origin on a WebSocket handshake; only scripts and other
        # non-browser clients leave it out, and they hold no one else's cookie: no CSRF risk.
        return True
    origin = origin.strip().lower().rstrip("/")
    trusted = settings.WS_ALLOWED_ORIGINS + settings.CSRF_TRUSTED_ORIGINS
    if origin in (o.lower().rstrip("/") for o in trusted):
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or not host:
        return False  # "null" (sandboxed frames, file://) included
    own = _host_port(host)
    return own[0] != "" and _host_port(parts.netloc) == own


class OriginCheck:
    """ASGI middleware: refuses (HTTP 403, before accept) a socket from a foreign Origin."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            host = _header(scope, b"host")
            # The Host must be one the site answers to (the HTTP side checks it in Django).
            host_ok = host is None or validate_host(
                split_domain_port(host.lower())[0], settings.ALLOWED_HOSTS
            )
            if not host_ok or not origin_allowed(_header(scope, b"origin"), host):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
