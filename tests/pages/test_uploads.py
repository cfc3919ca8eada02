from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import make_account, make_template
from uploads.models import UploadFile, UploadJob

pytestmark = pytest.mark.django_db


def make_job(status: str = UploadJob.Status.QUEUED, **fields: Any) -> UploadJob:
    if status in UploadJob.FINISHED:
        fields.setdefault("finished", timezone.now())
    fields.setdefault("params", {"title": f"{status} 录播"})
    return UploadJob.objects.create(status=status, **fields)


def section(page: str, list_id: str) -> str:
    """One list's markup."""
    start = page.index(f'<ul id="{list_id}"')
    return page[start : page.index("</ul>\n", start)]


def test_an_empty_queue_tells_how_uploads_start(browser: Client) -> None:
    page = browser.get("/uploads/").content.decode()
    queue = section(page, "upload-queue")
    assert "Nothing uploading." in queue
    assert "a streamer with an upload template uploads while it records" in (
        queue.lower()
    )
    assert 'href="/recordings/"' in queue
    assert "No finished uploads yet." in section(page, "upload-history")


def test_active_jobs_queue_and_finished_ones_are_history_newest_first(
    browser: Client,
) -> None:
    now = timezone.now()
    running = make_job(UploadJob.Status.RUNNING)
    waiting = make_job(UploadJob.Status.WAITING)
    old = make_job(UploadJob.Status.DONE, finished=now - timedelta(hours=2))
    new = make_job(UploadJob.Status.FAILED, finished=now - timedelta(minutes=1))
    page = browser.get("/uploads/").content.decode()
    queue, history = section(page, "upload-queue"), section(page, "upload-history")
    assert queue.index(f'id="job-{running.pk}"') < queue.index(f'id="job-{waiting.pk}"')
    assert f'id="job-{old.pk}"' not in queue
    assert history.index(f'id="job-{new.pk}"') < history.index(f'id="job-{old.pk}"')
    assert f'id="job-{running.pk}"' not in history
    # Both lists reload themselves when a job appears or moves.
    for html in (queue, history):
        assert 'data-live-list="uploads"' in html
        assert 'hx-trigger="live-refresh' in html
        assert 'hx-swap="outerHTML"' in html
    assert 'hx-get="/uploads/?part=queue"' in queue
    assert 'hx-get="/uploads/?part=history"' in history


def test_a_job_row_names_its_account_by_its_bilibili_name(browser: Client) -> None:
    make_account("10086.json", uname="海边主播")
    named = make_job(UploadJob.Status.QUEUED, params={"user_cookie": "10086.json"})
    unknown = make_job(UploadJob.Status.QUEUED, params={"user_cookie": "gone.json"})
    page = browser.get("/uploads/").content.decode()
    for job, shown in ((named, "as 海边主播"), (unknown, "as gone.json")):
        row = page[page.index(f'id="job-{job.pk}"') :].split("</li>\n\n")[0]
        assert shown in row


def test_a_job_row_shows_progress_and_its_files(
    browser: Client, recordings: Path
) -> None:
    job = make_job(
        UploadJob.Status.RUNNING,
        bytes_done=300,
        bytes_total=1200,
        speed=100,
        line="tx",
        retries=2,
        error="Preupload failed (timeout); retrying in 2 s",
        params={"title": "直播录像", "template_name": "默认", "user_cookie": "a.json"},
    )
    UploadFile.objects.create(
        job=job,
        position=0,
        path=str(recordings / "主播" / "part0.flv"),
        size=1000,
        bytes_done=300,
        status=UploadFile.Status.UPLOADING,
        line="tx",
        retries=2,
    )
    UploadFile.objects.create(
        job=job,
        position=1,
        path="/rec/主播/part1.flv",
        size=200,
        status=UploadFile.Status.FAILED,
        error="part1.flv changed size",
    )
    page = browser.get("/uploads/").content.decode()
    row = page[page.index(f'id="job-{job.pk}"') :].split("</li>\n\n")[0]
    for text in (
        "直播录像",
        "template 默认",
        "as a.json",
        "2 files",
        "line tx",
        "2 retries",
        'value="300" max="1200"',
        "25%",
        "100\xa0bytes/s",  # speed
        "ETA 0:09",
        "retrying in 2 s",
        "Uploading",
        f'action="/uploads/{job.pk}/cancel"',
    ):
        assert text in row, text
    files = row[row.index('<details class="job-files') :]
    # Paths in the recordings folder, never where the server keeps it; a path outside it (the
    # folder was moved since) by its name alone.
    assert str(recordings) not in page and "/rec/" not in page
    for text in (
        '<div class="mono">主播/part0.flv</div>',
        '<div class="mono">part1.flv</div>',
        "300\xa0bytes / 1000\xa0bytes (30%)",
        "badge-uploading",
        "line tx",
        "badge-failed",
        "part1.flv changed size",
    ):
        assert text in files, text


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["4 connections, 1.0\xa0MB/s each", "Held by the upload speed cap"]),
        ("zh-hans", ["4 个连接，每个 1.0\xa0MB/s", "受上传限速限制"]),
    ],
)
def test_a_running_jobs_row_says_how_many_connections_and_what_holds_it(
    browser: Client, language: str, texts: list[str]
) -> None:
    job = make_job(
        UploadJob.Status.RUNNING,
        bytes_done=300,
        bytes_total=1200,
        speed=4 * 1024 * 1024,
        connections=4,
        limited_by="cap",
    )
    page = browser.get("/uploads/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    row = page[page.index(f'id="job-{job.pk}"') :].split("</li>\n\n")[0]
    for text in texts:
        assert text in row, text
    # Once it has left its worker, neither shows.
    job.finish(UploadJob.Status.FAILED, "stopped")
    page = browser.get("/uploads/").content.decode()
    assert "job-connections" not in page and "job-limit" not in page


def test_a_done_job_links_its_archive(browser: Client) -> None:
    job = make_job(UploadJob.Status.DONE, bvid="BV1xx411c7mD", aid=1)
    page = browser.get("/uploads/").content.decode()
    row = page[page.index(f'id="job-{job.pk}"') :]
    assert 'href="https://www.bilibili.com/video/BV1xx411c7mD"' in row
    assert "<progress" not in row.split("</li>")[0]


def test_it_filters_by_status(browser: Client) -> None:
    failed = make_job(UploadJob.Status.FAILED)
    done = make_job(UploadJob.Status.DONE)
    queued = make_job(UploadJob.Status.QUEUED)
    page = browser.get("/uploads/?status=failed").content.decode()
    assert f'id="job-{failed.pk}"' in page
    assert f'id="job-{done.pk}"' not in page
    assert f'id="job-{queued.pk}"' not in page
    assert 'id="upload-queue"' not in page  # a finished status: no queue to show
    assert '<a href="?status=failed" aria-current="page">Failed (1)</a>' in page
    assert 'hx-get="/uploads/?part=history&amp;status=failed"' in page

    page = browser.get("/uploads/?status=queued").content.decode()
    assert f'id="job-{queued.pk}"' in page
    assert 'id="upload-history"' not in page
    assert f'id="job-{failed.pk}"' not in page

    # An unknown status shows everything.
    page = browser.get("/uploads/?status=nonsense").content.decode()
    assert all(f'id="job-{j.pk}"' in page for j in (failed, done, queued))


def test_the_history_is_paginated(browser: Client) -> None:
    now = timezone.now()
    jobs = [
        make_job(UploadJob.Status.DONE, finished=now - timedelta(minutes=i))
        for i in range(30)
    ]  # jobs[0] is the newest
    first = section(browser.get("/uploads/").content.decode(), "upload-history")
    assert first.count('class="item job"') == 25
    assert f'id="job-{jobs[0].pk}"' in first
    assert f'id="job-{jobs[25].pk}"' not in first
    assert 'href="?page=2"' in first and "Page 1 of 2" in first

    second = section(browser.get("/uploads/?page=2").content.decode(), "upload-history")
    assert second.count('class="item job"') == 5
    assert f'id="job-{jobs[29].pk}"' in second
    assert 'href="?page=1"' in second
    assert 'hx-get="/uploads/?part=history&amp;page=2"' in second

    filtered = browser.get("/uploads/?status=done&page=2").content.decode()
    assert 'href="?status=done&amp;page=1"' in filtered


def test_each_list_refreshes_alone(htmx: Client) -> None:
    queued = make_job()
    failed = make_job(UploadJob.Status.FAILED)
    body = htmx.get("/uploads/?part=queue").content.decode()
    assert body.lstrip().startswith('<ul id="upload-queue"')
    assert "<html" not in body
    assert f'id="job-{queued.pk}"' in body and f'id="job-{failed.pk}"' not in body

    body = htmx.get("/uploads/?part=history&status=failed").content.decode()
    assert body.lstrip().startswith('<ul id="upload-history"')
    assert f'id="job-{failed.pk}"' in body and f'id="job-{queued.pk}"' not in body
    assert 'hx-get="/uploads/?part=history&amp;status=failed"' in body


# Retry and cancel


def test_retry_with_htmx_swaps_the_row_and_reloads_the_lists(htmx: Client) -> None:
    job = make_job(UploadJob.Status.FAILED, error="Bilibili said no")
    UploadFile.objects.create(
        job=job, position=0, path="/rec/a.flv", size=10, status="failed", error="x"
    )
    r = htmx.post(f"/uploads/{job.pk}/retry")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith(f'<li id="job-{job.pk}"')
    assert 'data-status="queued"' in body
    assert "queued again" in body
    assert "uploads-changed" in json.loads(r["HX-Trigger"])
    job.refresh_from_db()
    assert (job.status, job.error) == ("queued", "")
    assert job.files.get().status == "pending"


def test_retry_without_javascript_redirects_with_a_message(browser: Client) -> None:
    job = make_job(UploadJob.Status.CANCELLED)
    r = browser.post(f"/uploads/{job.pk}/retry")
    assert r.status_code == 302 and r["Location"] == "/uploads/"
    job.refresh_from_db()
    assert job.status == "queued"
    page = browser.get("/uploads/").content.decode()
    assert f"Upload #{job.pk} is queued again" in page
    assert f'id="job-{job.pk}"' in section(page, "upload-queue")


def test_a_failed_job_links_its_template_and_says_retry_takes_it_as_it_is(
    browser: Client,
) -> None:
    template = make_template("每日录播")
    job = make_job(
        UploadJob.Status.FAILED,
        template=template,
        error="No tags: Bilibili needs 1 to 10. Add tags to template 每日录播, then retry",
        params={"template_name": "每日录播", "title": "x"},
    )
    paused = make_job(
        UploadJob.Status.PAUSED,
        error="Account a.json paused until 12:30: uploads are too fast.",
        params={"title": "y"},
    )

    page = browser.get("/uploads/").content.decode()

    row = page[page.index(f'id="job-{job.pk}"') :].split("</li>")[0]
    assert f'href="/templates/{template.pk}/#field-tag"' in row
    assert "Add 1 to 10 tags to the template 每日录播, then retry." in row
    # Retry now would fail the same way: the button says the fix comes first.
    assert "retry-after-fix" in row
    queued = section(page, "upload-queue")
    assert f'id="job-{paused.pk}"' in queued
    assert "paused until 12:30" in queued and "badge-paused" in queued

    template.tags = ["录播"]
    template.save()
    row = browser.get("/uploads/").content.decode()
    row = row[row.index(f'id="job-{job.pk}"') :].split("</li>")[0]
    assert "was changed after this failure" in row
    assert "uses the template as it is now" in row
    assert "retry-after-fix" not in row and 'class="primary"' in row


def test_cancel_with_htmx(htmx: Client) -> None:
    job = make_job(UploadJob.Status.RUNNING)
    r = htmx.post(f"/uploads/{job.pk}/cancel")
    assert r.status_code == 200
    assert 'data-status="cancelled"' in r.content.decode()
    assert "uploads-changed" in json.loads(r["HX-Trigger"])
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_cancel_without_javascript(browser: Client) -> None:
    job = make_job(UploadJob.Status.QUEUED)
    r = browser.post(f"/uploads/{job.pk}/cancel")
    assert r.status_code == 302 and r["Location"] == "/uploads/"
    job.refresh_from_db()
    assert job.status == "cancelled"
    page = browser.get("/uploads/").content.decode()
    assert f"Upload #{job.pk} is cancelled" in page
    assert f'id="job-{job.pk}"' in section(page, "upload-history")


def test_an_action_that_does_not_apply_is_a_message_not_an_error(
    browser: Client, htmx: Client
) -> None:
    job = make_job(UploadJob.Status.DONE, bvid="BV1")
    r = browser.post(f"/uploads/{job.pk}/cancel")
    assert r.status_code == 302
    page = browser.get("/uploads/").content.decode()
    assert f"Upload #{job.pk} was not cancelled: it is Done." in page

    r = htmx.post(f"/uploads/{job.pk}/retry")
    assert r.status_code == 200
    body = r.content.decode()
    assert f"Upload #{job.pk} was not retried: it is Done." in body
    assert 'data-status="done"' in body
    job.refresh_from_db()
    assert job.status == "done"


def test_retry_and_cancel_only_take_post_and_known_jobs(browser: Client) -> None:
    job = make_job(UploadJob.Status.FAILED)
    assert browser.get(f"/uploads/{job.pk}/retry").status_code == 405
    assert browser.post("/uploads/999/cancel").status_code == 404
    job.refresh_from_db()
    assert job.status == "failed"
