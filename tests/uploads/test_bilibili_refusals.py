"""Upload jobs against the strict fake: what the real site refuses on the upload side
(bilibili-2026.md "Upload and submit" and its last list) and how a job gets past it, or stops
with the reason, its uploaded files kept.

Rules (tests/fakebili/strict.py): client_add_closed, preupload_budget, submit_interval,
dtime_window, plus the real-shaped UPOS hosts reached through BILIUP_BILIBILI_UPOS_URL. Each rule
is also shown refusing the old form in tests/fakebili/test_submit.py and test_upos.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from recorder.models import RecordingFile
from tests.factories import log_in_by_tv_qr, make_session, make_streamer, make_template
from tests.polling import wait_for
from uploads import tasks, upload
from uploads.models import UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db
CLOSED_ROUTES = ("/x/vu/client/add", "/x/vu/client/edit")


@pytest.fixture
def account(fakebili: Any) -> BilibiliAccount:
    return log_in_by_tv_qr(fakebili)


@pytest.fixture
def template(account: BilibiliAccount) -> UploadTemplate:
    return make_template(title="{title} 录播", tags=["录播"], account=account)


def a_file(recordings: Path, name: str, size: int = 5000) -> Path:
    path = recordings / name
    path.write_bytes(b"FLV" + bytes(size))
    return path


def run_job(paths: list[Path], template: UploadTemplate) -> UploadJob:
    job = upload.create_job(paths, template, template=template)
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


def rerun(job: UploadJob) -> UploadJob:
    upload.retry(job)
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


def submit_paths(fake: Any) -> list[str]:
    return [c["path"] for c in fake.member_calls() if c["method"] == "POST"]


# client_add_closed, and the real UPOS hosts


@pytest.mark.parametrize(
    ("submit_api", "add", "edit"),
    [
        ("app", "/x/vu/app/add", "/x/vu/app/edit/full"),
        ("web", "/x/vu/web/add/v3", "/x/vu/web/edit"),
    ],
)
def test_a_session_is_uploaded_submitted_and_appended_without_the_client_routes(
    fakebili: Any,
    recordings: Path,
    template: UploadTemplate,
    submit_api: str,
    add: str,
    edit: str,
) -> None:
    template.submit_api = submit_api
    template.save()
    config = Configuration.load()
    config.lines = "tx"
    config.save()
    session = make_session(make_streamer(upload_template=template))
    segment = RecordingFile.objects.create(
        streamer_info=session, path=str(a_file(recordings, "p1.flv")), size=5003
    )
    job = upload.add_segment(segment)
    session.end_time = timezone.now()
    session.save()
    upload.session_ended(session)
    tasks.upload(job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    late = RecordingFile.objects.create(
        streamer_info=session, path=str(a_file(recordings, "p2.flv", 7000)), size=7003
    )
    upload.add_segment(late)
    tasks.upload(job.pk)

    job.refresh_from_db()
    assert job.status == "done", job.error
    [archive] = fakebili.archives()
    assert len(archive["videos"]) == 2
    posts = submit_paths(fakebili)
    assert add in posts and edit in posts
    assert not set(CLOSED_ROUTES) & {c["path"] for c in fakebili.member_calls()}
    # The line chosen, named by its real host, reached the fake through the host setting.
    for file in job.files.all():
        assert (file.line, file.endpoint) == ("tx", "//upos-cs-upcdntx.bilivideo.com")
    assert {line for u in fakebili.upos_uploads() for line in u["puts_by_line"]} == {
        "tx"
    }


# submit_interval: 21566


def resume(job: UploadJob) -> UploadJob:
    """What the watch loop does for a paused job once its time has come (tasks run inline)."""
    job.refresh_from_db()
    assert job.status == "paused" and job.not_before is not None
    wait_for(lambda: timezone.now() >= job.not_before, 30, "the pause's end")
    upload.sweep()
    job.refresh_from_db()
    assert job.status == "queued"
    # The sweep's task is sent on commit, which a test's transaction never reaches.
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


def test_a_submit_too_soon_tries_the_other_route_then_pauses_and_goes_through_later(
    fakebili: Any, recordings: Path, template: UploadTemplate, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "en"
    first = run_job([a_file(recordings, "a.flv")], template)
    assert first.status == "done", first.error

    second = run_job([a_file(recordings, "b.flv")], template)

    assert second.status == "paused"
    refused = [c["path"] for c in fakebili.member_calls() if c["code"] == 21566]
    # "Too frequent" is per route: the web route was tried once after the app's refusal.
    assert refused == ["/x/vu/app/add", "/x/vu/web/add/v3"]
    assert "21566" in second.error and "captcha" in second.error
    assert second.files.get().status == "uploaded"
    sent = len(fakebili.upos_uploads())
    fakebili.advance_clock(30)

    second = resume(second)

    assert second.status == "done", second.error
    # Only submitted again: nothing was uploaded twice.
    assert len(fakebili.upos_uploads()) == sent
    assert len(fakebili.archives()) == 2


def test_a_paused_submit_says_when_in_the_sites_language(
    fakebili: Any, recordings: Path, template: UploadTemplate, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    assert run_job([a_file(recordings, "a.flv")], template).status == "done"

    job = run_job([a_file(recordings, "b.flv")], template)

    assert job.status == "paused"
    assert "验证码" in job.error and "21566" in job.error
    assert job.to_dict()["paused_until"] == job.not_before.isoformat()


# preupload_budget: 406 (or 601) after 20 files an hour


def test_the_hourly_preupload_budget_pauses_the_account_and_loses_nothing(
    fakebili: Any,
    recordings: Path,
    template: UploadTemplate,
    account: BilibiliAccount,
    settings: Any,
) -> None:
    settings.UPLOAD_RATE_LIMIT_SECONDS = 0.001
    cookies = {
        c["name"]: c["value"] for c in account.credential["cookie_info"]["cookies"]
    }
    for _ in range(19):
        r = requests.get(
            f"{fakebili.url}/preupload",
            params={"r": "upos", "name": "x.flv", "size": 1},
            cookies=cookies,
            timeout=5,
        )
        assert r.json()["OK"] == 1
    # BCut, the fallback of a throttled preupload (test_bcut_upload.py), is throttled too here.
    fakebili.bcut_rate_limit(times=1)

    job = run_job([a_file(recordings, "a.flv"), a_file(recordings, "b.flv")], template)

    assert job.status == "paused"
    assert "paused until" in job.error and "您上传视频过快" in job.error
    first, second = job.files.order_by("position")
    assert (first.status, second.status) == ("uploaded", "uploading")
    account.refresh_from_db()
    assert account.uploads_paused_until is not None
    assert not fakebili.archives()

    assert "您上传视频过快" in account.uploads_paused_reason
    fakebili.advance_clock(3600)
    job = resume(job)

    assert job.status == "done", job.error
    # The first file was not sent again.
    assert len(fakebili.upos_uploads()) == 2
    [archive] = fakebili.archives()
    assert len(archive["videos"]) == 2


# dtime_window: 21006


def test_a_scheduled_time_too_near_stops_the_job_before_it_submits(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    template.dtime = int(time.time()) + 3600
    template.save()

    job = run_job([a_file(recordings, "a.flv")], template)

    assert job.status == "failed"
    assert "only 1.0 h ahead" in job.error and "2 hours to 15 days" in job.error
    assert "change the template's scheduled publishing time" in job.error
    assert job.files.get().status == "uploaded"
    # Never sent without it (the old client dropped a near dtime: published at once).
    assert not fakebili.archives() and not submit_paths(fakebili)

    # Retry takes the template as it is now: mending the template mends the job.
    dtime = int(time.time()) + 3 * 3600
    UploadTemplate.objects.filter(pk=template.pk).update(dtime=dtime)
    job = rerun(job)
    assert job.status == "done", job.error
    assert fakebili.archives()[0]["body"]["dtime"] == dtime


# Tags: an archive needs 1 to 10 (§4.1)


def test_a_template_without_tags_fails_before_a_byte_and_retry_uses_the_fixed_template(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    # A template saved before tags were required (the form refuses one without them now).
    template.tags = []
    template.save()

    job = run_job([a_file(recordings, "a.flv")], template)

    assert job.status == "failed"
    assert f"Add tags to template {template.template_name}" in job.error
    assert not fakebili.upos_uploads()
    template.tags = ["录播", "游戏"]
    template.save()

    job = rerun(job)

    assert job.status == "done", job.error
    assert job.params["tags"] == ["录播", "游戏"]
    assert fakebili.archives()[0]["body"]["tag"] == "录播,游戏"
