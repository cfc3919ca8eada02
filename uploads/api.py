from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from biliup_site.api import ApiError, api, biliup_surface, dispatch, ok
from biliup_site.forms import bind
from biliup_site.http import ApiRequest
from uploads import manual
from uploads import upload as workflow
from uploads.forms import UploadTemplateForm, normalize
from uploads.models import UploadJob, UploadTemplate


def _template(request: ApiRequest, template: UploadTemplate) -> dict[str, Any]:
    """On biliup's routes `extra_fields` is JSON text or null, as biliup keeps it: its UI binds
    it to a text area. /api/v1 keeps the object (the document does not name the field)."""
    data: dict[str, Any] = dict(template.to_dict())
    if biliup_surface(request):
        extra = data["extra_fields"]
        data["extra_fields"] = json.dumps(extra, ensure_ascii=False) if extra else None
    return data


def list_templates(request: ApiRequest) -> HttpResponse:
    return ok(
        [
            _template(request, t)
            for t in UploadTemplate.objects.select_related("account").defer(
                "account__credential"
            )
        ]
    )


def save_template(request: ApiRequest) -> HttpResponse:
    """biliup's one write: `id` null creates, `id` set updates."""
    pk = request.json.get("id")
    if pk is not None and type(pk) is not int:
        raise ApiError(
            "id: Expected null (create) or the id of the template to update."
        )
    instance = get_object_or_404(UploadTemplate, pk=pk) if pk is not None else None
    form = bind(UploadTemplateForm, normalize(request.json), instance=instance)
    return ok(_template(request, form.save()))


templates = dispatch(GET=list_templates, POST=save_template)


def get_template(request: ApiRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(
        UploadTemplate.objects.select_related("account").defer("account__credential"),
        pk=pk,
    )
    return ok(_template(request, template))


def delete_template(request: ApiRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(
        UploadTemplate.objects.select_related("account").defer("account__credential"),
        pk=pk,
    )
    data = _template(request, template)
    # Streamers using it keep recording, with no template (SET_NULL), unlike biliup's cascade.
    template.delete()
    return ok(data)


template = dispatch(GET=get_template, DELETE=delete_template)


@api("POST")
def uploads(request: ApiRequest) -> HttpResponse:
    manual.upload_files(request.json.get("files"), request.json.get("params", {}))
    return ok({})


@api("GET")
def upload_jobs(request: ApiRequest) -> HttpResponse:
    jobs = UploadJob.objects.prefetch_related("files")
    status = request.GET.get("status")
    if status:
        if status not in UploadJob.Status.values:
            raise ApiError(
                f"status: Expected one of {', '.join(UploadJob.Status.values)}."
            )
        jobs = jobs.filter(status=status)
    return ok([job.to_dict() for job in jobs[:200]])


@api("GET")
def upload_job(request: ApiRequest, pk: int) -> HttpResponse:
    return ok(get_object_or_404(UploadJob, pk=pk).to_dict())


@api("POST")
def retry_job(request: ApiRequest, pk: int) -> HttpResponse:
    try:
        job = workflow.retry(get_object_or_404(UploadJob, pk=pk))
    except ValueError as exc:
        raise ApiError(str(exc), 409) from None
    return ok(job.to_dict())


@api("POST")
def cancel_job(request: ApiRequest, pk: int) -> HttpResponse:
    try:
        job = workflow.cancel(get_object_or_404(UploadJob, pk=pk))
    except ValueError as exc:
        raise ApiError(str(exc), 409) from None
    return ok(job.to_dict())
