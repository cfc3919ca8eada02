"""After submit: watch the archive's review until it is public or rejected.

A submitted archive is under review (§4.4: state -30) before it is open (0); it may be rejected
(-2) with a reason. The runner marks a job "reviewing" when its archive is accepted
(submitted()); poll_due(), called from every upload sweep, asks Bilibili about the jobs whose
turn it is, throttled per job: first REVIEW_POLL_SECONDS after the submit, then every tenth of
the job's age, at most every REVIEW_POLL_MAX_SECONDS, for REVIEW_WATCH_DAYS.

"Delete the files after upload" waits for "public" here (biliup#866: files deleted before a
rejection lost the recording); a rejection keeps them. Once the archive has its cid, a job
whose template names a collection joins it (collections.py), retried on later polls.

Reference: bilibili-protocol.md §4.4 (view, list: state, state_desc, reject_reason);
bilibili-2026.md "Review".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, submit
from biliup_site.models import Configuration
from creators import catalogs
from recorder.models import RecordingFile
from uploads import collections, notices
from uploads.models import UploadJob

logger = logging.getLogger(__name__)

REVIEWING = "reviewing"
PUBLIC = "public"
REJECTED = "rejected"
# Jobs polled per sweep: the sweep runs in the recorder's watch loop, which must not stall.
POLLS_PER_SWEEP = 3


def _credential(job: UploadJob) -> dict[str, Any] | None:
    """The job's account login if it can ask the creator centre (cookies), else None."""
    credential = job.account.credential if job.account is not None else None
    if not credential or not (credential.get("cookie_info") or {}).get("cookies"):
        return None
    return credential


def submitted(job: UploadJob) -> None:
    """The archive was accepted (submitted, or parts appended): watch its review from now on.

    A job whose account cannot ask (an Open Platform upload without a cookie login) is not
    watched, and its files are deleted at once if asked, as before review existed."""
    if _credential(job) is None:
        delete_files(job)
        return
    # An edit sends an archive back to review on Bilibili.
    job.review_state, job.review_reason = REVIEWING, ""
    job.review_checked = timezone.now()
    job.save(update_fields=("review_state", "review_reason", "review_checked"))


def delete_files(job: UploadJob) -> None:
    """Apply the delete-after-upload policy to the job's submitted files, and to their chat
    files (danmaku XML and ASS) unless the template keeps those."""
    if Configuration.load().delete_after_upload != Configuration.DeletePolicy.DELETE:
        return
    keep_danmaku = _keeps_danmaku(job)
    for file in job.files.filter(submitted=True).select_related("recording_file"):
        paths = [file.path]
        if not keep_danmaku:
            segment = (
                file.recording_file
                or RecordingFile.objects.filter(path=file.path).first()
            )
            if segment is not None:
                paths += [segment.danmaku_path, segment.danmaku_ass_path]
        for path in filter(None, paths):
            try:
                Path(path).unlink(missing_ok=True)
            except OSError as exc:
                logger.warning("Could not delete %s after upload: %s", path, exc)


def _keeps_danmaku(job: UploadJob) -> bool:
    """The template's keep_danmaku as the job took it (its params), else as it is now."""
    kept = (job.params or {}).get("keep_danmaku")
    if isinstance(kept, bool):
        return kept
    return job.template.keep_danmaku if job.template is not None else True


def interval(job: UploadJob, now: datetime) -> timedelta:
    """How long after the last poll the job is polled again."""
    first = timedelta(seconds=settings.REVIEW_POLL_SECONDS)
    age = now - (job.finished or job.review_checked or now)
    return min(
        timedelta(seconds=settings.REVIEW_POLL_MAX_SECONDS), max(first, age / 10)
    )


def _watched(now: datetime) -> Any:
    """Done jobs still in review, or public ones not yet in their collection."""
    since = now - timedelta(days=settings.REVIEW_WATCH_DAYS)
    # SQLite compares a JSON null as the text 'null', greater than any number: hence "not null".
    wants_collection = (Q(params__section_id__gt=0) & ~Q(params__section_id=None)) | (
        Q(params__season_id__gt=0) & ~Q(params__season_id=None)
    )
    return (
        UploadJob.objects.filter(
            status=UploadJob.Status.DONE, aid__isnull=False, finished__gte=since
        )
        .filter(
            Q(review_state=REVIEWING)
            | (Q(review_state=PUBLIC, season_added__isnull=True) & wants_collection)
        )
        .select_related("account")
        .order_by("review_checked", "id")
    )


def poll_due(now: datetime | None = None, limit: int = POLLS_PER_SWEEP) -> int:
    """Poll the jobs whose turn it is (at most `limit`); returns how many were polled."""
    now = now or timezone.now()
    polled = 0
    for job in _watched(now):
        if polled >= limit:
            break
        checked = job.review_checked
        if checked is not None and now - checked < interval(job, now):
            continue
        if job.review_state == PUBLIC and not collections.wanted(job):
            continue
        # Claim the turn: a second sweep (another process) finds review_checked moved on.
        claimed = UploadJob.objects.filter(pk=job.pk, review_checked=checked).update(
            review_checked=now
        )
        if claimed != 1:
            continue
        job.review_checked = now
        polled += 1
        try:
            poll(job)
        except Exception:
            # One job's bug must not stop the sweep (or the recorder's loop) for the rest.
            logger.exception("Could not poll the review of upload job %s", job.pk)
    return polled


def _look_for_it(job: UploadJob) -> None:
    """A public archive now shows in its account's public list: refresh that catalog."""
    try:
        catalogs.expect(job)
    except Exception:
        # The review is recorded: failing to refresh the catalog must not undo that.
        logger.exception("Could not look for upload job %s in its catalog", job.pk)


def poll(job: UploadJob) -> None:
    """Ask Bilibili where the job's archive stands; store it, delete the files once it is
    public (if asked), and add it to its collection once it has a cid."""
    credential = _credential(job)
    if credential is None or job.aid is None:
        return
    try:
        state = submit.archive_state(credential, job.aid)
    except (BilibiliError, BilibiliUnavailable) as exc:
        logger.warning("Upload job %s: could not read its review: %s", job.pk, exc)
        return
    before = (job.review_state, job.review_reason)
    if state.is_open:
        job.review_state, job.review_reason = PUBLIC, ""
    elif state.is_rejected:
        job.review_state = REJECTED
        job.review_reason = state.reject_reason or state.state_desc
    else:
        job.review_state, job.review_reason = REVIEWING, ""
    changed = (job.review_state, job.review_reason) != before
    if changed:
        job.save(update_fields=("review_state", "review_reason", "updated"))
        logger.info(
            "Upload job %s: archive %s is %s", job.pk, job.bvid, job.review_state
        )
        if job.review_state == PUBLIC:
            notices.upload_published(job)
            delete_files(job)
            _look_for_it(job)
        elif job.review_state == REJECTED:
            notices.upload_rejected(job)
    if job.review_state != REJECTED and collections.wanted(job):
        changed = collections.add(job, credential, state) or changed
    if changed:
        job.publish()
