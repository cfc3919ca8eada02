from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from biliup_site.api import ApiError, api, dispatch, ok
from biliup_site.forms import bind
from biliup_site.http import ApiRequest
from biliup_site.models import Configuration
from recorder import videos as recordings
from recorder.forms import StreamerForm
from recorder.models import Streamer, StreamerInfo


def _save(form: StreamerForm) -> Streamer:
    # The form checked uniqueness, but a concurrent request may have won since: no 500 for that.
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        raise ApiError("url: A streamer with this URL exists already.") from None


def list_streamers(request: ApiRequest) -> HttpResponse:
    return ok([streamer.to_row() for streamer in Streamer.objects.with_upload_status()])


def create_streamer(request: ApiRequest) -> HttpResponse:
    streamer = _save(bind(StreamerForm, request.json))
    transaction.on_commit(streamer.enqueue_check)
    return ok(streamer.to_dict())


def update_streamer(request: ApiRequest) -> HttpResponse:
    pk = request.json.get("id")
    if type(pk) is not int:
        raise ApiError("id: Expected the id of the streamer to update.")
    streamer = get_object_or_404(Streamer, pk=pk)
    streamer = _save(bind(StreamerForm, request.json, instance=streamer))
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
    streamer.toggle_pause()
    if not streamer.paused:
        transaction.on_commit(streamer.enqueue_check)
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
