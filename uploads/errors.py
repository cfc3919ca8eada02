"""What stops an upload job: raised anywhere below the worker, shown on the job."""

from __future__ import annotations

from datetime import datetime


class JobFailed(Exception):
    """The job cannot go on; the message says why and what to do."""


class JobPaused(Exception):
    """The job must wait until `until` (its account is throttled or over its hourly budget, or
    Bilibili refuses submits as too frequent). Nothing is lost: a sweep queues it again then."""

    def __init__(self, until: datetime, message: str) -> None:
        super().__init__(message)
        self.until = until
        self.message = message
