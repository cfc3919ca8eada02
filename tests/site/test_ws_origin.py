"""Every WebSocket refuses a page of a foreign origin, even one carrying the admin's cookie."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from biliup_site.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HOST = b"admin.lan:19159"


@database_sync_to_async
def session_cookie() -> bytes:
    client = Client()
    client.force_login(User.objects.create_user("alice", password="alice-pw-1"))
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return f"{settings.SESSION_COOKIE_NAME}={value}".encode()


async def open_socket(path: str, origin: bytes | None) -> tuple[bool, Any]:
    headers = [(b"host", HOST), (b"cookie", await session_cookie())]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    outcome = (connected, await communicator.receive_nothing(timeout=0.1))
    await communicator.disconnect()
    return outcome


@pytest.mark.parametrize(
    "path", ["/ws/pages/", "/ws/progress/", "/v1/ws/logs?file=biliup.log", "/ws/new/"]
)
async def test_a_foreign_origin_is_refused_on_every_socket(path: str) -> None:
    connected, _ = await open_socket(path, b"https://evil.example")
    assert not connected


@pytest.mark.parametrize(
    "origin",
    [
        b"http://admin.lan:19159",
        b"https://ADMIN.lan:19159",  # the Host header has no scheme: a TLS proxy's page
        b"https://dash.example",
        None,  # scripts send no Origin; browsers always do
    ],
)
async def test_the_own_a_configured_or_no_origin_is_accepted(
    settings: Any, origin: bytes | None
) -> None:
    settings.WS_ALLOWED_ORIGINS = ["https://dash.example"]
    # Open, and not closed 4401: the cookie is a valid session.
    assert await open_socket("/ws/progress/", origin) == (True, True)


@pytest.mark.parametrize(
    "origin",
    [b"http://admin.lan:8000", b"http://admin.lan.evil.example:19159", b"null"],
)
async def test_a_near_miss_is_refused(origin: bytes) -> None:
    connected, _ = await open_socket("/ws/progress/", origin)
    assert not connected
