"""Upload jobs run to an archive against the fake Bilibili over real HTTP: UPOS, submit, failures."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from tests.factories import log_in_by_tv_qr, make_template
from uploads import review, tasks, upload
from uploads.models import UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


def control(fake: Any, path: str, body: dict[str, Any] | None = None) -> Any:
    resp = requests.post(f"{fake.url}/_fake/{path}", json=body or {}, timeout=5)
    assert resp.ok, resp.text
    return resp.json()


def random_file(path: Path, size: int) -> str:
    """A file of random bytes (so a misplaced chunk shows in the MD5); its MD5."""
    digest = hashlib.md5()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 4 * MiB))
            out.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


@pytest.fixture
def account(fakebili: Any) -> BilibiliAccount:
    return log_in_by_tv_qr(fakebili)


@pytest.fixture
def template(account: BilibiliAccount) -> UploadTemplate:
    return make_template(
        title="{streamer} %Y-%m-%d 录播",
        tags=["录播", "游戏"],
        tid=171,
        desc="自动上传",
        account=account,
    )


def run_job(paths: list[Path], template: UploadTemplate) -> UploadJob:
    job = upload.create_job(paths, template, template=template)
    tasks.upload(job.pk)
    job.refresh_from_db()
    return job


def uploaded(fake: Any) -> dict[str, dict[str, Any]]:
    return {f["filename"]: f for f in fake.upos_files()}


def test_a_200_mb_file_arrives_whole_and_becomes_an_archive(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    path = recordings / "big.flv"
    md5 = random_file(path, 200 * MiB)

    job = run_job([path], template)

    assert (job.status, job.error) == ("done", "")
    [file] = job.files.all()
    assert (file.status, file.bytes_done, file.submitted) == (
        "uploaded",
        path.stat().st_size,
        True,
    )
    assert uploaded(fakebili)[file.remote_filename]["md5"] == md5
    assert (
        file.chunks.count() == file.chunks_total == 20
    )  # 10 MiB chunks from the server
    [archive] = fakebili.archives()
    assert (archive["aid"], archive["bvid"]) == (job.aid, job.bvid)
    assert [v["filename"] for v in archive["videos"]] == [file.remote_filename]
    assert archive["body"]["tag"] == "录播,游戏"
    assert archive["body"]["title"].endswith("录播")
    assert job.bytes_done == job.bytes_total == path.stat().st_size
    assert path.exists()  # the default policy keeps files


def test_it_completes_with_a_fifth_of_chunk_puts_failing(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    control(fakebili, "upos/config", {"chunk_size": 1 * MiB})
    control(fakebili, "upos/faults", {"fail_rate": 0.2, "seed": 7, "status": 503})
    path = recordings / "flaky.flv"
    md5 = random_file(path, 30 * MiB)

    job = run_job([path], template)

    assert job.status == "done", job.error
    assert job.retries > 0
    [file] = job.files.all()
    assert uploaded(fakebili)[file.remote_filename]["md5"] == md5
    assert len(fakebili.archives()) == 1


def test_a_failing_line_is_left_for_another(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    config = Configuration.load()
    config.lines = "bda2"
    config.save()
    control(fakebili, "upos/config", {"chunk_size": 1 * MiB})
    fakebili.inject(
        "/upos-cs-upcdnbda2.bilivideo.com/*",
        "http_status",
        status=502,
        times=None,
        method="PUT",
    )
    path = recordings / "line.flv"
    md5 = random_file(path, 8 * MiB)

    job = run_job([path], template)

    assert job.status == "done", job.error
    [file] = job.files.all()
    assert file.line != "bda2"
    assert job.line == file.line
    assert uploaded(fakebili)[file.remote_filename]["md5"] == md5


def test_auto_picks_the_line_that_answers_its_probe_fastest(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    from biliup_site.bilibili import upos

    upos._auto.clear()
    # Slow by far more than a loaded machine's scheduling (0.4 s was eaten once: txa answered
    # after tx's 0.62 s), still inside the probe's timeout, so they answer and lose.
    slow = {name: {"probe_delay": 2.0} for name in ("bda2", "bldsa", "tx", "alia")}
    control(fakebili, "upos/lines", slow)
    path = recordings / "auto.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)
    upos._auto.clear()

    assert job.status == "done", job.error
    assert job.files.get().line == "txa"


def test_expired_credentials_fail_the_job_clearly_and_mark_the_account(
    fakebili: Any, recordings: Path, template: UploadTemplate, account: BilibiliAccount
) -> None:
    fakebili.expire_account(account.mid)
    path = recordings / "expired.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)

    assert job.status == "failed"
    assert "is logged out" in job.error and "log in again" in job.error
    account.refresh_from_db()
    assert account.status == "expired"
    assert not fakebili.archives()


def test_a_submit_whose_answer_is_lost_is_not_made_twice(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    fakebili.inject("/x/vu/app/add", "drop_response")
    path = recordings / "lost.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)

    assert job.status == "done", job.error
    [archive] = fakebili.archives()
    assert job.bvid == archive["bvid"]


def test_submitting_too_fast_on_one_route_tries_the_other(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    fakebili.inject("/x/vu/app/add", "code", code=137022, times=2)
    path = recordings / "fast.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)

    assert job.status == "done", job.error
    assert len(fakebili.archives()) == 1
    # "Too frequent" is per submit route: the web route took the archive at once.
    assert job.params["submit_api_used"] == "web"


def test_a_refused_archive_fails_the_job_with_bilibilis_reason(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    fakebili.inject("/x/vu/app/add", "code", code=21001)
    path = recordings / "refused.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)

    assert job.status == "failed"
    assert "Bilibili refused the archive" in job.error and "21001" in job.error
    # The file stays uploaded: a retry only submits.
    assert job.files.get().status == "uploaded"
    upload.retry(job)
    tasks.upload(job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert len(fakebili.archives()) == 1


def test_web_submit_with_every_template_field(
    fakebili: Any, recordings: Path, account: BilibiliAccount
) -> None:
    cover = recordings / "cover.jpg"
    cover.write_bytes(requests.get(f"{fakebili.url}/bfs/face/x.jpg", timeout=5).content)
    template = make_template(
        template_name="web",
        title="{title} by {streamer}",
        part_title="P %H",
        tags=["a", "b"],
        tid=21,
        copyright=2,
        source="https://live.bilibili.com/1",
        desc="desc",
        dynamic="dyn",
        cover="cover.jpg",
        dolby=True,
        hires=True,
        no_reprint=False,
        open_elec=True,
        up_close_reply=True,
        up_close_danmu=True,
        extra_fields={"is_360": -1},
        submit_api="web",
        account=account,
    )
    paths = [recordings / "a.flv", recordings / "b.flv"]
    for p in paths:
        random_file(p, 1 * MiB)

    job = run_job(paths, template)

    assert job.status == "done", job.error
    [archive] = fakebili.archives()
    body = archive["body"]
    assert body["title"] == "a by"
    assert (body["tid"], body["copyright"], body["source"]) == (
        21,
        2,
        "https://live.bilibili.com/1",
    )
    assert (
        body["dolby"],
        body["lossless_music"],
        body["open_elec"],
        body["no_reprint"],
    ) == (1, 1, 1, 0)
    assert (body["up_close_reply"], body["up_close_danmu"], body["is_360"]) == (
        True,
        True,
        -1,
    )
    assert body["dynamic"] == "dyn" and body["desc"] == "desc"
    assert "/bfs/archive/" in body["cover"]
    assert len(body["videos"]) == 2 and all(v["cid"] for v in body["videos"])
    assert all(v["title"].startswith("P ") for v in body["videos"])


def test_cancel_and_retry_over_the_api(
    api: Any, fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    path = recordings / "c.flv"
    random_file(path, 1 * MiB)
    job = upload.create_job([path], template, template=template)

    r = api.post(f"/api/v1/upload_jobs/{job.pk}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    tasks.upload(job.pk)  # the queued task finds it cancelled
    assert api.post(f"/api/v1/upload_jobs/{job.pk}/cancel").status_code == 409

    r = api.post(f"/api/v1/upload_jobs/{job.pk}/retry")
    assert r.status_code == 200 and r.json()["status"] == "queued"
    tasks.upload(job.pk)
    row = api.get(f"/api/v1/upload_jobs/{job.pk}").json()
    assert row["status"] == "done" and row["bvid"].startswith("BV")
    assert row["url"].endswith(row["bvid"])
    # The archive's title as submitted, the template's fields filled in.
    assert row["title"].endswith(" 录播") and "%" not in row["title"]
    assert api.post(f"/api/v1/upload_jobs/{job.pk}/retry").status_code == 409
    assert api.get("/api/v1/upload_jobs?status=done").json()[0]["id"] == job.pk
    assert api.get("/api/v1/upload_jobs?status=nope").status_code == 400


def test_files_are_deleted_after_the_archive_is_accepted_when_asked(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    config = Configuration.load()
    config.delete_after_upload = "delete"
    config.save()
    path = recordings / "gone.flv"
    random_file(path, 1 * MiB)

    job = run_job([path], template)

    # Kept until the review says the archive is public (uploads/review.py).
    assert (job.status, job.review_state) == ("done", "reviewing")
    assert path.exists()
    assert review.poll_due(timezone.now() + timedelta(hours=1)) == 1
    job.refresh_from_db()
    assert job.review_state == "public"
    assert not path.exists()


def test_a_resumed_file_sends_only_unacknowledged_chunks(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    """A worker that died after 5 of 12 chunks: the next one sends the other 7 and no more."""
    control(fakebili, "upos/config", {"chunk_size": 1 * MiB})
    path = recordings / "resume.flv"
    md5 = random_file(path, 12 * MiB)
    job = upload.create_job([path], template, template=template)
    # The first worker: preupload, init and five chunks, then it dies (nothing else runs).
    control(fakebili, "upos/faults", {"fail_parts": list(range(6, 13)), "status": 500})
    Configuration.objects.filter(pk=1).update(threads=1)
    from biliup_site.bilibili import chunks as chunk_module

    original = chunk_module.MAX_ATTEMPTS
    chunk_module.MAX_ATTEMPTS = 1
    try:
        tasks.upload(job.pk)
    finally:
        chunk_module.MAX_ATTEMPTS = original
    job.refresh_from_db()
    assert job.status == "failed"
    file = job.files.get()
    assert file.chunks.count() == 5
    requests.delete(f"{fakebili.url}/_fake/upos/faults", timeout=5)
    puts_before = fakebili.upos_uploads()[0]["puts"]

    upload.retry(job)
    tasks.upload(job.pk)

    job.refresh_from_db()
    assert job.status == "done", job.error
    [state] = fakebili.upos_uploads()
    assert state["puts"] - puts_before == 7
    assert uploaded(fakebili)[job.files.get().remote_filename]["md5"] == md5


def test_a_connection_cut_mid_chunk_is_sent_again(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    control(fakebili, "upos/config", {"chunk_size": 1 * MiB})
    control(fakebili, "upos/faults", {"cut_next": 2})
    path = recordings / "cut.flv"
    md5 = random_file(path, 4 * MiB)

    job = run_job([path], template)

    assert job.status == "done", job.error
    assert job.retries == 2
    assert uploaded(fakebili)[job.files.get().remote_filename]["md5"] == md5


def test_an_upload_whose_authorization_expired_starts_the_file_again(
    fakebili: Any, recordings: Path, template: UploadTemplate, monkeypatch: Any
) -> None:
    from biliup_site.bilibili import chunks as chunk_module

    control(fakebili, "upos/config", {"chunk_size": 1 * MiB})
    path = recordings / "old.flv"
    md5 = random_file(path, 3 * MiB)
    job = upload.create_job([path], template, template=template)
    control(fakebili, "upos/faults", {"fail_parts": [2, 3], "status": 500})
    Configuration.objects.filter(pk=1).update(threads=1)
    monkeypatch.setattr(chunk_module, "MAX_ATTEMPTS", 1)
    tasks.upload(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.files.get().chunks.count() == 1
    requests.delete(f"{fakebili.url}/_fake/upos/faults", timeout=5)
    # Six days later UPOS answers 403 AUTH_TS_GT_5DAY to the stored session.
    fakebili.advance_clock(6 * 86400)

    upload.retry(job)
    tasks.upload(job.pk)

    job.refresh_from_db()
    assert job.status == "done", job.error
    assert len(fakebili.upos_uploads()) == 2
    assert uploaded(fakebili)[job.files.get().remote_filename]["md5"] == md5


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_upload_stops_it_within_a_second(
    fakebili: Any, recordings: Path, template: UploadTemplate, monkeypatch: Any
) -> None:
    import threading
    import time

    control(fakebili, "upos/config", {"chunk_size": 1 * MiB})
    control(fakebili, "upos/faults", {"delay": 0.2})
    Configuration.objects.filter(pk=1).update(threads=1)
    path = recordings / "long.flv"
    random_file(path, 30 * MiB)
    # Queued without its task (which would run inline here): the thread below is the worker.
    monkeypatch.setattr(UploadJob, "enqueue", lambda self: None)
    job = upload.create_job([path], template, template=template)
    worker = threading.Thread(target=tasks.upload, args=(job.pk,))
    worker.start()
    deadline = time.monotonic() + 20
    while job.files.get().chunks.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    upload.cancel(job)
    cancelled_at = time.monotonic()
    worker.join(10)

    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 1.5
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.files.get().chunks.count() < 30
    assert not fakebili.archives()
