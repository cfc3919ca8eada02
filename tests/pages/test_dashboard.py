from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from recorder.models import Streamer
from tests.factories import make_account, make_streamer
from uploads.models import UploadJob


def test_empty_dashboard_tells_what_to_do(browser: Client) -> None:
    page = browser.get("/").content.decode()
    assert "No rooms yet." in page
    assert 'href="/streamers/"' in page
    assert "Bilibili account" in page


def test_rooms_show_their_recording(browser: Client) -> None:
    make_streamer(
        remark="rec",
        state=Streamer.State.RECORDING,
        progress={
            "bytes": 5 * 1024 * 1024,
            "bitrate": 2_500_000,
            "duration": 3725,
            "segments": 2,
        },
    )
    make_streamer(url="https://live.bilibili.com/2", remark="off", paused=True)
    page = browser.get("/").content.decode()
    assert "1:02:05" in page
    assert "5.0\xa0MB" in page
    assert "2.5 Mb/s" in page
    assert 'data-state="paused"' in page


def test_running_upload_has_a_progress_bar(browser: Client) -> None:
    job = UploadJob.objects.create(
        status=UploadJob.Status.RUNNING,
        bytes_done=50,
        bytes_total=200,
        speed=1024 * 1024,
        params={"title": "直播录像"},
    )
    page = browser.get("/").content.decode()
    assert f'id="job-{job.pk}"' in page
    assert 'value="50" max="200"' in page
    assert "25%" in page
    assert "1.0\xa0MB/s" in page


def test_accounts_needing_attention(browser: Client) -> None:
    make_account("ok.json", status=BilibiliAccount.Status.ACTIVE)
    make_account(
        "old.json", status=BilibiliAccount.Status.EXPIRED, status_reason="-101"
    )
    page = browser.get("/").content.decode()
    assert "old.json" in page
    assert "ok.json" not in page


def test_disk_below_reserve_is_shown(browser: Client) -> None:
    config = Configuration.load()
    config.disk_reserve = 10**9  # MB: more than any disk here
    config.save()
    assert 'id="disk-low"' in browser.get("/").content.decode()


def test_a_list_refreshes_alone(htmx: Client) -> None:
    make_streamer()
    response = htmx.get("/?part=rooms")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="rooms"')
    assert "<html" not in body


def test_finished_jobs_of_the_last_day_only(browser: Client) -> None:
    old = UploadJob.objects.create(status=UploadJob.Status.DONE, bvid="BV1old")
    UploadJob.objects.filter(pk=old.pk).update(
        finished=timezone.now() - timedelta(days=2)
    )
    UploadJob.objects.create(
        status=UploadJob.Status.DONE, bvid="BV1new", finished=timezone.now()
    )
    page = browser.get("/").content.decode()
    assert "BV1new" in page
    assert "BV1old" not in page
