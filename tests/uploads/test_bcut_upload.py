"""The BCut (必剪) route against the fake Bilibili over real HTTP: a template that chooses it, and
the fallback of a web preupload that Bilibili throttles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import BilibiliAccount
from tests.factories import log_in_by_tv_qr, make_template
from tests.uploads.test_pipeline import random_file, run_job, uploaded
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024
BCUT = "ugcfx/bcut-pc"


@pytest.fixture
def account(fakebili: Any) -> BilibiliAccount:
    return log_in_by_tv_qr(fakebili)


def profiles(fake: Any) -> list[str]:
    return [u["profile"] for u in fake.upos_uploads()]


def test_a_throttled_web_preupload_falls_back_to_bcut(
    fakebili: Any, recordings: Path, account: BilibiliAccount
) -> None:
    # Every web preupload is refused for now; BCut's route is not throttled the same way.
    fakebili.upos_rate_limit(times=100, style="406")
    fakebili.configure_upos(chunk_size=1 * MiB)
    template = make_template(tags=["录播"], account=account)
    path = recordings / "throttled.flv"
    md5 = random_file(path, 3 * MiB + 5)

    job = run_job([path], template)

    assert (job.status, job.error) == ("done", "")
    [file] = job.files.all()
    assert file.line.endswith("(BCut)")
    assert job.line == file.line
    assert profiles(fakebili) == [BCUT]
    assert uploaded(fakebili)[file.remote_filename]["md5"] == md5
    assert file.chunks.count() == file.chunks_total == 4
    [archive] = fakebili.archives()
    assert [v["filename"] for v in archive["videos"]] == [file.remote_filename]
    account.refresh_from_db()
    assert account.uploads_paused_until is None


def test_an_unthrottled_upload_stays_on_the_web_route(
    fakebili: Any, recordings: Path, account: BilibiliAccount
) -> None:
    template = make_template(tags=["录播"], account=account)
    path = recordings / "plain.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)

    assert job.status == "done", job.error
    assert profiles(fakebili) == ["ugcupos/bup"]
    assert "BCut" not in job.files.get().line


def test_a_bcut_template_uploads_through_bcut(
    fakebili: Any, recordings: Path, account: BilibiliAccount
) -> None:
    # The web route would be refused; a BCut template never asks it.
    fakebili.upos_rate_limit(times=100, style="601")
    template = make_template(
        tags=["录播"], account=account, uploader=UploadTemplate.Uploader.BCUT
    )
    paths = [recordings / "p1.flv", recordings / "p2.flv"]
    md5s = [random_file(path, 1 * MiB + i) for i, path in enumerate(paths)]

    job = run_job(paths, template)

    assert (job.status, job.error) == ("done", "")
    files = list(job.files.order_by("position"))
    assert [uploaded(fakebili)[f.remote_filename]["md5"] for f in files] == md5s
    assert all(f.line.endswith("(BCut)") for f in files)
    assert profiles(fakebili) == [BCUT, BCUT]
    [archive] = fakebili.archives()
    assert len(archive["videos"]) == 2


def test_when_bcut_is_throttled_too_the_account_is_paused(
    fakebili: Any, recordings: Path, account: BilibiliAccount
) -> None:
    fakebili.upos_rate_limit(times=100, style="406")
    fakebili.bcut_rate_limit(times=1)
    template = make_template(tags=["录播"], account=account)
    path = recordings / "both.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)

    assert job.status != "done"
    assert fakebili.upos_uploads() == []
    account.refresh_from_db()
    assert account.uploads_paused_until is not None


def test_the_template_api_takes_bcut_as_uploader(api: Any) -> None:
    saved = api.post(
        "/api/v1/upload_streamers",
        {"template_name": "必剪", "tags": ["录播"], "uploader": "bcut"},
    )

    assert saved.status_code == 200, saved.content
    assert saved.json()["uploader"] == "bcut"
    assert UploadTemplate.objects.get().uploader == UploadTemplate.Uploader.BCUT
