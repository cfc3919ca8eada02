"""The upload workflow: from files and settings to a job, and a worker running it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from django.db import transaction

from recorder.models import Streamer, StreamerInfo
from uploads.models import UploadFile, UploadJob, UploadTemplate

logger = logging.getLogger(__name__)


def create_job(
    paths: Sequence[Path],
    settings: UploadTemplate,
    template: UploadTemplate | None = None,
    streamer: Streamer | None = None,
    streamer_info: StreamerInfo | None = None,
) -> UploadJob:
    """Queue the files as one archive with these (possibly unsaved) template settings."""
    params = {key: value for key, value in settings.to_dict().items() if key != "id"}
    with transaction.atomic():
        job = UploadJob.objects.create(
            template=template,
            account=settings.account,
            streamer=streamer,
            streamer_info=streamer_info,
            params=params,
            bytes_total=sum(p.stat().st_size for p in paths),
        )
        UploadFile.objects.bulk_create(
            UploadFile(job=job, position=i, path=str(p), size=p.stat().st_size)
            for i, p in enumerate(paths)
        )
        job.enqueue()
    return job


def preflight(job: UploadJob) -> str | None:
    """Why the job cannot start now, or None. Checked again by the worker: time has passed."""
    if job.account is None:
        return "The job's Bilibili account was deleted"
    for f in job.files.all():
        path = Path(f.path)
        if not path.is_file():
            return f"{f.path} is gone from the recordings folder"
        if path.stat().st_size != f.size:
            return f"{f.path} changed size since the job was queued"
    return None


def run(job: UploadJob) -> None:
    """Upload the job's files and submit the archive. The job has been claimed by this worker."""
    if reason := preflight(job):
        job.mark_failed(reason)
        return
    # The transfer itself (UPOS / Open Platform chunks, submit) is the upload pipeline's issue.
    job.mark_failed(
        "Uploading to Bilibili is not available in this version yet; the job is kept and can be retried"
    )
