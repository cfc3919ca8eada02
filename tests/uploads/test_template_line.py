"""A template's own UPOS line: validated like the configuration's, snapshotted into the job and
used instead of the configuration's `lines`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biliup_site.models import Configuration
from tests.conftest import JsonClient
from tests.factories import log_in_by_tv_qr, make_template, make_video
from uploads import tasks, upload
from uploads.models import UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db


def test_the_api_takes_and_returns_lines(api: JsonClient) -> None:
    r = api.post(
        "/api/v1/upload_streamers", {"template_name": "t", "tag": "录播", "lines": "tx"}
    )
    assert r.status_code == 200, r.content
    assert r.json()["lines"] == "tx"
    template = UploadTemplate.objects.get()
    assert template.line == "tx"
    assert api.get(f"/api/v1/upload_streamers/{template.pk}").json()["lines"] == "tx"


def test_lines_is_kept_when_an_update_leaves_it_out(api: JsonClient) -> None:
    template = make_template(line="alia")
    r = api.post(
        "/api/v1/upload_streamers",
        {"id": template.pk, "template_name": "默认模板", "title": "新标题"},
    )
    assert r.status_code == 200, r.content
    template.refresh_from_db()
    assert (template.title, template.line) == ("新标题", "alia")


@pytest.mark.parametrize(
    ("sent", "stored"), [("", ""), ("auto", "AUTO"), (" bda2 ", "bda2")]
)
def test_lines_is_empty_auto_or_a_line_name(
    api: JsonClient, sent: str, stored: str
) -> None:
    r = api.post(
        "/api/v1/upload_streamers", {"template_name": "t", "tag": "录播", "lines": sent}
    )
    assert r.status_code == 200, r.content
    assert UploadTemplate.objects.get().line == stored


def test_a_bad_line_is_refused_as_the_configuration_refuses_it(
    api: JsonClient,
) -> None:
    r = api.post(
        "/api/v1/upload_streamers",
        {"template_name": "t", "tag": "录播", "lines": "no such line!"},
    )
    assert r.status_code == 400
    message = api.put("/api/v1/configuration", {"lines": "no such line!"}).json()
    assert r.json() == {"error": message["error"]}
    assert message["error"].startswith("lines: Use AUTO or a line name")
    assert not UploadTemplate.objects.exists()


def test_the_job_keeps_the_templates_line(recordings: Path) -> None:
    template = make_template(line="txa")
    job = upload.create_job([make_video(recordings)], template, template=template)
    template.line = "alia"
    template.save()
    job.refresh_from_db()
    assert job.params["lines"] == "txa"


def run_one(recordings: Path, template: UploadTemplate) -> UploadJob:
    job = upload.create_job(
        [make_video(recordings, size=64 * 1024)], template, template=template
    )
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


@pytest.fixture
def broken_bda2(fakebili: Any) -> None:
    """The configuration says bda2, and every chunk PUT to bda2 fails."""
    config = Configuration.load()
    config.lines = "bda2"
    config.save()
    fakebili.inject(
        "/upos-cs-upcdnbda2.bilivideo.com/*",
        "http_status",
        status=502,
        times=None,
        method="PUT",
    )


def test_the_uploader_uses_the_templates_line(
    fakebili: Any, recordings: Path, broken_bda2: None
) -> None:
    template = make_template(account=log_in_by_tv_qr(fakebili), line="tx")

    job = run_one(recordings, template)

    assert job.status == "done", job.error
    [file] = job.files.all()
    # The fake hands out the endpoint of the line preupload asked for (upcdn=tx), and every
    # chunk went there: bda2's failures were never met.
    assert (file.line, job.line, job.retries) == ("tx", "tx", 0)
    assert [f["filename"] for f in fakebili.upos_files()] == [file.remote_filename]


def test_without_a_line_the_configurations_is_used(
    fakebili: Any, recordings: Path, broken_bda2: None
) -> None:
    template = make_template(account=log_in_by_tv_qr(fakebili))

    job = run_one(recordings, template)

    assert job.status == "done", job.error
    # It started on bda2, met its failures and moved on.
    assert job.retries > 0
    assert job.files.get().line != "bda2"
