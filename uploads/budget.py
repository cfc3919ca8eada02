"""Each Bilibili account's upload budget and pause: the per-account side of the upload queue.

Bilibili throttles preupload per account, at about 20 files an hour (bilibili-2026.md, "Upload
and submit"): past that it answers 601 or HTTP 406 until the hour has turned. So each account
counts its own preuploads of the last hour against `upload_budget` and stops before Bilibili
has to say so; when Bilibili says so anyway, the account is paused until a set time. A paused
account's jobs leave their worker (status "paused", `not_before` set) so other accounts' jobs
take the slots, and the sweep queues them again when the pause ends. What they had sent stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.timezone import localtime

from accounts import notices
from accounts.models import BilibiliAccount
from uploads.errors import JobPaused
from uploads.models import UploadFile

WINDOW = timedelta(hours=1)


def preuploads_in_window(account: BilibiliAccount, now: datetime | None = None) -> int:
    """Files this account preuploaded in the last hour (each file's latest preupload)."""
    now = now or timezone.now()
    return _window(account, now).count()


def _window(account: BilibiliAccount, now: datetime) -> Any:
    # BCut preuploads (their line reads "… (BCut)") are not throttled with the web's.
    return UploadFile.objects.filter(
        job__account=account, preuploaded__gt=now - WINDOW
    ).exclude(line__endswith="(BCut)")


def _budget_frees_at(account: BilibiliAccount, now: datetime) -> datetime:
    """When the oldest preupload of the window leaves it, giving one back."""
    oldest = (
        _window(account, now)
        .order_by("preuploaded")
        .values_list("preuploaded", flat=True)
        .first()
    )
    return (oldest or now) + WINDOW


def clock(when: datetime) -> str:
    """HH:MM in the site's time zone, as the pages show times."""
    return time_format(localtime(when), "H:i")


def pause(account: BilibiliAccount, until: datetime, reason: str) -> datetime:
    """Hold every upload of the account until `until` (never shortening a longer pause); the
    pause's end, as stored. A new pause is told; lengthening one is not."""
    now = timezone.now()
    mine = BilibiliAccount.objects.filter(pk=account.pk)
    paused_already = mine.filter(uploads_paused_until__gt=now).exists()
    mine.filter(
        Q(uploads_paused_until__isnull=True) | Q(uploads_paused_until__lt=until)
    ).update(uploads_paused_until=until, uploads_paused_reason=reason)
    account.refresh_from_db(fields=["uploads_paused_until", "uploads_paused_reason"])
    stored = account.uploads_paused_until or until
    if not paused_already:
        started = now.isoformat(timespec="seconds")
        notices.account_paused(account, stored, reason, episode=started)
    return stored


def throttled(account: BilibiliAccount, reason: str) -> JobPaused:
    """Bilibili refused a preupload as too fast: pause the account until the budget window
    frees a slot, and at least UPLOAD_RATE_LIMIT_SECONDS (four times that if the account was
    paused within the hour: it is being refused again, so others use it too); the exception to
    leave the worker with."""
    now = timezone.now()
    base = timedelta(seconds=settings.UPLOAD_RATE_LIMIT_SECONDS)
    previous = account.uploads_paused_until
    if previous is not None and now - previous < WINDOW:
        base = min(WINDOW, base * 4)
    wait = max(
        base,
        _budget_frees_at(account, now) - now
        if preuploads_in_window(account, now) >= account.upload_budget
        else timedelta(0),
    )
    until = pause(account, now + wait, reason)
    return _paused(account, until)


def _paused(account: BilibiliAccount, until: datetime) -> JobPaused:
    return JobPaused(
        until,
        f"Account {account.value} paused until {clock(until)}:"
        f" {account.uploads_paused_reason or 'uploads are too fast'}."
        " Its other uploads wait too; what is uploaded is kept.",
    )


def check(account: BilibiliAccount | None) -> None:
    """Before a preupload: raise JobPaused if the account is paused, or if its hourly budget
    is spent (then the account is paused until a preupload leaves the window)."""
    if account is None:
        return
    account.refresh_from_db(
        fields=["uploads_paused_until", "uploads_paused_reason", "upload_budget"]
    )
    if until := account.paused_until:
        raise _paused(account, until)
    now = timezone.now()
    used = preuploads_in_window(account, now)
    if used >= account.upload_budget:
        until = pause(
            account,
            _budget_frees_at(account, now),
            f"{used} files preuploaded in the last hour, its budget is"
            f" {account.upload_budget}",
        )
        raise _paused(account, until)
