"""/ws/pages/: the pages' partials, pushed as rows change, in the page's language."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, User

from biliup_site.consumers import PageConsumer
from recorder.models import Streamer
from tests.factories import make_account
from uploads.models import UploadJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def make_user() -> User:
    return User.objects.create_user("alice", password="alice-password-1")


async def connect(
    headers: list[tuple[bytes, bytes]] | None = None,
    cookies: dict[str, str] | None = None,
) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        PageConsumer.as_asgi(), "/ws/pages/", headers=headers or []
    )
    communicator.scope["user"] = await make_user()
    communicator.scope["cookies"] = cookies or {}
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_it_pushes_the_job_partial_with_its_progress() -> None:
    job = await database_sync_to_async(UploadJob.objects.create)(
        account=await database_sync_to_async(make_account)(),
        bytes_total=200,
        status=UploadJob.Status.RUNNING,
    )
    communicator = await connect([(b"accept-language", b"en")])
    await database_sync_to_async(job.report_progress)(50, 1024.0, True)
    html = await communicator.receive_from(timeout=5)
    assert html.lstrip().startswith(f'<li id="job-{job.pk}"')
    assert 'value="50" max="200"' in html
    assert "Uploading" in html
    await communicator.disconnect()


async def test_it_pushes_a_streamers_state_in_the_pages_language() -> None:
    streamer = await database_sync_to_async(Streamer.objects.create)(
        url="https://live.bilibili.com/1",
        platform="bilibili",
        state=Streamer.State.RECORDING,
        progress={"duration": 65, "bytes": 2048, "bitrate": 8000, "segments": 1},
    )
    communicator = await connect(cookies={"biliup.lang": "zh-hans"})
    await get_channel_layer().group_send(
        "progress", {"type": "job.changed", "kind": "streamer", "pk": streamer.pk}
    )
    html = await communicator.receive_from(timeout=5)
    assert f'id="streamer-state-{streamer.pk}"' in html
    assert 'data-key="recording-False-1"' in html
    assert "1:05" in html
    await communicator.disconnect()


async def test_it_ignores_rows_that_are_gone_and_unknown_kinds() -> None:
    communicator = await connect()
    layer = get_channel_layer()
    await layer.group_send(
        "progress", {"type": "job.changed", "kind": "upload_job", "pk": 999}
    )
    await layer.group_send("progress", {"type": "job.changed", "kind": "x", "pk": 1})
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_anonymous_users_cannot_open_it() -> None:
    communicator = WebsocketCommunicator(PageConsumer.as_asgi(), "/ws/pages/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401
