"""From recording to archive: a live session's segments are uploaded as they close and become one
multi-part archive when the session ends; a part that comes later is appended to it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from biliup_site.models import Configuration
from recorder import tasks as recorder_tasks
from recorder.models import RecordingFile
from tests.factories import log_in_by_tv_qr, make_session, make_streamer, make_template
from uploads import tasks, upload
from uploads.models import UploadJob, UploadTemplate

pytestmark = pytest.mark.django_db
ROOM = 23058


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def template(fakebili: Any) -> UploadTemplate:
    return make_template(
        title="{streamer}的直播 %Y-%m-%d {title}",
        account=log_in_by_tv_qr(fakebili),
    )


@pytest.fixture
def room(fakebili: Any, recordings: Path) -> Any:
    config = Configuration.load()
    config.delay, config.disk_reserve = 0, 0
    config.save()
    fakebili.add_room(ROOM, speed=0, title="今晚打游戏", uname="主播A")
    fakebili.set_live(ROOM, 1)
    return fakebili


def test_a_recorded_session_becomes_one_archive_with_all_its_parts(
    room: Any, template: UploadTemplate, django_capture_on_commit_callbacks: Any
) -> None:
    streamer = make_streamer(
        url=f"https://live.bilibili.com/{ROOM}",
        platform="bilibili",
        remark="主播A",
        split_time=10,
        upload_template=template,
    )
    room.set_stream(ROOM, offline_after_seconds=30)

    with django_capture_on_commit_callbacks(execute=True):
        recorder_tasks.record(streamer.pk)

    job = UploadJob.objects.get()
    assert (job.status, job.error) == ("done", "")
    files = list(job.files.order_by("position"))
    recorded = list(RecordingFile.objects.order_by("id"))
    assert len(files) == len(recorded) == 3
    assert [f.recording_file_id for f in files] == [r.pk for r in recorded]
    [archive] = room.archives()
    assert archive["bvid"] == job.bvid
    assert [v["filename"] for v in archive["videos"]] == [
        f.remote_filename for f in files
    ]
    on_fake = {f["filename"]: f["md5"] for f in room.upos_files()}
    assert [on_fake[f.remote_filename] for f in files] == [
        md5(Path(r.path)) for r in recorded
    ]
    assert archive["body"]["title"].startswith("主播A的直播 ")
    assert archive["body"]["title"].endswith(" 今晚打游戏")
    assert streamer.upload_jobs.get() == job


def test_segments_upload_while_the_session_goes_on_and_submit_at_its_end(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    streamer = make_streamer(upload_template=template)
    session = make_session(streamer)
    first = recordings / "p1.flv"
    first.write_bytes(b"FLV" + bytes(5000))
    segment = RecordingFile.objects.create(
        streamer_info=session, path=str(first), size=first.stat().st_size
    )

    job = upload.add_segment(segment)
    tasks.upload(job.pk)

    job.refresh_from_db()
    assert job.status == "waiting"
    assert job.files.get().status == "uploaded"
    assert streamer.upload_status == "Pending"
    assert not fakebili.archives()

    session.end_time = timezone.now()
    session.save()
    upload.session_ended(session)
    tasks.upload(job.pk)

    job.refresh_from_db()
    assert job.status == "done", job.error
    [archive] = fakebili.archives()
    assert len(archive["videos"]) == 1

    # A part recovered after the archive was made joins it (edit), never a second archive.
    late = recordings / "p2.flv"
    late.write_bytes(b"FLV" + bytes(7000))
    segment2 = RecordingFile.objects.create(
        streamer_info=session, path=str(late), size=late.stat().st_size
    )
    assert upload.add_segment(segment2) == job
    job.refresh_from_db()
    assert job.status == "queued"
    tasks.upload(job.pk)

    job.refresh_from_db()
    assert job.status == "done", job.error
    [archive] = fakebili.archives()
    assert [v["filename"] for v in archive["videos"]] == [
        f.remote_filename for f in job.files.order_by("position")
    ]
    assert job.bytes_total == job.bytes_done == 5003 + 7003


def test_a_streamer_without_an_uploading_template_makes_no_job(
    fakebili: Any, recordings: Path, template: UploadTemplate
) -> None:
    template.uploader = UploadTemplate.Uploader.NOOP
    template.save()
    session = make_session(make_streamer(upload_template=template), files=1)
    assert upload.add_segment(session.files.get()) is None
    other = make_streamer(url="https://live.bilibili.com/2", remark="other")
    session = make_session(other, files=1)
    assert upload.add_segment(session.files.get()) is None
    assert not UploadJob.objects.exists()


def test_the_sweep_hands_out_jobs_within_the_upload_limit(
    fakebili: Any, recordings: Path, template: UploadTemplate, monkeypatch: Any
) -> None:
    config = Configuration.load()
    config.upload_limit = 2
    config.save()
    for i in range(4):
        path = recordings / f"s{i}.flv"
        path.write_bytes(bytes(100))
        upload.create_job([path], template)
    handed: list[int] = []
    monkeypatch.setattr(UploadJob, "enqueue", lambda self: handed.append(self.pk))

    assert upload.sweep() == 2
    first = UploadJob.objects.order_by("id").first()
    assert handed == [first.pk, first.pk + 1]
