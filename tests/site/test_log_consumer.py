"""/v1/ws/logs (biliup's log viewer and the log page) and the close of unknown socket paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, User

from biliup_site.asgi import application
from biliup_site.consumers import LogConsumer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def log_dir(settings: Any, tmp_path: Path) -> Path:
    settings.LOG_DIR = tmp_path
    return tmp_path


@database_sync_to_async
def make_user() -> User:
    return User.objects.create_user("alice", password="alice-password-1")


async def connect(path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(LogConsumer.as_asgi(), path)
    communicator.scope["user"] = await make_user()
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_it_sends_the_tail_then_new_lines(log_dir: Path) -> None:
    log = log_dir / "biliup.log"
    log.write_text("".join(f"line {n}\n" for n in range(80)) + "half a li")
    communicator = await connect("/v1/ws/logs?file=ds_update.log")
    tail = [await communicator.receive_from(timeout=5) for _ in range(50)]
    assert tail == [f"line {n}" for n in range(30, 80)]
    with log.open("a") as f:
        f.write("ne\nnew line\n")
    assert await communicator.receive_from(timeout=5) == "half a line"
    assert await communicator.receive_from(timeout=5) == "new line"
    await communicator.disconnect()


async def test_it_starts_over_when_the_log_is_rotated(log_dir: Path) -> None:
    log = log_dir / "upload.log"
    log.write_text("old 1\nold 2\n")
    communicator = await connect("/v1/ws/logs?file=upload.log")
    assert await communicator.receive_from(timeout=5) == "old 1"
    assert await communicator.receive_from(timeout=5) == "old 2"
    log.write_text("fresh\n")
    assert await communicator.receive_from(timeout=5) == "fresh"
    await communicator.disconnect()


async def test_it_waits_for_a_log_with_no_lines_yet(log_dir: Path) -> None:
    communicator = await connect("/v1/ws/logs?file=download.log")
    assert await communicator.receive_nothing(timeout=0.3)
    (log_dir / "download.log").write_text("first\n")
    assert await communicator.receive_from(timeout=5) == "first"
    await communicator.disconnect()


async def test_it_sends_html_for_the_log_page(log_dir: Path) -> None:
    log = log_dir / "biliup.log"
    log.write_text("<b>one</b>\n")
    communicator = await connect("/v1/ws/logs?file=biliup.log&format=html")
    first = await communicator.receive_from(timeout=5)
    assert 'id="log-lines" hx-swap-oob="innerHTML"' in first
    assert "&lt;b&gt;one&lt;/b&gt;" in first
    with log.open("a") as f:
        f.write("two\n")
    second = await communicator.receive_from(timeout=5)
    assert 'hx-swap-oob="beforeend"' in second
    assert "two" in second
    await communicator.disconnect()


@pytest.mark.parametrize(
    "name", ["../biliup.sqlite3", "/etc/passwd", "secret_key", "biliup.log.1"]
)
async def test_it_serves_only_the_sites_logs(log_dir: Path, name: str) -> None:
    communicator = await connect(f"/v1/ws/logs?file={name}")
    assert "Not one of the site's logs" in await communicator.receive_from(timeout=5)
    assert (await communicator.receive_output(timeout=5))["code"] == 4404


async def test_it_closes_for_anonymous_users(log_dir: Path) -> None:
    (log_dir / "biliup.log").write_text("private\n")
    communicator = WebsocketCommunicator(
        LogConsumer.as_asgi(), "/v1/ws/logs?file=biliup.log"
    )
    communicator.scope["user"] = AnonymousUser()
    await communicator.connect()
    assert (await communicator.receive_output(timeout=5))["code"] == 4401


async def test_the_router_closes_anonymous_log_sockets(log_dir: Path) -> None:
    communicator = WebsocketCommunicator(application, "/v1/ws/logs?file=biliup.log")
    await communicator.connect()
    assert (await communicator.receive_output(timeout=5))["code"] == 4401


@pytest.mark.parametrize("path", ["/nope/", "/v1/ws/other", "/ws/pages"])
async def test_an_unknown_socket_path_closes_with_4404(path: str) -> None:
    communicator = WebsocketCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_output(timeout=5))["code"] == 4404
