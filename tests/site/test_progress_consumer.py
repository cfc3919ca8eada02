from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, User

from biliup_site.consumers import ProgressConsumer
from tests.factories import make_account
from uploads.models import UploadJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def make_job() -> UploadJob:
    return UploadJob.objects.create(account=make_account(), bytes_total=100)


@database_sync_to_async
def make_user() -> User:
    return User.objects.create_user("alice", password="alice-password-1")


async def test_it_pushes_the_job_as_the_database_has_it() -> None:
    job = await make_job()
    communicator = WebsocketCommunicator(ProgressConsumer.as_asgi(), "/ws/progress/")
    communicator.scope["user"] = await make_user()
    connected, _ = await communicator.connect()
    assert connected
    await database_sync_to_async(job.report_progress)(40, 10.0, True)
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "upload_job"
    assert (
        message["job"]["id"],
        message["job"]["bytes_done"],
        message["job"]["bytes_total"],
    ) == (job.pk, 40, 100)
    await communicator.disconnect()


async def test_it_ignores_events_for_rows_that_are_gone() -> None:
    communicator = WebsocketCommunicator(ProgressConsumer.as_asgi(), "/ws/progress/")
    communicator.scope["user"] = await make_user()
    await communicator.connect()
    await get_channel_layer().group_send(
        "progress", {"type": "job.changed", "kind": "upload_job", "pk": 999}
    )
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_it_refuses_anonymous_users() -> None:
    communicator = WebsocketCommunicator(ProgressConsumer.as_asgi(), "/ws/progress/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_it_pushes_a_streamers_row_when_its_recording_state_changes() -> None:
    from recorder.models import Streamer

    streamer = await database_sync_to_async(Streamer.objects.create)(
        url="https://live.bilibili.com/1", platform="bilibili"
    )
    communicator = WebsocketCommunicator(ProgressConsumer.as_asgi(), "/ws/progress/")
    communicator.scope["user"] = await make_user()
    await communicator.connect()
    await get_channel_layer().group_send(
        "progress", {"type": "job.changed", "kind": "streamer", "pk": streamer.pk}
    )
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "streamer"
    assert message["streamer"]["inner"]["id"] == streamer.pk
    assert message["streamer"]["status"] == "Idle"
    await communicator.disconnect()
