"""Open Platform upload jobs run to archives against the fake Bilibili over real HTTP."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from biliup_site.bilibili import chunks, openplatform
from biliup_site.models import Configuration
from tests.factories import make_template
from uploads import tasks, upload
from uploads.models import UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024
CLIENT_ID = "a1b2c3d4e5f60718"
APP_SECRET = "0123456789abcdef0123456789abcdef"
MID = 424242


def random_file(path: Path, size: int) -> str:
    """A file of random bytes (so a misplaced part shows in the MD5); its MD5."""
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.md5(data).hexdigest()


def configure(fake: Any, auth: str = "signature") -> dict[str, Any]:
    app = fake.openplatform_app(CLIENT_ID, APP_SECRET, MID)
    config = Configuration.load()
    config.openplatform_client_id = app["client_id"]
    config.openplatform_app_secret = app["app_secret"]
    config.openplatform_access_token = app["access_token"]
    config.openplatform_auth = auth
    config.save()
    return app


@pytest.fixture
def template(fakebili: Any, recordings: Path) -> UploadTemplate:
    return make_template(
        title="{title} 录播",
        tags=["录播", "游戏"],
        tid=171,
        copyright=1,
        desc="自动上传",
        uploader=UploadTemplate.Uploader.OPENPLATFORM,
    )


def run_job(paths: list[Path], template: UploadTemplate) -> UploadJob:
    job = upload.create_job(paths, template, template=template)
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


def test_a_file_of_several_parts_becomes_an_archive_with_signature_auth(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    cover = requests.get(f"{fakebili.url}/bfs/face/x.jpg", timeout=5).content
    assert cover.startswith(b"\xff\xd8\xff")
    (recordings / "cover.jpg").write_bytes(cover)
    template.cover = "cover.jpg"
    template.save()
    path = recordings / "stream.flv"
    md5 = random_file(path, 20 * MiB + 12345)

    job = run_job([path], template)

    assert (job.status, job.error) == ("done", "")
    [file] = job.files.all()
    assert (file.status, file.submitted, file.chunks_total) == ("uploaded", True, 3)
    assert job.bytes_done == job.bytes_total == path.stat().st_size
    [archive] = fakebili.openplatform_archives()
    assert archive["upload"]["md5"] == md5
    assert archive["upload"]["upload_token"] == file.upload_id
    assert [p["size"] for p in archive["upload"]["parts"]] == [
        8 * MiB,
        8 * MiB,
        4 * MiB + 12345,
    ]
    body = archive["body"]
    assert (body["title"], body["tid"], body["tag"], body["copyright"]) == (
        "stream 录播",
        171,
        "录播,游戏",
        1,
    )
    assert body["desc"] == "自动上传"
    sha1 = hashlib.sha1(cover).hexdigest()
    assert body["cover"].endswith(f"/bfs/archive/{sha1}.jpg")
    assert job.bvid == archive["resource_id"]


def test_the_legacy_auth_style_works_end_to_end(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili, auth="legacy")
    config = Configuration.load()
    config.openplatform_app_secret = ""  # legacy does without the secret
    config.save()
    path = recordings / "small.flv"
    md5 = random_file(path, 300 * 1024)

    job = run_job([path], template)

    assert (job.status, job.error) == ("done", "")
    [archive] = fakebili.openplatform_archives()
    assert archive["upload"]["md5"] == md5
    assert archive["resource_id"] == job.bvid


def test_a_job_of_two_files_makes_one_archive_each(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    first, second = recordings / "show.flv", recordings / "show-2.flv"
    md5s = [random_file(first, 100 * 1024), random_file(second, 200 * 1024)]

    job = run_job([first, second], template)

    assert (job.status, job.error) == ("done", "")
    archives = fakebili.openplatform_archives()
    assert [a["body"]["title"] for a in archives] == ["show 录播 P1", "show 录播 P2"]
    assert [a["upload"]["md5"] for a in archives] == md5s
    assert job.bvid == archives[0]["resource_id"]
    assert all(f.submitted for f in job.files.all())


def test_an_expired_access_token_fails_the_job_with_a_settings_hint(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    app = configure(fakebili)
    fakebili.openplatform_expire(app["access_token"])
    path = recordings / "stream.flv"
    random_file(path, 1024)

    job = run_job([path], template)

    assert job.status == "failed"
    assert "127001" in job.error
    assert "fix the Open Platform settings" in job.error
    assert fakebili.openplatform_archives() == []


def test_a_used_up_quota_fails_the_job_naming_it(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    fakebili.openplatform_quota(CLIENT_ID, 0)
    path = recordings / "stream.flv"
    random_file(path, 1024)

    job = run_job([path], template)

    assert job.status == "failed"
    assert "127009" in job.error
    assert "quota" in job.error
    assert fakebili.openplatform_archives() == []
    assert job.submit_started is None


def test_it_fails_before_starting_when_not_configured(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    config = Configuration.load()
    config.openplatform_client_id = ""
    config.save()
    path = recordings / "stream.flv"
    random_file(path, 1024)

    job = run_job([path], template)

    assert job.status == "failed"
    assert "openplatform_client_id" in job.error
    assert fakebili.openplatform_uploads() == []


def test_a_lost_submit_answer_makes_exactly_one_archive(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    fakebili.inject("/arcopen/fn/archive/add-by-utoken", "drop_response")
    path = recordings / "stream.flv"
    random_file(path, 1024)

    job = run_job([path], template)

    assert (job.status, job.error) == ("done", "")
    [archive] = fakebili.openplatform_archives()
    assert job.bvid == archive["resource_id"]
    assert job.submit_started is None


def test_a_retried_job_does_not_send_acknowledged_parts_again(
    fakebili: Any,
    recordings: Path,
    template: UploadTemplate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(fakebili)
    config = Configuration.load()
    config.threads = 1
    config.save()
    monkeypatch.setattr(chunks, "MAX_ATTEMPTS", 1)
    monkeypatch.setattr(openplatform, "PART_SIZE", 256 * 1024)
    path = recordings / "stream.flv"
    md5 = random_file(path, 5 * 256 * 1024 + 100)

    # Parts 1 and 2 go through, every later one gets a 500. The fake counts the requests, so
    # this holds however many parts the uploader keeps queued (an acknowledgement is stored
    # while the next part is already on its way).
    fakebili.inject(
        "/video/v2/part/upload", "http_status", status=500, times=10, after=2
    )
    job = run_job([path], template)

    assert job.status == "failed"
    assert "part 3" in job.error
    [file] = job.files.all()
    assert sorted(file.chunks.values_list("part_number", flat=True)) == [1, 2]

    fakebili.clear_faults()
    upload.retry(job)
    tasks.upload(job.pk)
    job.refresh_from_db()

    assert (job.status, job.error) == ("done", "")
    [sent] = fakebili.openplatform_uploads()
    assert sent["md5"] == md5
    uploads = {p["part_number"]: p["uploads"] for p in sent["parts"]}
    assert uploads == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}
    [archive] = fakebili.openplatform_archives()
    assert job.bvid == archive["resource_id"]


def test_a_bad_answer_at_complete_is_retried(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    fakebili.inject("/arcopen/fn/archive/video/complete", "http_status", status=502)
    path = recordings / "stream.flv"
    md5 = random_file(path, 1024)

    job = run_job([path], template)

    assert (job.status, job.error) == ("done", "")
    assert job.retries == 1
    [archive] = fakebili.openplatform_archives()
    assert archive["upload"]["md5"] == md5


def test_a_failed_lookup_after_a_lost_answer_does_not_submit_twice(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    fakebili.inject("/arcopen/fn/archive/add-by-utoken", "drop_response")
    fakebili.inject("/arcopen/fn/archive/viewlist", "code", code=127201)
    path = recordings / "stream.flv"
    random_file(path, 1024)

    job = run_job([path], template)

    assert (job.status, job.error) == ("done", "")
    [archive] = fakebili.openplatform_archives()
    assert job.bvid == archive["resource_id"]


def test_a_file_whose_upload_token_is_refused_at_submit_is_sent_again(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    fakebili.openplatform_quota(CLIENT_ID, 0)
    path = recordings / "stream.flv"
    md5 = random_file(path, 1024)
    job = run_job([path], template)
    assert "127009" in job.error
    # The user moves to another app: the first app's upload_token is no good (127022).
    app = fakebili.openplatform_app("ffeeddccbbaa9988", APP_SECRET, MID)
    config = Configuration.load()
    config.openplatform_client_id = app["client_id"]
    config.openplatform_access_token = app["access_token"]
    config.save()

    upload.retry(job)
    tasks.upload(job.pk)
    job.refresh_from_db()

    assert (job.status, job.error) == ("done", "")
    first, second = fakebili.openplatform_uploads()
    assert (first["resource_id"], second["resource_id"]) == (None, job.bvid)
    [archive] = fakebili.openplatform_archives()
    assert (archive["client_id"], archive["upload"]["md5"]) == ("ffeeddccbbaa9988", md5)


def test_a_token_refused_in_the_run_that_made_it_fails_the_job_for_a_retry(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    configure(fakebili)
    fakebili.inject(
        "/arcopen/fn/archive/add-by-utoken", "code", code=127022, times=None
    )
    path = recordings / "stream.flv"
    random_file(path, 1024)

    job = run_job([path], template)

    assert job.status == "failed"
    assert (
        "127022" in job.error and "retry the job to send stream.flv again" in job.error
    )
    [file] = job.files.all()
    assert (file.status, file.upload_id, file.chunks.count()) == ("pending", "", 0)
    fakebili.clear_faults()
    upload.retry(job)
    tasks.upload(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    assert len(fakebili.openplatform_uploads()) == 2
