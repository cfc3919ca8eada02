"""Own uploads verified: a submitted archive is looked for in its account's catalog until it
shows up, against the fake Bilibili over real HTTP (UPOS, submit, a review delay, space list)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import BilibiliAccount
from creators import catalogs
from creators.models import Creator
from tests.conftest import JsonClient
from tests.factories import log_in_by_tv_qr, make_template
from uploads import tasks, upload
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(fakebili: Any) -> BilibiliAccount:
    return log_in_by_tv_qr(fakebili)


def upload_one(recordings: Path, account: BilibiliAccount, run: Callable) -> UploadJob:
    path = recordings / "part.flv"
    path.write_bytes(b"FLV" + bytes(64 * 1024))
    template = make_template(title="录播 {title}", account=account)
    job = upload.create_job([path], template, template=template)
    run(tasks.upload, job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    return job


def test_an_archive_is_watched_for_until_it_is_public(
    fakebili: Any,
    recordings: Path,
    account: BilibiliAccount,
    api: JsonClient,
    run: Callable[..., Any],
    settings: Any,
) -> None:
    # The account's older videos, published a month ago, a minute apart.
    fakebili.add_space_videos(
        account.mid, count=25, ctime=int(time.time()) - 30 * 86400
    )
    fakebili.set_space_review(600)  # the new archive is under review for 10 minutes

    job = upload_one(recordings, account, run)

    # Submitting followed the account and refreshed its catalog: not there yet.
    creator = Creator.objects.get(uid=account.mid)
    assert creator.own and creator.status == "ok"
    assert creator.videos.count() == 25
    assert api.get(f"/api/v1/upload_jobs/{job.pk}").json()["visible"] is False
    # While it waits, the account's catalog is refreshed far more often than hourly.
    wait = creator.next_refresh - timezone.now()
    assert wait <= timedelta(seconds=settings.CATALOG_VERIFY_SECONDS)
    assert job.bvid in [a["bvid"] for a in fakebili.archives()]

    fakebili.advance_clock(601)
    fakebili.clear_space_requests()
    Creator.objects.update(next_refresh=timezone.now())
    run(catalogs.dispatch)

    body = api.get(f"/api/v1/upload_jobs/{job.pk}").json()
    assert body["visible"] is True and body["visible_since"]
    assert creator.videos.filter(bvid=job.bvid).exists()
    assert len(fakebili.space_requests()) == 1  # incremental: the new archive is newest
    # Seen: back to the account's own interval.
    creator.refresh_from_db()
    assert creator.next_refresh - timezone.now() > timedelta(minutes=59)


def test_an_archive_seen_at_once_is_visible_right_after_submit(
    fakebili: Any,
    recordings: Path,
    account: BilibiliAccount,
    api: JsonClient,
    run: Callable[..., Any],
) -> None:
    job = upload_one(recordings, account, run)
    job.refresh_from_db()
    assert job.visible_since is not None
    assert api.get("/api/v1/upload_jobs").json()[0]["visible"] is True


def test_watching_gives_up_after_the_verify_window(
    fakebili: Any,
    recordings: Path,
    account: BilibiliAccount,
    run: Callable[..., Any],
    settings: Any,
) -> None:
    fakebili.set_space_review(10 * 86400)
    job = upload_one(recordings, account, run)
    UploadJob.objects.filter(pk=job.pk).update(
        finished=timezone.now() - timedelta(days=settings.CATALOG_VERIFY_DAYS, hours=1)
    )
    Creator.objects.update(next_refresh=timezone.now())
    run(catalogs.dispatch)
    creator = Creator.objects.get(uid=account.mid)
    assert creator.next_refresh - timezone.now() > timedelta(minutes=59)
    assert not catalogs.pending_uploads(account.mid).exists()
