"""Pages: streamers and recordings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from biliup_site import attention
from biliup_site.api import ApiError
from biliup_site.http import HtmxHttpRequest
from biliup_site.models import Configuration
from biliup_site.pages import render_page
from recorder import sessions as recorded
from recorder import streamers as workflow
from recorder import videos
from recorder.forms import StreamerForm
from recorder.models import RecordingFile, Streamer
from uploads import manual
from uploads.models import UploadTemplate

SESSIONS_PER_PAGE = 20


class JsonInput(forms.TextInput):
    """A JSON value on one line; empty rather than null, [] or {}."""

    def format_value(self, value: Any) -> str | None:
        if value in (None, "null", "[]", "{}"):
            return None
        return super().format_value(value)


class StreamerPageForm(StreamerForm):
    """The API's StreamerForm, labelled for people, with the template picked from a list."""

    LABELS = {
        "url": (gettext_lazy("Live room URL"), ""),
        "remark": (gettext_lazy("Name"), gettext_lazy("Shown instead of the URL.")),
        "template_name": (
            gettext_lazy("Upload template"),
            gettext_lazy("Recordings are uploaded with it as they are made."),
        ),
        "split_time": (
            gettext_lazy("Split every (seconds)"),
            gettext_lazy("0: no split by time."),
        ),
        "split_size": (
            gettext_lazy("Split at size (MB)"),
            gettext_lazy("0: no split by size."),
        ),
        "filename_prefix": (
            gettext_lazy("File name"),
            format_lazy(
                "{} {}",
                gettext_lazy("{streamer}, {title}, {url} and strftime fields; empty:"),
                "{streamer}%Y-%m-%dT%H_%M_%S",
            ),
        ),
        "format": (
            gettext_lazy("Stream format"),
            gettext_lazy("flv, ts or mp4; empty: the best the room offers."),
        ),
        "time_range": (
            gettext_lazy("Time range"),
            gettext_lazy(
                'Record only between two times, e.g. ["20:00:00", "23:59:59"].'
            ),
        ),
        "excluded_keywords": (
            gettext_lazy("Excluded keywords"),
            gettext_lazy('Skip a live whose title has one of them, e.g. ["回放"].'),
        ),
        "override": (
            gettext_lazy("Platform options"),
            gettext_lazy('JSON, e.g. {"bili_qn": 10000}.'),
        ),
        "record_danmaku": (
            gettext_lazy("Record the live chat"),
            gettext_lazy(
                "Bilibili rooms: danmaku, super chats, gifts and guard purchases in an XML "
                "file beside each segment."
            ),
        ),
        "danmaku_ass": (
            gettext_lazy("Make ASS subtitles of the chat"),
            gettext_lazy("An .ass file from each segment's chat, for players."),
        ),
    }
    MAIN = (
        "url",
        "remark",
        "template_name",
        "split_time",
        "split_size",
        "filename_prefix",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = UploadTemplate.objects.values_list("template_name", flat=True)
        self.fields["template_name"].widget = forms.Select(
            choices=[("", _("None: record only")), *((n, n) for n in names)]
        )
        self.fields["url"].widget.attrs["placeholder"] = (
            "https://live.bilibili.com/123456"
        )
        for name, (label, help_text) in self.LABELS.items():
            self.fields[name].label = label
            self.fields[name].help_text = help_text
        for name in ("time_range", "excluded_keywords", "override"):
            self.fields[name].widget = JsonInput()

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.MAIN]

    def more_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.MAIN]

    def more_has_errors(self) -> bool:
        return any(field.errors for field in self.more_fields())


def _add_form(data: Any = None) -> StreamerPageForm:
    return StreamerPageForm(data, auto_id="add_%s")


def _edit_form(streamer: Streamer, data: Any = None) -> StreamerPageForm:
    return StreamerPageForm(data, instance=streamer, auto_id=f"edit{streamer.pk}_%s")


def _get_streamer(pk: int) -> Streamer:
    return get_object_or_404(
        Streamer.objects.with_upload_status().select_related("upload_template"), pk=pk
    )


def _streamers_page(
    request: HtmxHttpRequest,
    add_form: StreamerPageForm | None = None,
    editing: StreamerPageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    streamers = Streamer.objects.with_upload_status().select_related("upload_template")
    # ?attention=1: only the rooms the attention strip counts (failed or stalled).
    failing_only = request.GET.get("attention") == "1"
    if failing_only:
        streamers = attention.failing_streamers(streamers)
    context = {
        "streamers": streamers,
        "failing_only": failing_only,
        "add_form": add_form or _add_form(),
        "edit_form": editing,
        "editing": editing.instance.pk if editing else None,
        "config": Configuration.load(),
    }
    return render_page(request, "recorder/streamers.html", context, status=status)


def _row(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return render(
        request, "recorder/streamers.html#row", {"streamer": _get_streamer(pk)}
    )


@require_GET
@login_required
def streamers(request: HtmxHttpRequest) -> HttpResponse:
    return _streamers_page(request)


@require_POST
@login_required
def add_streamer(request: HtmxHttpRequest) -> HttpResponse:
    form = _add_form(request.POST)
    streamer = workflow.create(form) if form.is_valid() else None
    if streamer is None:
        if request.htmx:
            return render(
                request, "recorder/streamers.html#add-form", {"add_form": form}
            )
        return _streamers_page(request, add_form=form, status=400)
    if not request.htmx:
        messages.success(request, _("Added %(name)s.") % {"name": streamer})
        return redirect("streamers")
    context = {"add_form": _add_form(), "streamer": _get_streamer(streamer.pk)}
    return render(request, "recorder/streamers.html#added", context)


@require_GET
@login_required
def streamer_row(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One row as it shows when not edited (the edit form's Cancel)."""
    if not request.htmx:
        return redirect(reverse("streamers") + f"#streamer-{pk}")
    return _row(request, pk)


@require_http_methods(["GET", "POST"])
@login_required
def edit_streamer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    streamer = _get_streamer(pk)
    form = _edit_form(streamer, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and workflow.save(form):
        if not request.htmx:
            return redirect(reverse("streamers") + f"#streamer-{pk}")
        return _row(request, pk)
    if request.htmx:
        return render(request, "recorder/streamers.html#edit-row", {"edit_form": form})
    return _streamers_page(request, editing=form, status=400 if form.is_bound else 200)


@require_POST
@login_required
def pause_streamer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    workflow.toggle_pause(get_object_or_404(Streamer, pk=pk))
    if not request.htmx:
        return redirect(reverse("streamers") + f"#streamer-{pk}")
    return _row(request, pk)


@require_POST
@login_required
def delete_streamer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    streamer = get_object_or_404(Streamer, pk=pk)
    name = str(streamer)
    # Its live sessions and files stay: history outlives the streamer (SET_NULL).
    streamer.delete()
    if request.htmx:
        return HttpResponse("")
    messages.success(
        request,
        _("Deleted %(name)s; its recordings are kept.") % {"name": name},
    )
    return redirect("streamers")


class UploadSelectedForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=UploadTemplate.objects.all(),
        label=gettext_lazy("Upload template"),
        empty_label=gettext_lazy("Choose a template"),
        error_messages={
            "required": gettext_lazy("Choose the upload template to upload with."),
            "invalid_choice": gettext_lazy("That upload template no longer exists."),
        },
    )
    files = forms.ModelMultipleChoiceField(
        queryset=RecordingFile.objects.all(),
        required=True,
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": gettext_lazy("Tick the segments to upload first."),
            "invalid_choice": gettext_lazy("A ticked segment no longer exists."),
        },
    )


def _sessions_page(number: Any) -> Page:
    page = Paginator(recorded.recorded(), SESSIONS_PER_PAGE).get_page(number)
    recorded.describe(page.object_list)
    return page


def _recordings_page(
    request: HtmxHttpRequest,
    upload_form: UploadSelectedForm | None = None,
    missing: str = "",
    status: int = 200,
) -> HttpResponse:
    number = request.POST.get("page") or request.GET.get("page")
    # After a refused upload the ticked segments stay ticked.
    selected = (
        set(upload_form.data.getlist("files")) if upload_form is not None else set()
    )
    context = {
        "page": _sessions_page(number),
        "upload_form": upload_form or UploadSelectedForm(),
        "selected": selected,
        "missing": missing,
    }
    return render_page(
        request, "recorder/recordings.html", context, parts=("sessions",), status=status
    )


@require_GET
@login_required
def recordings(request: HtmxHttpRequest) -> HttpResponse:
    return _recordings_page(request)


@require_GET
@login_required
def download(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(RecordingFile, pk=pk)
    try:
        # The same rule as POST /uploads: a media file inside the recordings folder, links
        # resolved; anything else is not served.
        path = videos.resolve(Configuration.load().recordings_path(), segment.path)
    except videos.PathRefused:
        return _recordings_page(request, missing=segment.path, status=404)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@require_GET
@login_required
def download_danmaku(request: HtmxHttpRequest, pk: int, kind: str) -> HttpResponse:
    """A segment's chat: its danmaku XML (kind "xml") or the ASS made from it ("ass")."""
    segment = get_object_or_404(RecordingFile, pk=pk)
    names = {"xml": segment.danmaku_path, "ass": segment.danmaku_ass_path}
    name = names.get(kind)
    if not name:
        raise Http404("No such chat file")
    try:
        path = videos.resolve(
            Configuration.load().recordings_path(), name, (f".{kind}",)
        )
    except videos.PathRefused:
        return _recordings_page(request, missing=name, status=404)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


def _refused(form: UploadSelectedForm, exc: ApiError) -> None:
    """The upload workflow's "field: message" error, next to the field it is about."""
    field, _sep, message = exc.message.partition(": ")
    form.add_error("files" if field == "files" else "template", message or field)


@require_POST
@login_required
def upload(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadSelectedForm(request.POST)
    if form.is_valid():
        template: UploadTemplate = form.cleaned_data["template"]
        segments = list(
            form.cleaned_data["files"].order_by("streamer_info__start_time", "id")
        )
        try:
            manual.upload_files(
                [segment.path for segment in segments],
                {"template_name": template.template_name},
                recording_files=segments,
            )
        except ApiError as exc:
            _refused(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "Queued %(count)d file for upload with %(template)s.",
                    "Queued %(count)d files for upload with %(template)s.",
                    len(segments),
                )
                % {"count": len(segments), "template": template},
            )
            return redirect("uploads")
    return _recordings_page(request, upload_form=form, status=400)
