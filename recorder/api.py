from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from biliup_site.api import ApiError, api, biliup_surface, dispatch, form_error, ok
from biliup_site.forms import bind
from biliup_site.http import ApiRequest
from biliup_site.models import Configuration
from recorder import streamers as workflow
from recorder import videos as recordings
from recorder.forms import StreamerForm
from recorder.models import Streamer, StreamerInfo
from uploads.models import UploadTemplate


def _fields(request: ApiRequest, streamer: Streamer) -> dict[str, Any]:
    """The streamer's own fields. On biliup's routes `time_range` is JSON text, as biliup stores
    it: its UI parses a string and would call toISOString() on a list's plain strings."""
    data: dict[str, Any] = dict(streamer.to_dict())
    if biliup_surface(request):
        time_range = data["time_range"]
        data["time_range"] = json.dumps(time_range) if time_range else None
    return data


def _row(request: ApiRequest, streamer: Streamer) -> dict[str, Any]:
    """A row of GET /streamers in both shapes at once: biliup's server flattens the streamer's
    fields to the top level (its UI reads item.id, item.url), the document nests them under
    `inner`. The row's own keys (status, upload_status, state, …) never collide with them."""
    row: dict[str, Any] = dict(streamer.to_row())
    return {**_fields(request, streamer), **row}


def _payload(request: ApiRequest) -> dict[str, Any]:
    """The body with biliup's `upload_streamers_id` turned into our `template_name`.

    biliup's UI picks the template by id and sends back the whole row, our `template_name`
    included; on its routes the id is what the user just chose, so it wins. On /api/v1 the
    document's `template_name` wins, and the id only counts when sent alone."""
    payload = dict(request.json)
    if "upload_streamers_id" not in payload:
        return payload
    if "template_name" in payload and not biliup_surface(request):
        return payload
    pk = payload["upload_streamers_id"]
    if pk is None:
        payload["template_name"] = ""
        return payload
    if type(pk) is not int:
        raise ApiError(
            "upload_streamers_id: Expected the id of an upload template or null."
        )
    template = UploadTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise ApiError(f"upload_streamers_id: No upload template with id {pk}.")
    payload["template_name"] = template.template_name
    return payload


def _saved(streamer: Streamer | None, form: StreamerForm) -> Streamer:
    if streamer is None:
        raise form_error(form)
    return streamer


def list_streamers(request: ApiRequest) -> HttpResponse:
    return ok(
        [_row(request, streamer) for streamer in Streamer.objects.with_upload_status()]
    )


def create_streamer(request: ApiRequest) -> HttpResponse:
    form = bind(StreamerForm, _payload(request))
    streamer = _saved(workflow.create(form), form)
    return ok(_fields(request, streamer))


def update_streamer(request: ApiRequest) -> HttpResponse:
    pk = request.json.get("id")
    if type(pk) is not int:
        raise ApiError("id: Expected the id of the streamer to update.")
    streamer = get_object_or_404(Streamer, pk=pk)
    form = bind(StreamerForm, _payload(request), instance=streamer)
    streamer = _saved(workflow.save(form), form)
    return ok(_fields(request, streamer))


streamers = dispatch(GET=list_streamers, POST=create_streamer, PUT=update_streamer)


def get_streamer(request: ApiRequest, pk: int) -> HttpResponse:
    streamer = get_object_or_404(Streamer.objects.with_upload_status(), pk=pk)
    return ok(_row(request, streamer))


def delete_streamer(request: ApiRequest, pk: int) -> HttpResponse:
    streamer = get_object_or_404(
        Streamer.objects.select_related("upload_template"), pk=pk
    )
    data = _fields(request, streamer)
    # Its live sessions and files stay: history outlives the streamer (SET_NULL).
    streamer.delete()
    return ok(data)


streamer = dispatch(GET=get_streamer, DELETE=delete_streamer)


@api("POST", "PUT")
def pause(request: ApiRequest, pk: int) -> HttpResponse:
    streamer = get_object_or_404(Streamer, pk=pk)
    workflow.toggle_pause(streamer)
    streamer = Streamer.objects.with_upload_status().get(pk=pk)
    return ok(_row(request, streamer))


@api("GET")
def streamer_info(request: ApiRequest) -> HttpResponse:
    sessions = StreamerInfo.objects.prefetch_related("files")
    return ok([session.to_dict() for session in sessions])


@api("GET")
def streamer_info_files(request: ApiRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(StreamerInfo, pk=pk)
    return ok([f.to_dict() for f in session.files.all()])


@api("GET")
def videos(request: ApiRequest) -> HttpResponse:
    root = Configuration.load().recordings_path()
    files = recordings.media_files(root)
    return ok(
        [
            {"key": i, "name": v.name, "updateTime": v.mtime, "size": v.size}
            for i, v in enumerate(files, 1)
        ]
    )
