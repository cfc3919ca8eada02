"""Site-wide pages: the dashboard and the settings."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from biliup_site.pages import render_page
from recorder.models import Streamer
from uploads.models import UploadJob

MB = 1024 * 1024
# Credentials that run out within this long are shown as needing attention.
EXPIRY_WARNING = timedelta(days=7)


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


def accounts_needing_attention() -> list[BilibiliAccount]:
    now = timezone.now()
    return list(
        BilibiliAccount.objects.filter(
            Q(
                status__in=(
                    BilibiliAccount.Status.EXPIRED,
                    BilibiliAccount.Status.REVOKED,
                    BilibiliAccount.Status.NO_CREDENTIAL,
                )
            )
            | Q(expires_at__lt=now + EXPIRY_WARNING)
            | Q(uploads_paused_until__gt=now)
        ).defer("credential")
    )


def dashboard_jobs() -> list[UploadJob]:
    """Every unfinished job, then the ones finished in the last day (at most 10)."""
    jobs = UploadJob.objects.select_related("streamer").prefetch_related("files")
    active = list(jobs.filter(status__in=UploadJob.ACTIVE).order_by("-id"))
    recent = list(
        jobs.filter(
            status__in=UploadJob.FINISHED,
            finished__gt=timezone.now() - timedelta(days=1),
        ).order_by("-finished")[:10]
    )
    return active + recent


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    config = Configuration.load()
    context = {
        "streamers": Streamer.objects.with_upload_status().select_related(
            "upload_template"
        ),
        "jobs": dashboard_jobs(),
        "disk": disk(config),
        "attention": accounts_needing_attention(),
        "config": config,
        "has_accounts": BilibiliAccount.objects.exists(),
        "now": timezone.now(),
    }
    return render_page(
        request, "biliup_site/dashboard.html", context, parts=("rooms", "uploads")
    )


@require_GET
@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    return render_page(request, "biliup_site/settings.html", {})
