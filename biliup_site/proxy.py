"""Image fetching for /api/v1/proxy: avatars and covers from Bilibili's image hosts only.

biliup's /bili/proxy fetched any URL (an SSRF hole). Here: http(s) only, allow-listed host
names, addresses checked after DNS (no loopback/private/link-local unless the operator points
the site at a fake Bilibili on this machine), no redirects, a size cap and a time cap.

What was fetched is kept on disk for PROXY_CACHE_DAYS (fetch_cached): Bilibili's image URLs
name their content (a new cover or face is a new URL), so the room cards of a dashboard
reloaded, or opened in another browser, never fetch their covers again.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import http.client
import logging
import os
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import certifi
from django.conf import settings
from requests.utils import default_user_agent, requote_uri

from biliup_site import addresses

logger = logging.getLogger(__name__)

ALLOWED_TYPES = ("image/",)
REDIRECTS = (301, 302, 303, 307, 308)


class ProxyError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str

    @property
    def etag(self) -> str:
        """The content's digest, for ETag and If-None-Match (without the quotes)."""
        return hashlib.sha256(self.content).hexdigest()[:32]


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
        address = addresses.parse(str(info[4][0]))
        if addresses.forbidden(address) and not settings.PROXY_ALLOW_PRIVATE:
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
    deadline = time.monotonic() + settings.PROXY_TIMEOUT
    connection = _connection(url, host, port, deadline)
    watchdog = _Watchdog(connection, deadline)
    fetched = None
    try:
        connection.connect()
        # http.client drops `connection.sock` once the response owns the socket (HTTP/1.0,
        # Connection: close): the watchdog keeps its own reference.
        watchdog.sock = connection.sock
        fetched = _download(connection, url)
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        if not isinstance(exc, TimeoutError) and time.monotonic() < deadline:
            raise ProxyError(
                f"Could not fetch the image: {exc.__class__.__name__}", 502
            ) from None
    finally:
        watchdog.cancel()
        connection.close()
    # Checked after a success too: a cut can look like a complete body (no Content-Length, or
    # a TLS connection's ragged end).
    if fetched is None or time.monotonic() >= deadline:
        raise ProxyError("The image host did not answer in time", 504)
    return fetched


def _connection(
    url: str, host: str, port: int, deadline: float
) -> http.client.HTTPConnection:
    timeout = max(0.001, deadline - time.monotonic())
    if urlsplit(url).scheme == "https":
        return http.client.HTTPSConnection(
            host, port, timeout=timeout, context=_tls_context()
        )
    return http.client.HTTPConnection(host, port, timeout=timeout)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


class _Watchdog:
    """Shuts the connection's socket down at the deadline.

    A socket timeout bounds each read, not the whole transfer: a host trickling a few bytes a
    second would hold a worker far past the limit. A shutdown ends any read blocked on the
    socket, in the TLS handshake, the headers or the body.
    """

    def __init__(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        self.connection = connection
        self.sock: socket.socket | None = None
        self.timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._cut)
        self.timer.daemon = True
        self.timer.start()

    def cancel(self) -> None:
        self.timer.cancel()

    def _cut(self) -> None:
        sock = self.connection.sock or self.sock
        if sock is None:
            return  # still connecting: the connect timeout is the time left
        try:
            # The plain socket's shutdown, also under TLS: SSLSocket.shutdown would drop the
            # TLS state the reading thread is using.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def _download(connection: http.client.HTTPConnection, url: str) -> Fetched:
    parts = urlsplit(requote_uri(url))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection.request(
        "GET",
        target,
        # An empty Referer: Bilibili's image hosts refuse other sites' pages.
        headers={"Referer": "", "User-Agent": default_user_agent()},
    )
    response = connection.getresponse()
    if response.status in REDIRECTS and response.getheader("Location"):
        raise ProxyError(
            "The image host answered with a redirect, which is not followed", 502
        )
    if response.status != 200:
        raise ProxyError(f"The image host answered HTTP {response.status}", 502)
    content_type = (
        (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    )
    if not content_type.startswith(ALLOWED_TYPES):
        raise ProxyError(f"Not an image ({content_type or 'no content type'})", 502)
    declared = response.getheader("Content-Length") or ""
    if declared.isdigit() and int(declared) > settings.PROXY_MAX_BYTES:
        raise ProxyError("The image is too large", 502)
    body = bytearray()
    while chunk := response.read(64 * 1024):
        body += chunk
        if len(body) > settings.PROXY_MAX_BYTES:
            raise ProxyError("The image is too large", 502)
    return Fetched(bytes(body), content_type)


# --- The disk cache ---------------------------------------------------------------------------


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "cache" / "images"


def fetch_cached(url: str) -> Fetched:
    """fetch(), answered from the disk cache when the same URL was fetched within
    PROXY_CACHE_DAYS (0: no cache). The host must still be allowed: a cached image is not
    served from a host taken off the list."""
    if _is_noface(url) or settings.PROXY_CACHE_DAYS <= 0:
        return fetch(url)
    check_url(url)
    path = cache_dir() / hashlib.sha256(url.encode()).hexdigest()
    cached = _read(path)
    if cached is not None:
        return cached
    fetched = fetch(url)
    try:
        _write(path, fetched)
    except OSError as exc:
        # A full or read-only disk costs a fetch next time, never the image now.
        logger.warning("Could not cache the image: %s", exc)
    return fetched


def _max_age() -> float:
    return settings.PROXY_CACHE_DAYS * 86400.0


def _read(path: Path) -> Fetched | None:
    try:
        if time.time() - path.stat().st_mtime > _max_age():
            return None
        data = path.read_bytes()
    except OSError:
        return None
    content_type, newline, content = data.partition(b"\n")
    if not newline or not content_type.startswith(b"image/"):
        return None  # not one of ours, or cut short
    return Fetched(content, content_type.decode("ascii", "replace"))


def _write(path: Path, fetched: Fetched) -> None:
    """One file per URL: the content type on the first line, then the image. Written aside and
    renamed: a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _prune(path.parent)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(fetched.content_type.encode("ascii", "replace") + b"\n")
            file.write(fetched.content)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _prune(directory: Path) -> None:
    """Forget the images older than the cache keeps (old covers: a cover changes its URL)."""
    oldest = time.time() - max(_max_age(), 3600.0)
    for entry in directory.iterdir():
        try:
            if entry.stat().st_mtime < oldest:
                entry.unlink()
        except OSError:
            continue  # another process pruned it first
