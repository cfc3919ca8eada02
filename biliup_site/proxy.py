"""Image fetching for /api/v1/proxy: avatars and covers from Bilibili's image hosts only.

biliup's /bili/proxy fetched any URL (an SSRF hole). Here: http(s) only, allow-listed host
names, addresses checked after DNS (no loopback/private/link-local unless the operator points
the site at a fake Bilibili on this machine), no redirects, a size cap and a time cap.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings

ALLOWED_TYPES = ("image/",)


class ProxyError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str


def _host_allowed(host: str) -> bool:
    return any(
        fnmatch.fnmatch(host, pattern.lower())
        for pattern in settings.PROXY_ALLOWED_HOSTS
    )


def _check_addresses(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ProxyError(f"Cannot resolve {host}: {exc.strerror}", 502) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global and not settings.PROXY_ALLOW_PRIVATE:
            raise ProxyError(f"{host} resolves to a non-public address", 403)


@functools.cache
def _noface() -> bytes:
    return NOFACE_FILE.read_bytes()


def _is_noface(url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url else f"https:{url}")
        host = (parts.hostname or "").lower()
    except ValueError:
        return False  # check_url says what is wrong with it
    return parts.path == NOFACE_PATH and (
        host == "hdslb.com" or host.endswith(".hdslb.com")
    )


def check_url(url: str) -> tuple[str, int]:
    """The URL's host and port if the proxy may fetch it; ProxyError otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ProxyError("Not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ProxyError("Only http and https URLs can be proxied")
    host = (parts.hostname or "").lower()
    if not host:
        raise ProxyError("The URL has no host")
    if parts.username or parts.password:
        raise ProxyError("URLs with credentials are refused")
    if not _host_allowed(host):
        raise ProxyError(f"{host} is not an allowed image host", 403)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ProxyError("The URL has an invalid port") from None
    return host, port


# Bilibili's default avatar. Clients (biliup's UI) ask for it when an account's own face is out
# of reach, often because its login is dead: answered from a bundled image, so the fallback
# works even when Bilibili's image host does not.
NOFACE_PATH = "/bfs/face/member/noface.jpg"
NOFACE_FILE = settings.BASE_DIR / "static" / "biliup" / "noface.png"


def fetch(url: str) -> Fetched:
    if _is_noface(url):
        return Fetched(_noface(), "image/png")
    host, port = check_url(url)
    _check_addresses(host, port)
    try:
        with requests.get(
            url,
            stream=True,
            timeout=settings.PROXY_TIMEOUT,
            allow_redirects=False,
            headers={"Referer": ""},
        ) as response:
            if response.is_redirect:
                raise ProxyError(
                    "The image host answered with a redirect, which is not followed",
                    502,
                )
            if response.status_code != 200:
                raise ProxyError(
                    f"The image host answered HTTP {response.status_code}", 502
                )
            content_type = (
                response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            )
            if not content_type.startswith(ALLOWED_TYPES):
                raise ProxyError(
                    f"Not an image ({content_type or 'no content type'})", 502
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > settings.PROXY_MAX_BYTES:
                raise ProxyError("The image is too large", 502)
            body = bytearray()
            # `timeout` bounds each read, not the whole transfer: a trickling host is cut here.
            deadline = time.monotonic() + settings.PROXY_TIMEOUT
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > settings.PROXY_MAX_BYTES:
                    raise ProxyError("The image is too large", 502)
                if time.monotonic() > deadline:
                    raise ProxyError("The image host did not answer in time", 504)
    except requests.Timeout:
        raise ProxyError("The image host did not answer in time", 504) from None
    except requests.RequestException as exc:
        raise ProxyError(
            f"Could not fetch the image: {exc.__class__.__name__}", 502
        ) from None
    return Fetched(bytes(body), content_type)
