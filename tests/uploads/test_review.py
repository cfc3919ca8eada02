"""After submit, against the fake Bilibili over real HTTP: the archive's review polled to public or
rejected, delete-after-upload waiting for public (and never on a rejection), and the archive
joining the template's collection once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from tests.conftest import JsonClient
from tests.factories import log_in_by_tv_qr, make_template
from uploads import review, tasks, upload
from uploads.models import UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(fakebili: Any) -> BilibiliAccount:
    return log_in_by_tv_qr(fakebili)


@pytest.fixture
def template(account: BilibiliAccount) -> UploadTemplate:
    return make_template(title="回放", tags=["录播"], tid=171, account=account)


@pytest.fixture
def deleting() -> None:
    config = Configuration.load()
    config.delete_after_upload = Configuration.DeletePolicy.DELETE
    config.save()


def run_job(
    recordings: Path, template: UploadTemplate, name: str = "a.flv"
) -> UploadJob:
    path = recordings / name
    path.write_bytes(b"\0" * 4096)
    job = upload.create_job([path], template, template=template)
    tasks.upload(job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    return job


def later(minutes: float) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def test_an_archive_in_review_becomes_public_and_then_its_files_go(
    fakebili: Any,
    recordings: Path,
    template: UploadTemplate,
    deleting: None,
    api: JsonClient,
) -> None:
    fakebili.set_review(3600)
    job = run_job(recordings, template)
    assert job.review_state == "reviewing"
    # Not polled before its first turn.
    assert review.poll_due() == 0

    assert review.poll_due(later(2)) == 1
    job.refresh_from_db()
    assert (job.review_state, job.review_reason) == ("reviewing", "")
    assert Path(job.files.get().path).exists()
    page = api.get("/uploads/").content.decode()
    assert "job-review" in page

    fakebili.advance_clock(3600)
    assert review.poll_due(later(5)) == 1

    job.refresh_from_db()
    assert job.review_state == "public"
    assert not Path(job.files.get().path).exists()
    row = api.get(f"/api/v1/upload_jobs/{job.pk}").json()
    assert (row["review_state"], row["review_reason"]) == ("public", "")
    # Public and no collection: not polled again.
    assert review.poll_due(later(60)) == 0


def test_a_rejected_archive_keeps_its_files_and_says_why(
    fakebili: Any,
    recordings: Path,
    template: UploadTemplate,
    deleting: None,
    api: JsonClient,
) -> None:
    fakebili.set_review(3600)
    job = run_job(recordings, template)
    fakebili.review_archive(job.aid, "rejected", reject_reason="标题违规")

    assert review.poll_due(later(2)) == 1

    job.refresh_from_db()
    assert (job.status, job.review_state, job.review_reason) == (
        "done",
        "rejected",
        "标题违规",
    )
    assert Path(job.files.get().path).exists()
    row = api.get(f"/api/v1/upload_jobs/{job.pk}").json()
    assert (row["review_state"], row["review_reason"]) == ("rejected", "标题违规")
    assert "标题违规" in api.get("/uploads/").content.decode()
    assert review.poll_due(later(60)) == 0


def test_polls_back_off_as_the_archive_ages(
    fakebili: Any, recordings: Path, template: UploadTemplate, settings: Any
) -> None:
    settings.REVIEW_POLL_SECONDS, settings.REVIEW_POLL_MAX_SECONDS = 60, 600
    fakebili.set_review(86400)
    job = run_job(recordings, template)
    job.refresh_from_db()
    assert review.interval(job, job.finished) == timedelta(seconds=60)
    assert review.interval(job, job.finished + timedelta(minutes=30)) == timedelta(
        minutes=3
    )
    assert review.interval(job, job.finished + timedelta(days=1)) == timedelta(
        minutes=10
    )
    assert review.poll_due(later(2)) == 1
    # Polled at +2 min; the next turn is a minute on.
    assert review.poll_due(later(2.5)) == 0
    assert review.poll_due(later(3.5)) == 1


def test_the_archive_joins_the_templates_collection_once(
    fakebili: Any, recordings: Path, template: UploadTemplate, account: BilibiliAccount
) -> None:
    season = fakebili.add_season(account.mid, "直播回放", sections=["正片", "花絮"])
    template.season_id = season["id"]
    template.section_id = season["sections"][1]["id"]
    template.save()
    fakebili.set_review(3600)
    job = run_job(recordings, template)
    # The add fails once: the job stays done, says so, and tries again.
    fakebili.inject("/x2/creative/web/season/section/episodes/add", "code", code=-500)

    assert review.poll_due(later(2)) == 1
    job.refresh_from_db()
    assert job.status == "done" and job.season_added is None
    assert job.error.startswith("Not added to the collection yet")

    assert review.poll_due(later(4)) == 1
    job.refresh_from_db()
    assert job.season_added is not None and job.error == ""
    [made] = fakebili.seasons()
    [episode] = made["sections"][1]["episodes"]
    [archive] = fakebili.archives()
    assert (episode["aid"], episode["cid"]) == (job.aid, archive["videos"][0]["cid"])
    assert episode["title"] == job.display_title
    assert job.to_dict()["season_added"] is not None

    # Public later: the review is still followed, the archive is not added twice.
    fakebili.advance_clock(3600)
    assert review.poll_due(later(10)) == 1
    job.refresh_from_db()
    assert job.review_state == "public"
    assert review.poll_due(later(60)) == 0
    assert len(fakebili.seasons()[0]["sections"][1]["episodes"]) == 1


def test_a_season_alone_puts_the_archive_in_its_first_section(
    fakebili: Any, recordings: Path, template: UploadTemplate, account: BilibiliAccount
) -> None:
    season = fakebili.add_season(account.mid, "合集")
    template.season_id = season["id"]
    template.save()
    job = run_job(recordings, template)

    assert review.poll_due(later(2)) == 1

    job.refresh_from_db()
    assert (job.review_state, job.error) == ("public", "")
    assert job.season_added is not None
    [episode] = fakebili.seasons()[0]["sections"][0]["episodes"]
    assert episode["aid"] == job.aid


def test_the_template_form_checks_the_section_is_the_seasons(
    fakebili: Any, account: BilibiliAccount, api: JsonClient
) -> None:
    season = fakebili.add_season(account.mid, "合集")
    other = fakebili.add_season(account.mid, "另一个")
    body = {
        "template_name": "合集模板",
        "title": "{title}",
        "tid": 171,
        "tag": "录播",
        "user_cookie": account.value,
        "season_id": season["id"],
    }

    wrong = api.post(
        "/api/v1/upload_streamers",
        {**body, "section_id": other["sections"][0]["id"]},
    )
    assert wrong.status_code == 400 and "section_id" in wrong.json()["error"]
    unknown = api.post(
        "/api/v1/upload_streamers",
        {**body, "season_id": 1, "section_id": season["sections"][0]["id"]},
    )
    assert unknown.status_code == 400 and "season_id" in unknown.json()["error"]
    negative = api.post("/api/v1/upload_streamers", {**body, "section_id": -1})
    assert negative.status_code == 400

    right = api.post(
        "/api/v1/upload_streamers",
        {**body, "section_id": season["sections"][0]["id"]},
    )
    assert right.status_code == 200, right.content
    assert right.json()["section_id"] == season["sections"][0]["id"]
