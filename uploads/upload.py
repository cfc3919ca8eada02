"""The upload workflow: from files and settings to a job, and a worker running it to an archive
(the run itself is runner.py's).

A job is a list of files and the archive they become. Every step is stored as it happens, so a
worker killed at any moment leaves a job the next worker resumes: a file's UPOS session and each
acknowledged chunk (UploadFile, UploadChunk), the intent to submit before the submit call and
its result after (UploadJob.submit_started, aid, bvid). A live session's job takes each segment
as the recorder closes it, waits for the session's end, submits every part as one archive and
appends parts that come later with an edit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site.bilibili import BilibiliError, chunks
from biliup_site.models import Configuration
from creators import catalogs
from recorder.models import RecordingFile, Streamer, StreamerInfo
from uploads import notices, openplatform_upload, review
from uploads.errors import JobFailed, JobPaused
from uploads.models import UploadFile, UploadJob, UploadTemplate
from uploads.runner import Runner, missing_tags

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


def add_segment(file: RecordingFile) -> UploadJob | None:
    """A live session closed a segment: add it to the session's job (made on the first one)
    when the streamer has a template that uploads, and make sure a worker will send it."""
    session = file.streamer_info
    streamer = session.streamer
    template = streamer.upload_template if streamer is not None else None
    if template is None or template.uploader == UploadTemplate.Uploader.NOOP:
        return None
    path = Path(file.path)
    with transaction.atomic():
        job = (
            UploadJob.objects.select_for_update()
            .filter(streamer_info=session)
            .exclude(status=UploadJob.Status.CANCELLED)
            .order_by("-id")
            .first()
        )
        if job is None:
            params = {k: v for k, v in template.to_dict().items() if k != "id"}
            job = UploadJob.objects.create(
                template=template,
                account=template.account,
                streamer=streamer,
                streamer_info=session,
                params=params,
            )
        if job.files.filter(recording_file=file).exists():
            return job
        position = job.files.count()
        UploadFile.objects.create(
            job=job,
            position=position,
            path=str(path),
            size=file.size,
            recording_file=file,
        )
        job.bytes_total += file.size
        fields = ["bytes_total", "updated"]
        if job.status not in (UploadJob.Status.RUNNING, UploadJob.Status.SUBMITTING):
            job.status, job.error, job.finished = UploadJob.Status.QUEUED, "", None
            fields += ["status", "error", "finished"]
        job.save(update_fields=fields)
        job.enqueue()
    job.publish()
    return job


def session_ended(session: StreamerInfo) -> None:
    """The live session is over: its waiting job can submit now."""
    with transaction.atomic():
        jobs = UploadJob.objects.select_for_update().filter(
            streamer_info=session, status=UploadJob.Status.WAITING
        )
        for job in jobs:
            job.status = UploadJob.Status.QUEUED
            job.save(update_fields=("status", "updated"))
            job.enqueue()


def retry(job: UploadJob) -> UploadJob:
    """Queue a failed or cancelled job again; what it had sent is kept and resumed."""
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job.pk)
        if not job.can_retry:
            raise ValueError(
                f"Only a failed or cancelled job can be retried, not a {job.status} one."
            )
        job.status, job.error, job.finished = UploadJob.Status.QUEUED, "", None
        job.error_code, job.error_said = None, ""
        if job.template is not None:
            # The template as it is now: fixing it (tags, account, schedule) is how a failed
            # job is mended. What the job did with the old values is kept.
            job.params = refreshed_params(job, job.template)
            job.account = job.template.account
        job.save(
            update_fields=(
                "status",
                "error",
                "error_code",
                "error_said",
                "finished",
                "account",
                "params",
                "updated",
            )
        )
        job.files.filter(status=UploadFile.Status.FAILED).update(
            status=UploadFile.Status.PENDING, error=""
        )
        job.enqueue()
    job.publish()
    return job


# What a run wrote into a job's params, kept across a retry's refresh from the template.
RUN_PARAMS = ("cover_url", "archive_title", "submit_api_used", "submit_refusals")


def refreshed_params(job: UploadJob, template: UploadTemplate) -> dict[str, Any]:
    """The job's settings from its template's current values. Once the archive exists its
    title and cover stay as submitted; before that they follow the template too."""
    params: dict[str, Any] = {k: v for k, v in template.to_dict().items() if k != "id"}
    kept = RUN_PARAMS if job.aid is not None else ("submit_refusals",)
    params.update({k: job.params[k] for k in kept if k in job.params})
    return params


def cancel(job: UploadJob) -> UploadJob:
    """Stop a job: a running worker notices within a second and leaves its files as they are."""
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job.pk)
        if not job.can_cancel:
            raise ValueError(f"The job is {job.status} already.")
        job.status, job.finished = UploadJob.Status.CANCELLED, timezone.now()
        job.error = "Cancelled"
        job.save(update_fields=("status", "finished", "error", "updated"))
    job.publish()
    return job


def sweep() -> int:
    """Hand waiting work to workers: queued jobs, jobs whose worker died, paused jobs whose
    time has come, and jobs waiting on a session that ended. Called every watch round; claim()
    keeps it harmless to repeat. The queue is per account: free slots go round the accounts in
    turn (oldest job first within each), and a paused account's jobs are passed over."""
    now = timezone.now()
    ended = UploadJob.objects.filter(
        status=UploadJob.Status.WAITING, streamer_info__end_time__isnull=False
    )
    for job in ended:
        session_ended(job.streamer_info)
    UploadJob.objects.filter(
        status=UploadJob.Status.PAUSED, not_before__lte=now
    ).update(status=UploadJob.Status.QUEUED, not_before=None, updated=now)
    config = Configuration.load()
    running = [job for job in UploadJob.objects.running() if job.is_running(now)]
    free = config.upload_limit - len(running)
    if free <= 0:
        return 0
    candidates = [
        job
        for job in UploadJob.objects.filter(
            status__in=(
                UploadJob.Status.QUEUED,
                UploadJob.Status.RUNNING,
                UploadJob.Status.SUBMITTING,
            )
        )
        .select_related("account")
        .defer("account__credential")
        .order_by("id")
        if not job.is_running(now)
    ]
    handed = 0
    for job in _round_robin(candidates):
        if handed >= free:
            break
        # A queued job whose task is in the broker right now may get a second task: the
        # second claim finds it running and does nothing. A paused account's job is paused
        # by its claim, without taking a slot.
        job.enqueue()
        handed += 0 if job.account and job.account.paused_until else 1
    # Archives in review: a few polls per round, each job on its own throttle.
    review.poll_due(now)
    return handed


def _round_robin(jobs: Sequence[UploadJob]) -> list[UploadJob]:
    """The jobs in turns across their accounts: each account's oldest, then each one's
    second, ...; so one account's long queue does not hold back another's upload."""
    queues: dict[int | None, list[UploadJob]] = {}
    for job in jobs:
        queues.setdefault(job.account_id, []).append(job)
    order: list[UploadJob] = []
    while queues:
        for key in list(queues):
            order.append(queues[key].pop(0))
            if not queues[key]:
                del queues[key]
    return order


def preflight(job: UploadJob) -> str | None:
    """Why the job cannot start now, or None. Checked again by the worker: time has passed."""
    config = Configuration.load()
    uploader = job.params.get("uploader") or config.uploader
    if not job.params.get("tags"):
        return missing_tags(job)
    named = job.params.get("user_cookie")
    if uploader == UploadTemplate.Uploader.OPENPLATFORM:
        if reason := openplatform_upload.check_configured(config):
            return reason
    elif job.account is None and named:
        return (
            f"No Bilibili account named {named} yet: log it in under Accounts, or put"
            f" {named} in the data folder, then retry"
        )
    elif job.account is None:
        return (
            "No Bilibili account to upload with (none chosen, or it was deleted):"
            " choose one in the template's user_cookie, then retry"
        )
    elif not job.account.credential:
        return (
            f"The Bilibili account {job.account.value} has no login: log in, then retry"
        )
    elif job.account.status == BilibiliAccount.Status.EXPIRED:
        return (
            f"The Bilibili account {job.account.value} is logged out"
            f" ({job.account.status_reason or 'expired'}): log in again, then retry"
        )
    for f in job.files.exclude(status=UploadFile.Status.UPLOADED):
        path = Path(f.path)
        if not path.is_file():
            return f"{f.path} is gone from the recordings folder"
        if path.stat().st_size != f.size:
            return f"{f.path} changed size since the job was queued"
    return None


def run(job: UploadJob) -> None:
    """Upload the job's files and submit the archive. The job has been claimed by this worker."""
    if reason := preflight(job):
        _fail(job, reason)
        return
    try:
        Runner(job).run()
    except chunks.Cancelled:
        logger.info("Upload job %s stopped: cancelled", job.pk)
    except JobPaused as exc:
        logger.info("Upload job %s paused until %s: %s", job.pk, exc.until, exc)
        job.pause(exc.until, exc.message, exc.refusal)
    except JobFailed as exc:
        logger.warning("Upload job %s failed: %s", job.pk, exc)
        _fail(job, str(exc), exc.refusal)
    except Exception as exc:
        logger.exception("Upload job %s failed", job.pk)
        _fail(
            job,
            f"Unexpected error ({type(exc).__name__}: {exc}); the job can be retried",
        )
    else:
        _watch_catalog(job)


def _fail(job: UploadJob, message: str, refusal: BilibiliError | None = None) -> None:
    """The job fails for good (a person retries it, nothing else does): they hear of it."""
    job.mark_failed(message, refusal)
    if job.status == UploadJob.Status.FAILED:  # not if it was cancelled meanwhile
        notices.upload_failed(job)


def _watch_catalog(job: UploadJob) -> None:
    """Refresh the account's catalog until the archive shows up in it (creator catalogs)."""
    if job.status != UploadJob.Status.DONE:
        return
    try:
        catalogs.expect(job)
    except Exception:
        # The archive is submitted: failing to watch for it must not fail the upload.
        logger.exception("Could not watch for upload job %s in its catalog", job.pk)
