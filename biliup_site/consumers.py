"""The WebSocket endpoints: two fed by the change events of biliup_site.live, and the logs.

/ws/progress/ (ProgressConsumer) sends each changed row as JSON, in the API's shapes (an upload
job, a streamer, a followed user, a new video): for scripts and biliup's own web UI.

/ws/pages/ (PageConsumer) is the pages' live updates: the same events, sent as rendered HTML.
Each message is the partial the page itself renders for that row (a streamer's state, an upload
job), so htmx's ws extension swaps it in by id: one template for the page, the htmx swap and the
push. The language is the one the page was rendered in (cookie, then Accept-Language).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal, TypedDict
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import (
    AsyncJsonWebsocketConsumer,
    AsyncWebsocketConsumer,
)
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from biliup_site import live, logs
from creators.models import Creator, CreatorDict, CreatorVideo, CreatorVideoDict
from recorder.models import Streamer, StreamerRow
from uploads.api_dicts import UploadJobDict
from uploads.models import UploadJob

# How often a followed log is looked at (biliup's viewer: 500 ms).
LOG_POLL_SECONDS = 0.5


def _language(scope: dict[str, Any]) -> str:
    supported = dict(settings.LANGUAGES)
    chosen = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in supported:
        return chosen
    headers = dict(scope.get("headers", []))
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    for code, _quality in translation.trans_real.parse_accept_lang_header(accept):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def render_streamer(pk: int) -> str:
    streamer = (
        Streamer.objects.with_upload_status()
        .select_related("upload_template")
        .filter(pk=pk)
        .first()
    )
    if streamer is None:
        return ""
    return render_to_string(
        "recorder/streamers.html#streamer-state", {"streamer": streamer}
    )


def render_job(pk: int) -> str:
    job = UploadJob.objects.for_rows().filter(pk=pk).first()
    if job is None:
        return ""
    return render_to_string("uploads/uploads.html#job", {"job": job})


def render_creator(pk: int) -> str:
    creator = Creator.objects.rows().filter(pk=pk).first()
    if creator is None:
        return ""
    return render_to_string(
        "creators/creators.html#creator-row",
        {"creator": creator, "now": timezone.now()},
    )


RENDERERS = {
    "streamer": render_streamer,
    "upload_job": render_job,
    "creator": render_creator,
}


@database_sync_to_async
def _render(kind: str, pk: int, language: str) -> str:
    renderer = RENDERERS.get(kind)
    if renderer is None:
        return ""
    with translation.override(language):
        return renderer(pk)


class PageConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.language = _language(self.scope)
        await self.channel_layer.group_add(live.PROGRESS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(live.PROGRESS_GROUP, self.channel_name)

    async def job_changed(self, event: live.ChangeEvent) -> None:
        html = await _render(event.get("kind", ""), event["pk"], self.language)
        if html:
            await self.send(text_data=html)


class UploadJobMessage(TypedDict):
    """What the browser receives on the progress socket."""

    type: Literal["upload_job"]
    job: UploadJobDict


class StreamerMessage(TypedDict):
    """A streamer's row (as in GET /streamers) when its recording state changes."""

    type: Literal["streamer"]
    streamer: StreamerRow


class CreatorMessage(TypedDict):
    """A followed user's row (as in GET /creators) after each refresh."""

    type: Literal["creator"]
    creator: CreatorDict


class CreatorVideoMessage(TypedDict):
    """A video a followed user just published, found by a refresh."""

    type: Literal["creator_video"]
    video: CreatorVideoDict


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

    async def receive(
        self,
        text_data: str | None = None,
        bytes_data: bytes | None = None,
        **kwargs: Any,
    ) -> None:
        # It only pushes. A client's frame is not parsed: the JSON consumer's json.loads would
        # recurse on 100 000 '['.
        return

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
        elif event.get("kind") == "creator":
            creator = await _load_creator(event["pk"])
            if creator is not None:
                followed: CreatorMessage = {"type": "creator", "creator": creator}
                await self.send_json(followed)
        elif event.get("kind") == "creator_video":
            video = await _load_creator_video(event["pk"])
            if video is not None:
                found: CreatorVideoMessage = {"type": "creator_video", "video": video}
                await self.send_json(found)


@database_sync_to_async
def _load_job(pk: int) -> UploadJobDict | None:
    job = UploadJob.objects.prefetch_related("files").filter(pk=pk).first()
    return job.to_dict() if job else None


@database_sync_to_async
def _load_streamer(pk: int) -> StreamerRow | None:
    streamer = Streamer.objects.with_upload_status().filter(pk=pk).first()
    return streamer.to_row() if streamer else None


@database_sync_to_async
def _load_creator(pk: int) -> CreatorDict | None:
    creator = Creator.objects.filter(pk=pk).first()
    return creator.to_dict() if creator else None


@database_sync_to_async
def _load_creator_video(pk: int) -> CreatorVideoDict | None:
    video = CreatorVideo.objects.select_related("creator").filter(pk=pk).first()
    return video.to_dict() if video else None


class LogConsumer(AsyncWebsocketConsumer):
    """/v1/ws/logs?file=<name>: the last lines of one of the site's logs, then new lines as they
    are written (biliup's log viewer: one text message per line).

    With &format=html each batch is one fragment for htmx's ws extension (the log page): the
    first replaces the lines shown, later ones append. Only names in biliup_site.logs are served.
    """

    async def connect(self) -> None:
        # Accept first, then close: a close before the handshake completes reaches a browser as
        # a failed connection (1006), without the code.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        name = query.get("file", ["biliup.log"])[0]
        self.html = query.get("format", [""])[0] == "html"
        path = logs.log_path(name)
        if path is None:
            await self.send(text_data=f"Not one of the site's logs: {name}")
            await self.close(code=4404)
            return
        self.follow = asyncio.create_task(self._follow(path))

    async def disconnect(self, code: int) -> None:
        follow = getattr(self, "follow", None)
        if follow is not None:
            follow.cancel()

    async def _follow(self, path: Path) -> None:
        lines, offset = await asyncio.to_thread(logs.tail, path)
        await self._send_lines(lines, replace=True)
        while True:
            await asyncio.sleep(LOG_POLL_SECONDS)
            lines, offset, restarted = await asyncio.to_thread(
                logs.read_from, path, offset
            )
            if restarted:  # truncated or rotated: start over from its end
                lines, offset = await asyncio.to_thread(logs.tail, path)
                await self._send_lines(lines, replace=True)
            elif lines:
                await self._send_lines(lines, replace=False)

    async def _send_lines(self, lines: list[str], replace: bool) -> None:
        if not self.html:
            for line in lines:
                await self.send(text_data=line)
            return
        if lines or replace:
            await self.send(
                text_data=render_to_string(
                    "biliup_site/logs.html#lines",
                    {"lines": lines, "swap": "innerHTML" if replace else "beforeend"},
                )
            )


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: accepted, then closed with 4404 (not a 500 from the router)."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=4404)
