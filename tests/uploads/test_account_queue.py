"""Each account's upload queue: its hourly preupload budget, its pause, and other accounts'
uploads going on meanwhile (bilibili-2026.md, "Upload and submit"). Real HTTP to the fake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import BilibiliAccount
from tests.factories import log_in_by_tv_qr, make_template
from tests.polling import wait_for
from uploads import tasks, upload
from uploads.models import UploadFile, UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db


def a_file(recordings: Path, name: str, size: int = 5000) -> Path:
    path = recordings / name
    path.write_bytes(name.encode() * (size // len(name) + 1))
    return path


def template_for(account: BilibiliAccount) -> UploadTemplate:
    return UploadTemplate.objects.filter(account=account).first() or make_template(
        f"t-{account.mid}", account=account, tags=["录播"]
    )


def run(job: UploadJob) -> UploadJob:
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


def an_hour_passes(account: BilibiliAccount) -> None:
    """Move this account's clock marks an hour back: its budget window and pause run out."""
    hour = timedelta(hours=1)
    for file in UploadFile.objects.filter(
        job__account=account, preuploaded__isnull=False
    ):
        UploadFile.objects.filter(pk=file.pk).update(
            preuploaded=file.preuploaded - hour
        )
    for job in UploadJob.objects.filter(account=account, not_before__isnull=False):
        UploadJob.objects.filter(pk=job.pk).update(not_before=job.not_before - hour)
    account.refresh_from_db()
    account.uploads_paused_until -= hour
    account.save(update_fields=["uploads_paused_until"])


@pytest.fixture
def two_accounts(fakebili: Any) -> tuple[BilibiliAccount, BilibiliAccount]:
    return log_in_by_tv_qr(fakebili, mid=1001), log_in_by_tv_qr(fakebili, mid=1002)


def test_an_account_over_its_budget_pauses_while_another_account_goes_on(
    fakebili: Any, recordings: Path, two_accounts: tuple[BilibiliAccount, ...]
) -> None:
    busy, other = two_accounts
    busy.upload_budget = 1
    busy.save()
    files = [a_file(recordings, "a1.flv"), a_file(recordings, "a2.flv")]
    job = upload.create_job(files, template_for(busy), template=template_for(busy))

    job = run(job)

    # The first file used the budget; the second waits, and the job left its worker.
    assert job.status == "paused"
    assert "paused until" in job.error and "budget is 1" in job.error
    first, second = job.files.order_by("position")
    assert (first.status, second.status) == ("uploaded", "uploading")
    busy.refresh_from_db()
    assert busy.to_dict()["uploads_paused_until"] is not None
    assert job.to_dict()["paused_until"] == job.not_before.isoformat()
    # A second job of the paused account is held at its claim, without taking a slot...
    held = run(upload.create_job([a_file(recordings, "a3.flv")], template_for(busy)))
    assert held.status == "paused" and "Waiting for account" in held.error
    # ...while the other account's upload goes through.
    elsewhere = run(
        upload.create_job([a_file(recordings, "b1.flv")], template_for(other))
    )
    assert elsewhere.status == "done", elsewhere.error
    # Nothing is submitted for the paused account meanwhile.
    assert [a["mid"] for a in fakebili.archives()] == [other.mid]

    an_hour_passes(busy)
    upload.sweep()
    assert set(
        UploadJob.objects.filter(pk__in=[job.pk, held.pk]).values_list(
            "status", flat=True
        )
    ) == {"queued"}
    job = run(job)

    assert job.status == "done", job.error
    # The first file was not uploaded again: one UPOS upload per file.
    assert len(fakebili.upos_uploads()) == 3
    [archive] = [a for a in fakebili.archives() if a["mid"] == busy.mid]
    assert len(archive["videos"]) == 2


def test_the_sweep_takes_turns_between_accounts(
    fakebili: Any, recordings: Path, two_accounts: tuple[BilibiliAccount, ...]
) -> None:
    first, second = two_accounts
    jobs = [
        upload.create_job([a_file(recordings, f"{i}.flv")], template_for(first))
        for i in range(3)
    ]
    late = upload.create_job([a_file(recordings, "late.flv")], template_for(second))

    order = upload._round_robin([*jobs, late])

    assert [j.pk for j in order] == [jobs[0].pk, late.pk, jobs[1].pk, jobs[2].pk]


def test_a_paused_job_is_queued_again_when_its_time_comes(
    fakebili: Any, recordings: Path, two_accounts: tuple[BilibiliAccount, ...]
) -> None:
    job = upload.create_job(
        [a_file(recordings, "p.flv")], template_for(two_accounts[0])
    )
    job.pause(timezone.now() + timedelta(seconds=0.2), "test pause")
    upload.sweep()
    job.refresh_from_db()
    assert job.status == "paused"

    wait_for(lambda: timezone.now() >= job.not_before, 10, "the pause's end")
    upload.sweep()

    job.refresh_from_db()
    assert (job.status, job.not_before) == ("queued", None)


def test_an_account_bilibili_throttles_pauses_while_another_goes_on_then_resumes(
    fakebili: Any,
    recordings: Path,
    two_accounts: tuple[BilibiliAccount, ...],
    settings: Any,
) -> None:
    throttled, other = two_accounts
    settings.UPLOAD_RATE_LIMIT_SECONDS = 0.3
    # Bilibili refuses the next preupload, web and BCut alike: 406 "您上传视频过快".
    fakebili.upos_rate_limit(times=1, style="406")
    fakebili.bcut_rate_limit(times=1)

    job = run(
        upload.create_job([a_file(recordings, "t1.flv")], template_for(throttled))
    )

    assert job.status == "paused"
    assert "您上传视频过快" in job.error and "paused until" in job.error
    throttled.refresh_from_db()
    assert "您上传视频过快" in throttled.to_dict()["uploads_paused_reason"]
    elsewhere = run(
        upload.create_job([a_file(recordings, "o1.flv")], template_for(other))
    )
    assert elsewhere.status == "done", elsewhere.error

    wait_for(lambda: timezone.now() >= job.not_before, 10, "the pause's end")
    upload.sweep()
    job = run(job)

    assert job.status == "done", job.error
    assert {a["mid"] for a in fakebili.archives()} == {throttled.mid, other.mid}
