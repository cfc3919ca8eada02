"""What stops an upload job: raised anywhere below the worker, shown on the job."""

from __future__ import annotations

from datetime import datetime

from biliup_site.bilibili import BilibiliError


class JobFailed(Exception):
    """The job cannot go on; the message says why and what to do. `refusal` is Bilibili's
    error when Bilibili refused: the job keeps its code, which pages explain in the reader's
    language (biliup_site.bilibili_messages)."""

    def __init__(self, message: str, refusal: BilibiliError | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


class JobPaused(Exception):
    """The job must wait until `until` (its account is throttled or over its hourly budget, or
    Bilibili refuses submits as too frequent). Nothing is lost: a sweep queues it again then."""

    def __init__(
        self, until: datetime, message: str, refusal: BilibiliError | None = None
    ) -> None:
        super().__init__(message)
        self.until = until
        self.message = message
        self.refusal = refusal
