"""django-q2 entry points. Tasks take ids, re-read their rows and claim them atomically.

(django-q2's worker closes stale database connections before each task.)
"""

from __future__ import annotations

import logging

from uploads import catalogs
from uploads import upload as workflow
from uploads.models import Creator, UploadJob

logger = logging.getLogger(__name__)


def upload(job_id: int) -> None:
    job = UploadJob.objects.select_related("account").filter(pk=job_id).first()
    if job is None:
        logger.info("Upload job %s is gone; nothing to do", job_id)
        return
    if not job.claim():
        # Another worker has it, or it is finished: a re-delivered task is harmless.
        logger.info("Upload job %s is not claimable (status %s)", job_id, job.status)
        return
    logger.info("Upload job %s claimed (attempt %s)", job_id, job.attempts)
    workflow.run(job)


def refresh_catalogs() -> None:
    """Scheduled every minute: hand the followed users due for a refresh to workers."""
    catalogs.dispatch()


def refresh_creator(creator_id: int) -> None:
    creator = Creator.objects.filter(pk=creator_id).first()
    if creator is None:
        logger.info("Followed user %s is gone; nothing to refresh", creator_id)
        return
    catalogs.refresh(creator)
    # Its slot is free: the next due user need not wait for the scheduler's minute.
    catalogs.dispatch()
