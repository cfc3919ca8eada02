from __future__ import annotations

from typing import Literal, TypedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from biliup_site import live
from recorder.models import Streamer, StreamerRow
from uploads.models import UploadJob, UploadJobDict


class UploadJobMessage(TypedDict):
    """What the browser receives on the progress socket."""

    type: Literal["upload_job"]
    job: UploadJobDict


class StreamerMessage(TypedDict):
    """A streamer's row (as in GET /streamers) when its recording state changes."""

    type: Literal["streamer"]
    streamer: StreamerRow


class ProgressConsumer(AsyncJsonWebsocketConsumer):
    """Pushes upload jobs and streamers as they change. Events name a row; it is read fresh here."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(live.PROGRESS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(live.PROGRESS_GROUP, self.channel_name)

    async def job_changed(self, event: live.ChangeEvent) -> None:
        if event.get("kind") == "upload_job":
            job = await _load_job(event["pk"])
            if job is not None:
                message: UploadJobMessage = {"type": "upload_job", "job": job}
                await self.send_json(message)
        elif event.get("kind") == "streamer":
            row = await _load_streamer(event["pk"])
            if row is not None:
                update: StreamerMessage = {"type": "streamer", "streamer": row}
                await self.send_json(update)


@database_sync_to_async
def _load_job(pk: int) -> UploadJobDict | None:
    job = UploadJob.objects.prefetch_related("files").filter(pk=pk).first()
    return job.to_dict() if job else None


@database_sync_to_async
def _load_streamer(pk: int) -> StreamerRow | None:
    streamer = Streamer.objects.with_upload_status().filter(pk=pk).first()
    return streamer.to_row() if streamer else None
