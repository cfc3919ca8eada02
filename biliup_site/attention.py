"""What needs the user now: the counts behind the attention strip every page shows and
GET /api/v1/attention.

Each count is one COUNT query (the disk is one statfs), so the strip costs a few milliseconds
on any page, and the same rule picks the rows of the list each count links to.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from recorder.lease import stale_after
from recorder.models import Streamer
from uploads.models import UploadJob

MB = 1024 * 1024
# Credentials that run out within this long are shown as needing attention.
EXPIRY_WARNING = timedelta(days=7)
# A failed upload asks for the user this long after it failed. Older ones stay in the uploads
# page's "Failed" list, but a failure left alone for a week was looked at, or given up on: the
# strip would otherwise never clear, and a strip that is always there is not read.
FAILED_UPLOADS_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class Disk:
    path: Path
    free: int
    total: int
    reserve: int

    @property
    def low(self) -> bool:
        return self.free < self.reserve

    @property
    def used_percent(self) -> int:
        return round((self.total - self.free) * 100 / self.total) if self.total else 0


def disk(config: Configuration) -> Disk:
    """Free space where recordings go, against the reserve the recorder keeps free."""
    path = config.recordings_path()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return Disk(path, usage.free, usage.total, config.disk_reserve * MB)


def _logins_to_renew(now: datetime) -> Q:
    return Q(
        status__in=(
            BilibiliAccount.Status.EXPIRED,
            BilibiliAccount.Status.REVOKED,
            BilibiliAccount.Status.NO_CREDENTIAL,
        )
    ) | Q(expires_at__lt=now + EXPIRY_WARNING)


def accounts_needing_attention() -> list[BilibiliAccount]:
    """Accounts whose login is gone or runs out soon, or whose uploads are paused."""
    now = timezone.now()
    return list(
        BilibiliAccount.objects.filter(
            _logins_to_renew(now) | Q(uploads_paused_until__gt=now)
        ).defer("credential")
    )


def failing_streamers(
    streamers: QuerySet[Streamer] | None = None, now: datetime | None = None
) -> QuerySet[Streamer]:
    """Rooms not paused whose recording failed (state error) or stalled: recording, but its
    recorder stopped beating (it died; the watcher takes the room over at its next round)."""
    now = now or timezone.now()
    streamers = Streamer.objects.all() if streamers is None else streamers
    stalled = Q(state=Streamer.State.RECORDING) & (
        Q(heartbeat__isnull=True) | Q(heartbeat__lt=now - stale_after())
    )
    return streamers.filter(paused=False).filter(
        Q(state=Streamer.State.ERROR) | stalled
    )


def recent_failed_uploads(now: datetime | None = None) -> QuerySet[UploadJob]:
    now = now or timezone.now()
    return UploadJob.objects.filter(
        status=UploadJob.Status.FAILED, finished__gt=now - FAILED_UPLOADS_WITHIN
    )


class AttentionDict(TypedDict):
    """GET /api/v1/attention."""

    total: int
    failed_uploads: int
    failing_rooms: int
    paused_accounts: int
    expiring_logins: int
    disk_low: bool
    disk_free: int
    disk_reserve: int


@dataclass(frozen=True)
class Attention:
    """What needs the user, counted; `total` things (a low disk is one)."""

    failed_uploads: int
    failing_rooms: int
    paused_accounts: int
    expiring_logins: int
    disk: Disk

    @property
    def total(self) -> int:
        return (
            self.failed_uploads
            + self.failing_rooms
            + self.paused_accounts
            + self.expiring_logins
            + int(self.disk.low)
        )

    def __bool__(self) -> bool:
        return self.total > 0

    def to_dict(self) -> AttentionDict:
        return {
            "total": self.total,
            "failed_uploads": self.failed_uploads,
            "failing_rooms": self.failing_rooms,
            "paused_accounts": self.paused_accounts,
            "expiring_logins": self.expiring_logins,
            "disk_low": self.disk.low,
            "disk_free": self.disk.free,
            "disk_reserve": self.disk.reserve,
        }


def count() -> Attention:
    """Four queries: the failed uploads, the rooms, the accounts (both counts) and the
    configuration (where the recordings go, for the disk)."""
    now = timezone.now()
    accounts = BilibiliAccount.objects.aggregate(
        paused=Count("pk", filter=Q(uploads_paused_until__gt=now)),
        logins=Count("pk", filter=_logins_to_renew(now)),
    )
    return Attention(
        failed_uploads=recent_failed_uploads(now).count(),
        failing_rooms=failing_streamers(now=now).count(),
        paused_accounts=accounts["paused"],
        expiring_logins=accounts["logins"],
        disk=disk(Configuration.load()),
    )
