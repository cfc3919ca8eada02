"""A job over the Open Platform: each file sent under its own upload_token, then one archive per
file ("… P2" for the second and after): the job side of biliup_site.bilibili.openplatform.

The token is stored on the UploadFile, so a retried job sends only the parts not on record;
a token the platform no longer accepts (127022) sends the file again. Credentials are the site
configuration's openplatform_* fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from biliup_site.bilibili import chunks, openplatform
from biliup_site.bilibili.openplatform import OpenPlatformError, Unavailable
from biliup_site.models import Configuration
from uploads.errors import JobFailed
from uploads.job_run import JobRun
from uploads.models import UploadFile, UploadJob

logger = logging.getLogger(__name__)

SUBMIT_ATTEMPTS = 6
CALL_ATTEMPTS = 5  # init, complete and cover, on a network error, 5xx or "busy"

T = TypeVar("T")


def check_configured(config: Configuration) -> str | None:
    if not (config.openplatform_client_id and config.openplatform_access_token):
        return "The Open Platform uploader needs openplatform_client_id and openplatform_access_token in the configuration"
    if config.openplatform_auth != "legacy" and not config.openplatform_app_secret:
        return "Signature 2.0 needs openplatform_app_secret in the configuration"
    return None


def _app(config: Configuration) -> openplatform.App:
    return openplatform.App(
        client_id=config.openplatform_client_id,
        app_secret=config.openplatform_app_secret,
        access_token=config.openplatform_access_token,
        auth=config.openplatform_auth,
    )


def _failed(exc: Exception) -> Exception:
    if isinstance(exc, OpenPlatformError) and exc.code in openplatform.CREDENTIAL_CODES:
        return JobFailed(f"{exc}: fix the Open Platform settings, then retry this job")
    if isinstance(exc, OpenPlatformError) and exc.code == 127207:
        return JobFailed(f"{exc}: choose another category in the template, then retry")
    return JobFailed(f"{exc}; the job can be retried")


def _retrying(run: JobRun, what: str, call: Callable[[], T]) -> T:
    """call(), again after a backoff on a network error, a 5xx or 127201 (busy): one bad
    answer at complete must not fail an upload of hours. Init may leave an unused token."""
    for attempt in range(1, CALL_ATTEMPTS + 1):
        try:
            return call()
        except OpenPlatformError as exc:
            if not exc.retry or attempt == CALL_ATTEMPTS:
                raise
            reason = str(exc)
        except Unavailable as exc:
            if attempt == CALL_ATTEMPTS:
                raise
            reason = str(exc)
        run.back_off(attempt, settings.UPLOAD_RETRY_SECONDS, f"{what}: {reason}")
    raise AssertionError("unreachable")


def _forget_upload(file: UploadFile) -> None:
    """The file's upload_token is dead: send the file again under a new one."""
    file.chunks.all().delete()
    file.upload_id = file.remote_filename = ""
    file.status, file.bytes_done = UploadFile.Status.PENDING, 0
    file.save(update_fields=("upload_id", "remote_filename", "status", "bytes_done"))


def upload_file(run: JobRun, file: UploadFile) -> None:
    """Send one file: init (once; the token is stored), parts not yet acknowledged, complete."""
    config = run.config
    if reason := check_configured(config):
        raise JobFailed(reason)
    app = _app(config)
    path = Path(file.path)
    for restart in range(3):
        try:
            if not file.upload_id:
                file.chunks.all().delete()
                file.upload_id = _retrying(
                    run,
                    "Starting the upload",
                    partial(openplatform.init, app, path.name),
                )
                if not file.upload_id:
                    raise Unavailable("the Open Platform's answer had no upload_token")
                file.chunk_size = openplatform.PART_SIZE
                file.chunks_total = len(chunks.split(file.size, openplatform.PART_SIZE))
                file.line, file.preuploaded, file.bytes_done = (
                    "openplatform",
                    timezone.now(),
                    0,
                )
                file.save()
            _send(run, file, path)
            _retrying(
                run,
                "Completing the upload",
                partial(openplatform.complete, app, file.upload_id),
            )
            file.remote_filename = file.upload_id
            return
        except OpenPlatformError as exc:
            if exc.code == 127022 and restart < 2:
                file.upload_id = ""  # the token died: start the file again
                continue
            raise _failed(exc) from None
        except Unavailable as exc:
            raise _failed(exc) from None


def _send(run: JobRun, file: UploadFile, path: Path) -> None:
    run.job.line = "openplatform"
    run.send_file(
        file,
        openplatform.part_sender(file.upload_id, path),
        chunks.Endpoints([settings.BILIBILI_OPENUPOS_URL]),
    )


def _cover(run: JobRun, app: openplatform.App) -> str:
    cover = run.cover_source()
    if cover is None:
        return ""
    if isinstance(cover, str):
        return cover
    try:
        return _retrying(
            run, "Uploading the cover", partial(openplatform.upload_cover, app, cover)
        )
    except (OpenPlatformError, Unavailable) as exc:
        raise _failed(exc) from None


def submit_job(run: JobRun) -> None:
    """One archive per file not yet submitted; each intent stored before its call, and an
    unclear earlier call looked up (by title, in the newest archives) before calling again.

    A file whose upload_token is refused (127022: expired, or issued to another app or user)
    is set to be sent again; the runner's loop does that at once if the token came from an
    earlier run, else the job fails and a retry sends it."""
    job = run.job
    app = _app(run.config)
    files = list(job.files.filter(submitted=False).order_by("position"))
    if not files:
        return
    many = job.files.count() > 1
    base_title = run.title()
    if "archive_title" not in job.params:
        job.params = {**job.params, "archive_title": base_title}
        job.save(update_fields=("params", "updated"))
    cover = _cover(run, app)
    job.beat(status=UploadJob.Status.SUBMITTING, error="")
    for file in files:
        # rstrip: a cut title may end in a space, and Bilibili strips titles (the lookup
        # compares them).
        title = (
            f"{base_title[:74].rstrip()} P{file.position + 1}" if many else base_title
        )
        body = openplatform.archive_body(run.params, title, cover)
        bvid = None
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                if job.submit_started is not None:
                    bvid = openplatform.find_archive(
                        app, title, job.submit_started.timestamp()
                    )
                    if bvid:
                        break
                job.beat(submit_started=timezone.now())
                try:
                    bvid = openplatform.add_by_utoken(app, file.upload_id, body)
                except OpenPlatformError:
                    # Refused: known not to exist. (Not on a failed lookup: the earlier
                    # call's archive may still be there.)
                    job.beat(submit_started=None)
                    raise
                break
            except OpenPlatformError as exc:
                if exc.code == 127022:
                    fresh = job.started is not None and (
                        file.preuploaded is None or file.preuploaded >= job.started
                    )
                    _forget_upload(file)
                    if not fresh:
                        job.beat(status=UploadJob.Status.RUNNING)
                        logger.info(
                            "Upload job %s: upload_token of %s refused; sending it again",
                            job.pk,
                            file.path,
                        )
                        return
                    raise JobFailed(
                        f"{exc}; retry the job to send {Path(file.path).name} again"
                    ) from None
                if not exc.retry or attempt == SUBMIT_ATTEMPTS:
                    raise _failed(exc) from None
                run.back_off(attempt, settings.SUBMIT_RETRY_SECONDS, str(exc))
            except Unavailable as exc:
                if attempt == SUBMIT_ATTEMPTS:
                    raise _failed(exc) from None
                run.back_off(
                    attempt, settings.UPLOAD_RETRY_SECONDS, f"{exc}; checking first"
                )
        if not bvid:
            raise JobFailed("The Open Platform's answer had no resource_id")
        file.submitted = True
        file.save(update_fields=("submitted",))
        fields: dict[str, Any] = {"submit_started": None}
        if not job.bvid:
            fields["bvid"] = bvid
        job.beat(**fields)
