from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import JsonClient
from tests.origins import Handler, serving

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


class ImageHost(Handler):
    def do_GET(self) -> None:
        if self.path == "/face.png":
            self._send(200, "image/png", PNG)
        elif self.path == "/big.png":
            self._send(200, "image/png", b"\0" * 4096)
        elif self.path == "/page":
            self._send(200, "text/html", b"<script>alert(1)</script>")
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(1.5)
            self._send(200, "image/png", PNG)
        elif self.path == "/trickle-body":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self._trickle(b"\0" * 1000)
        elif self.path == "/trickle-headers":
            self._trickle(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n" + b"X" * 1000
            )
        else:
            self._send(404, "text/plain", b"no")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send(status, body, Content_Type=content_type)

    def _trickle(self, data: bytes) -> None:
        # 10 bytes a second: each read returns well within the per-read timeout.
        self.wfile.flush()
        for i in range(0, len(data), 1):
            try:
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
            except OSError:
                return  # the proxy hung up
            time.sleep(0.1)


@pytest.fixture
def image_host(settings: Any) -> Iterator[str]:
    settings.PROXY_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PROXY_ALLOW_PRIVATE = True
    settings.PROXY_MAX_BYTES = 1024
    settings.PROXY_TIMEOUT = 0.5
    with serving(ImageHost) as server:
        yield server.url


def test_it_fetches_an_image_from_an_allowed_host(
    api: JsonClient, image_host: str
) -> None:
    r = api.get("/api/v1/proxy", {"url": f"{image_host}/face.png"})
    assert r.status_code == 200
    assert r.content == PNG
    assert r["Content-Type"] == "image/png"
    assert api.get("/bili/proxy", {"url": f"{image_host}/face.png"}).content == PNG


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/page", 502, "Not an image (text/html)"),
        ("/big.png", 502, "The image is too large"),
        (
            "/moved",
            502,
            "The image host answered with a redirect, which is not followed",
        ),
        ("/missing.png", 502, "The image host answered HTTP 404"),
        ("/slow", 504, "The image host did not answer in time"),
    ],
)
def test_it_refuses_what_is_not_a_small_image(
    api: JsonClient, image_host: str, path: str, status: int, message: str
) -> None:
    r = api.get("/api/v1/proxy", {"url": image_host + path})
    assert r.status_code == status
    assert r.json() == {"error": message}


@pytest.mark.parametrize("path", ["/trickle-body", "/trickle-headers"])
def test_a_trickling_host_is_cut_at_the_deadline(
    api: JsonClient, image_host: str, path: str
) -> None:
    started = time.monotonic()
    r = api.get("/api/v1/proxy", {"url": image_host + path})
    assert r.status_code == 504
    assert r.json() == {"error": "The image host did not answer in time"}
    # The deadline is 0.5 s; the whole trickle would take 100 s.
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("", 400, "url: Give the image URL to fetch."),
        ("file:///etc/passwd", 400, "Only http and https URLs can be proxied"),
        ("gopher://i0.hdslb.com/", 400, "Only http and https URLs can be proxied"),
        ("https://example.com/x.png", 403, "example.com is not an allowed image host"),
        (
            "https://i0.hdslb.com.evil.example/x.png",
            403,
            "i0.hdslb.com.evil.example is not an allowed image host",
        ),
        (
            "https://user:pw@i0.hdslb.com/x.png",
            400,
            "URLs with credentials are refused",
        ),
        ("http://127.0.0.1:8080/", 403, "127.0.0.1 is not an allowed image host"),
    ],
)
def test_it_refuses_urls_outside_the_allow_list(
    api: JsonClient, url: str, status: int, message: str
) -> None:
    r = api.get("/api/v1/proxy", {"url": url})
    assert r.status_code == status
    assert r.json() == {"error": message}


def test_an_allowed_name_that_resolves_to_loopback_is_refused(
    api: JsonClient, settings: Any
) -> None:
    settings.PROXY_ALLOWED_HOSTS = ["localhost"]
    r = api.get("/api/v1/proxy", {"url": "http://localhost:1/x.png"})
    assert r.status_code == 403
    assert r.json() == {"error": "localhost resolves to a non-public address"}


def test_it_needs_a_session(anon: JsonClient, image_host: str) -> None:
    assert (
        anon.get("/api/v1/proxy", {"url": f"{image_host}/face.png"}).status_code == 401
    )
