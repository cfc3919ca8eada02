from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import BilibiliAccount
from tests.factories import make_account
from uploads import tasks
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db


def make_job(**fields: object) -> UploadJob:
    account = BilibiliAccount.objects.first() or make_account()
    return UploadJob.objects.create(account=account, **fields)


def test_a_queued_job_is_claimed_once() -> None:
    job = make_job()
    first, second = UploadJob.objects.get(pk=job.pk), UploadJob.objects.get(pk=job.pk)
    assert first.claim() is True
    assert second.claim() is False
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    assert job.heartbeat is not None


def test_a_running_job_with_a_live_heartbeat_is_not_taken() -> None:
    job = make_job(status="running", heartbeat=timezone.now())
    assert job.claim() is False


def test_a_running_job_whose_worker_died_is_reclaimed() -> None:
    job = make_job(
        status="running", heartbeat=timezone.now() - timedelta(minutes=5), attempts=1
    )
    assert job.claim() is True
    assert job.attempts == 2


@pytest.mark.parametrize("status", ["done", "failed", "cancelled"])
def test_a_finished_job_is_never_claimed(status: str) -> None:
    assert make_job(status=status).claim() is False


def test_a_redelivered_task_is_harmless() -> None:
    job = make_job(status="done")
    tasks.upload(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 0)


def test_a_task_for_a_deleted_job_is_harmless() -> None:
    tasks.upload(987654)


def test_progress_is_saved_about_once_a_second() -> None:
    job = make_job(status="running")
    job.report_progress(10, speed=5.0)
    job.report_progress(20, speed=5.0)
    assert UploadJob.objects.get(pk=job.pk).bytes_done == 10
    job.report_progress(30, force=True)
    assert UploadJob.objects.get(pk=job.pk).bytes_done == 30


def test_a_job_stays_queued_while_every_upload_slot_is_taken() -> None:
    from biliup_site.models import Configuration
    from biliup_site.workers import this_worker

    config = Configuration.load()
    config.upload_limit = 1
    config.save()
    make_job(status="running", heartbeat=timezone.now(), worker=this_worker())
    waiting = make_job()
    assert waiting.claim() is False
    waiting.refresh_from_db()
    assert waiting.status == "queued"
    config.upload_limit = 2
    config.save()
    assert waiting.claim() is True


def test_a_running_job_whose_worker_is_gone_from_this_host_is_reclaimed_at_once() -> (
    None
):
    job = make_job(status="running", heartbeat=timezone.now(), worker="x:1")
    import socket

    job.worker = f"{socket.gethostname()}:999999999"
    job.save()
    assert job.claim() is True
