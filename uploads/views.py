"""Pages: upload templates and the upload queue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from biliup_site.pages import render_page
from uploads import upload as workflow
from uploads.models import UploadJob


@require_GET
@login_required
def uploads(request: HttpRequest) -> HttpResponse:
    return render_page(request, "uploads/uploads.html", {})


def _job_row(request: HttpRequest, job: UploadJob) -> HttpResponse:
    job = (
        UploadJob.objects.select_related("streamer")
        .prefetch_related("files")
        .get(pk=job.pk)
    )
    return render(request, "uploads/uploads.html#job", {"job": job})


@require_POST
@login_required
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(UploadJob, pk=pk)
    try:
        job = workflow.retry(job)
    except ValueError:
        pass  # finished or re-queued meanwhile: the row shows what it is now
    return _job_row(request, job)


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(UploadJob, pk=pk)
    try:
        job = workflow.cancel(job)
    except ValueError:
        pass
    return _job_row(request, job)


@require_GET
@login_required
def templates(request: HttpRequest) -> HttpResponse:
    return render_page(request, "uploads/templates.html", {})
