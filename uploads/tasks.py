"""django-q2 entry points. Tasks take ids, re-read their rows and claim them atomically.

(django-q2's worker closes stale database connections before each task.)
"""

from __future__ import annotations

import logging

from uploads import upload as workflow
from uploads.models import UploadJob

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
