"""Uploads asked for by hand: files picked from the recordings folder (POST /uploads and the
recordings page's "Upload selected"), as one archive with a template's settings.

Errors are ApiErrors naming the field ("files: …", "params.user_cookie: …"), the API's answer;
the page shows the same message next to its form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from biliup_site.api import ApiError
from biliup_site.forms import bind
from biliup_site.models import Configuration
from recorder import videos as recordings
from recorder.models import RecordingFile
from uploads import upload as workflow
from uploads.forms import UploadParamsForm, normalize
from uploads.models import UploadFile, UploadJob, UploadTemplate


def upload_settings(
    params: dict[str, Any],
) -> tuple[UploadTemplate, UploadTemplate | None]:
    """The archive settings for POST /uploads: a named template, overlaid with the params."""
    base = None
    if name := params.get("template_name"):
        if not isinstance(name, str):
            raise ApiError("params.template_name: Expected a string.")
        base = UploadTemplate.objects.filter(template_name=name).first()
        if base is None:
            raise ApiError(
                "params.template_name: "
                + _("No upload template named %(name)s.") % {"name": repr(name)}
            )
    try:
        form = bind(UploadParamsForm, normalize(params), instance=base)
    except ApiError as exc:
        raise ApiError(f"params.{exc.message}") from None
    settings = form.save(commit=False)
    if settings.account is None and settings.account_name:
        raise ApiError(
            "params.user_cookie: "
            + _("No Bilibili account named %(name)s yet: add it under Accounts first.")
            % {"name": repr(settings.account_name)}
        )
    if settings.account is None:
        raise ApiError(
            "params.user_cookie: " + _("Choose the Bilibili account to upload with.")
        )
    template = UploadTemplate.objects.get(pk=base.pk) if base is not None else None
    return settings, template


def upload_files(
    files: Any,
    params: Any,
    recording_files: Sequence[RecordingFile] = (),
) -> UploadJob:
    """Queue `files` (names from /videos, or absolute paths inside the recordings folder) as
    one job with `params` (a template's fields, maybe `template_name`). When the files are a
    session's segments, `recording_files` (in the same order) links each to its segment."""
    if not (
        isinstance(files, list) and files and all(isinstance(f, str) for f in files)
    ):
        raise ApiError("files: Expected a non-empty list of file names from /videos.")
    if not isinstance(params, dict):
        raise ApiError("params: Expected an object of upload settings.")
    root = Configuration.load().recordings_path()
    try:
        paths = [recordings.resolve(root, name) for name in files]
    except recordings.PathRefused as exc:
        raise ApiError(f"files: {exc}") from None
    if len(set(paths)) != len(paths):
        raise ApiError("files: " + _("The same file is listed twice."))
    settings, template = upload_settings(params)
    with transaction.atomic():
        job = workflow.create_job(paths, settings, template=template)
        for position, segment in enumerate(recording_files):
            UploadFile.objects.filter(job=job, position=position).update(
                recording_file=segment
            )
    return job
