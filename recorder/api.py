from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from biliup_site.api import ApiError, api, dispatch, form_error, ok
from biliup_site.forms import bind
from biliup_site.http import ApiRequest
from biliup_site.models import Configuration
from recorder import streamers as workflow
from recorder import videos as recordings
from recorder.forms import StreamerForm
from recorder.models import Streamer, StreamerInfo


def _saved(streamer: Streamer | None, form: StreamerForm) -> Streamer:
    if streamer is None:
        raise form_error(form)
    return streamer


def list_streamers(request: ApiRequest) -> HttpResponse:
    return ok([streamer.to_row() for streamer in Streamer.objects.with_upload_status()])


def create_streamer(request: ApiRequest) -> HttpResponse:
    form = bind(StreamerForm, request.json)
    streamer = _saved(workflow.create(form), form)
    return ok(streamer.to_dict())


def update_streamer(request: ApiRequest) -> HttpResponse:
    pk = request.json.get("id")
    if type(pk) is not int:
        raise ApiError("id: Expected the id of the streamer to update.")
    streamer = get_object_or_404(Streamer, pk=pk)
    form = bind(StreamerForm, request.json, instance=streamer)
    streamer = _saved(workflow.save(form), form)
    return ok(streamer.to_dict())


streamers = dispatch(GET=list_streamers, POST=create_streamer, PUT=update_streamer)


def get_streamer(request: ApiRequest, pk: int) -> HttpResponse:
    streamer = get_object_or_404(Streamer.objects.with_upload_status(), pk=pk)
    return ok(streamer.to_row())


def delete_streamer(request: ApiRequest, pk: int) -> HttpResponse:
    streamer = get_object_or_404(
        Streamer.objects.select_related("upload_template"), pk=pk
    )
    data = streamer.to_dict()
    # Its live sessions and files stay: history outlives the streamer (SET_NULL).
    streamer.delete()
    return ok(data)


streamer = dispatch(GET=get_streamer, DELETE=delete_streamer)


@api("POST", "PUT")
def pause(request: ApiRequest, pk: int) -> HttpResponse:
    streamer = get_object_or_404(Streamer, pk=pk)
    workflow.toggle_pause(streamer)
    streamer = Streamer.objects.with_upload_status().get(pk=pk)
    return ok(streamer.to_row())


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
