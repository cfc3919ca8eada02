"""A job Bilibili refused keeps the code, which the pages explain in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from accounts.models import BilibiliAccount
from tests.factories import log_in_by_tv_qr, make_template, make_video
from uploads import tasks, upload
from uploads.models import UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(fakebili: Any) -> BilibiliAccount:
    return log_in_by_tv_qr(fakebili)


@pytest.fixture
def template(account: BilibiliAccount) -> UploadTemplate:
    return make_template(title="{title}", tags=["录播"], tid=171, account=account)


def run_job(path: Path, template: UploadTemplate) -> UploadJob:
    job = upload.create_job([path], template, template=template)
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


def test_a_refused_submit_keeps_the_code_and_bilibilis_words(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    fakebili.inject("/x/vu/app/add", "code", code=21103, message="标题过长")
    job = run_job(make_video(recordings, "long.flv"), template)

    assert job.status == "failed"
    assert (job.error_code, job.error_said) == (21103, "标题过长")
    assert "21103" in job.error  # the API's English text is unchanged
    with translation.override("zh-hans"):
        said = job.explanation
    assert said is not None and said.fix == "template"
    assert said.sentence == "标题过长：B站最多允许 80 个字符。"
    assert said.next_step == "请缩短模板的标题，然后重试。"
    with translation.override("en"):
        assert job.explanation is not None
        assert job.explanation.next_step == "Shorten the template's title, then retry."


def test_a_retry_forgets_the_code_and_a_later_failure_of_ours_has_none(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    path = make_video(recordings, "seg.flv")
    fakebili.inject("/x/vu/app/add", "code", code=21001)
    job = run_job(path, template)
    assert job.error_code == 21001

    template.tags = []  # the retry fails in preflight: no Bilibili code to explain
    template.save()
    upload.retry(job)
    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_said) == ("queued", None, "")
    assert job.explanation is None

    tasks.upload(job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert (job.error_code, job.explanation) == (None, None)


def test_a_logged_out_account_fails_the_job_and_says_so_in_chinese(
    fakebili: Any, recordings: Path, template: UploadTemplate, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    fakebili.inject("/x/vu/app/add", "code", code=-101)
    job = run_job(make_video(recordings, "seg.flv"), template)

    assert (job.status, job.error_code) == ("failed", -101)
    assert job.explanation is not None and job.explanation.fix == "account"
    account = BilibiliAccount.objects.get()
    assert account.status == "expired"
    assert account.status_reason == "B站表示此账号未登录。（B站错误码 -101）"


def test_a_submit_refused_as_too_frequent_pauses_with_the_code(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    fakebili.inject("/x/vu/app/add", "code", code=21566, times=None)
    fakebili.inject("/x/vu/web/add/v3", "code", code=21566, times=None)
    job = run_job(make_video(recordings, "seg.flv"), template)

    assert (job.status, job.error_code) == ("paused", 21566)
    assert job.explanation is not None and job.explanation.fix == "wait"
