"""The pages' live updates: the same change events as /ws/progress/, sent as rendered HTML.

Each message is the partial the page itself renders for that row (a streamer's state, an upload
job), so htmx's ws extension swaps it in by id: one template for the page, the htmx swap and the
push. The language is the one the page was rendered in (cookie, then Accept-Language).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from biliup_site import live
from creators.models import Creator
from recorder.models import Streamer
from uploads.models import UploadJob


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
    job = (
        UploadJob.objects.select_related("streamer")
        .prefetch_related("files")
        .filter(pk=pk)
        .first()
    )
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
