from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from recorder.models import RecordingFile, Streamer, StreamerInfo
from tests.factories import (
    make_account,
    make_session,
    make_streamer,
    make_template,
    make_video,
)
from uploads.models import UploadFile, UploadJob

pytestmark = pytest.mark.django_db


def make_segment(
    session: StreamerInfo, path: Path, duration: float = 60.0, **overrides: Any
) -> RecordingFile:
    return RecordingFile.objects.create(
        streamer_info=session,
        path=str(path),
        size=path.stat().st_size if path.exists() else 0,
        duration=duration,
        **overrides,
    )


def test_it_needs_a_login(recordings: Path) -> None:
    assert Client().get("/recordings/").status_code == 302
    assert Client().get("/recordings/files/1/download").status_code == 302


def test_empty_state_points_to_the_streamers_page(browser: Client) -> None:
    page = browser.get("/recordings/").content.decode()
    assert "Nothing recorded yet." in page
    assert '<a href="/streamers/">Add a streamer</a>' in page
    assert "Upload selected" not in page


def test_a_session_shows_its_totals_gaps_segments_and_uploads(
    browser: Client, recordings: Path
) -> None:
    session = make_session(
        name="主播A",
        title="深夜杂谈",
        gaps=[
            {"start": "2025-01-10T20:10:00+08:00", "seconds": 12.5},
            {"start": "2025-01-10T20:40:00+08:00", "seconds": 7.5},
        ],
        end_time=timezone.now(),
    )
    first = make_segment(
        session,
        make_video(recordings, "a/part1.flv", size=2048),
        duration=3600,
        gaps=[{"start": "2025-01-10T20:10:00+08:00", "seconds": 12.5}],
    )
    second = make_segment(
        session, make_video(recordings, "a/part2.flv", size=1024), duration=125
    )
    job = UploadJob.objects.create(status=UploadJob.Status.DONE, bvid="BV1xx411c7mD")
    UploadFile.objects.create(
        job=job, position=0, path=first.path, recording_file=first
    )
    page = browser.get("/recordings/").content.decode()
    assert "主播A" in page
    assert "深夜杂谈" in page
    assert "3.0\xa0KB" in page  # total size
    assert "1:02:05" in page  # total duration
    assert "2 gaps in the stream" in page
    assert "20 s lost" in page
    assert "2025-01-10T20:40:00+08:00" in page
    assert "1 gap (12.5 s)" in page
    assert "part1.flv" in page and "part2.flv" in page
    assert f'href="/recordings/files/{first.pk}/download"' in page
    assert f'href="/recordings/files/{second.pk}/download"' in page
    assert f'name="files" value="{second.pk}"' in page
    segment = page.split(f'id="segment-row-{first.pk}"')[1].split("</li>")[0]
    assert "BV1xx411c7mD" in segment
    assert f'href="/uploads/#job-{job.pk}"' in segment
    assert "BV1xx411c7mD" not in page.split(f'id="segment-row-{second.pk}"')[1]


def test_a_job_from_the_api_is_found_by_its_path(
    browser: Client, recordings: Path
) -> None:
    session = make_session(end_time=timezone.now())
    segment = make_segment(session, make_video(recordings, "seg.flv"))
    job = UploadJob.objects.create(status=UploadJob.Status.FAILED)
    UploadFile.objects.create(job=job, position=0, path=segment.path)
    page = browser.get("/recordings/").content.decode()
    assert 'class="badge badge-failed">Failed</a>' in page


def test_a_live_session_shows_its_streamers_state(browser: Client) -> None:
    streamer = make_streamer(
        state=Streamer.State.RECORDING, progress={"segments": 1, "duration": 70}
    )
    make_session(streamer, files=1, title="正在直播")
    gone = make_session(None, title="主播已删")  # open, but its streamer was deleted
    page = browser.get("/recordings/").content.decode()
    assert "live now" in page
    assert f'id="streamer-state-{streamer.pk}"' in page
    assert 'data-key="recording-False-1"' in page
    orphan = page.split(f'id="session-{gone.pk}"')[1].split('class="stats')[0]
    assert "live now" not in orphan
    assert "not closed" in orphan


def test_the_session_list_refreshes_alone(htmx: Client) -> None:
    make_session(files=1)
    response = htmx.get("/recordings/?part=sessions&page=1")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="sessions" data-live-list="rooms"')
    assert 'hx-get="/recordings/?part=sessions&page=1"' in body
    assert 'hx-trigger="live-refresh"' in body
    assert 'hx-swap="outerHTML"' in body
    assert "<html" not in body
    # Ticked boxes survive the refresh.
    assert re.search(r'<input type="checkbox" name="files"[^>]* hx-preserve', body)


def test_sessions_are_paginated_newest_first(browser: Client, htmx: Client) -> None:
    start = timezone.now() - timedelta(days=30)
    for i in range(25):
        make_session(title=f"第{i}场", start_time=start + timedelta(hours=i))
    first = browser.get("/recordings/").content.decode()
    assert first.count('class="card session"') == 20
    assert "第24场" in first and "第5场" in first and "第4场" not in first
    assert 'href="?page=2"' in first
    assert "Page 1 of 2" in first
    second = htmx.get("/recordings/?part=sessions&page=2").content.decode()
    assert second.count('class="card session"') == 5
    assert "第4场" in second and "第0场" in second
    assert 'hx-get="/recordings/?part=sessions&page=2"' in second
    assert 'href="?page=1"' in second


def test_download_streams_a_file_of_the_recordings_folder(
    browser: Client, recordings: Path
) -> None:
    path = make_video(recordings, "主播/seg.flv", size=100)
    segment = make_segment(make_session(), path)
    response = browser.get(f"/recordings/files/{segment.pk}/download")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "seg.flv" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == path.read_bytes()


def test_download_refuses_files_outside_the_folder(
    browser: Client, recordings: Path, tmp_path: Path
) -> None:
    outside = make_video(tmp_path / "elsewhere", "secret.flv")
    (recordings / "link.flv").symlink_to(outside)
    session = make_session()
    for path in (outside, recordings / "link.flv", recordings / ".." / "x.flv"):
        segment = make_segment(session, path)
        response = browser.get(f"/recordings/files/{segment.pk}/download")
        assert response.status_code == 404, path
        assert not hasattr(response, "streaming_content")
    assert browser.get("/recordings/files/999/download").status_code == 404


def test_a_segments_chat_is_listed_with_its_counts_and_downloads(
    browser: Client, api: Any, recordings: Path, tmp_path: Path
) -> None:
    video = make_video(recordings, "主播/seg.flv")
    xml = video.with_suffix(".xml")
    xml.write_text("<i></i>", encoding="utf-8")
    counts = {"danmaku": 120, "superchat": 2, "gift": 31, "guard": 1}
    session = make_session()
    segment = make_segment(session, video, danmaku_path=str(xml), danmaku_counts=counts)
    plain = make_segment(session, make_video(recordings, "主播/plain.flv"))
    page = browser.get("/recordings/").content.decode()
    chat = page.split(f'id="segment-danmaku-{segment.pk}"')[1].split("</div>")[0]
    for number in ("120", "2", "31", "1"):
        assert f"<b>{number}</b>" in chat
    assert f'href="/recordings/files/{segment.pk}/danmaku.xml"' in chat
    assert "danmaku.ass" not in chat  # none was made
    assert f'id="segment-danmaku-{plain.pk}"' not in page

    response = browser.get(f"/recordings/files/{segment.pk}/danmaku.xml")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"<i></i>"
    # biliup's /static/ serves it too, as a download.
    response = api.get("/static/主播/seg.xml")
    assert (response.status_code, response["Content-Disposition"][:11]) == (
        200,
        "attachment;",
    )
    assert browser.get(f"/recordings/files/{segment.pk}/danmaku.ass").status_code == 404
    assert browser.get(f"/recordings/files/{plain.pk}/danmaku.xml").status_code == 404
    assert browser.get(f"/recordings/files/{segment.pk}/danmaku.flv").status_code == 404
    # Only inside the recordings folder, as the videos.
    outside = tmp_path / "secret.xml"
    outside.write_text("<i/>", encoding="utf-8")
    segment.danmaku_path = str(outside)
    segment.save()
    response = browser.get(f"/recordings/files/{segment.pk}/danmaku.xml")
    assert response.status_code == 404
    assert not hasattr(response, "streaming_content")
    assert "secret.xml" in response.content.decode()


def test_download_of_a_missing_file_says_so(browser: Client, recordings: Path) -> None:
    segment = make_segment(make_session(), recordings / "gone.flv")
    response = browser.get(f"/recordings/files/{segment.pk}/download")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="file-missing"' in page
    assert "is not in the recordings folder any more" in page
    assert "gone.flv" in page


@pytest.fixture
def template(db: None) -> Any:
    return make_template("录播模板", account=make_account("cookies.json"))


def test_upload_selected_queues_one_job_with_those_files(
    browser: Client,
    recordings: Path,
    template: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    session = make_session(end_time=timezone.now())
    a = make_segment(session, make_video(recordings, "a.flv", size=100))
    make_segment(session, make_video(recordings, "b.flv", size=50))
    c = make_segment(session, make_video(recordings, "c.flv", size=30))
    with django_capture_on_commit_callbacks() as callbacks:
        response = browser.post(
            "/recordings/upload",
            {"template": template.pk, "files": [c.pk, a.pk]},
        )
    assert response.status_code == 302
    assert response["Location"] == "/uploads/"
    [message] = get_messages(response.wsgi_request)
    assert str(message) == "Queued 2 files for upload with 录播模板."
    assert message.level_tag == "success"
    job = UploadJob.objects.get()
    assert job.status == UploadJob.Status.QUEUED
    assert job.template == template
    assert job.account == template.account
    assert job.params["template_name"] == "录播模板"
    assert job.bytes_total == 130
    files = list(job.files.order_by("position"))
    assert [(f.path, f.recording_file) for f in files] == [
        (str(recordings / "a.flv"), a),
        (str(recordings / "c.flv"), c),
    ]
    assert len(callbacks) == 1  # the worker gets it once committed
    page = browser.get("/recordings/").content.decode()
    assert f'href="/uploads/#job-{job.pk}"' in page


def test_upload_needs_a_template_and_files(
    browser: Client, recordings: Path, template: Any
) -> None:
    segment = make_segment(make_session(), make_video(recordings))
    response = browser.post("/recordings/upload", {"files": [segment.pk]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose the upload template to upload with." in page
    # What was ticked stays ticked.
    assert re.search(
        rf'value="{segment.pk}" id="segment-{segment.pk}"[^>]* checked', page
    )
    response = browser.post("/recordings/upload", {"template": template.pk})
    assert response.status_code == 400
    assert "Tick the segments to upload first." in response.content.decode()
    assert not UploadJob.objects.exists()


def test_upload_refuses_files_outside_the_folder(
    browser: Client, recordings: Path, tmp_path: Path, template: Any
) -> None:
    outside = make_video(tmp_path / "elsewhere", "secret.flv")
    segment = make_segment(make_session(), outside)
    response = browser.post(
        "/recordings/upload", {"template": template.pk, "files": [segment.pk]}
    )
    assert response.status_code == 400
    assert (
        f"{outside}: only files inside the recordings folder can be used"
        in response.content.decode()
    )
    assert not UploadJob.objects.exists()


def test_upload_with_a_template_without_account_is_refused(
    browser: Client, recordings: Path
) -> None:
    bare = make_template("无账号模板")
    segment = make_segment(make_session(), make_video(recordings))
    response = browser.post(
        "/recordings/upload", {"template": bare.pk, "files": [segment.pk]}
    )
    assert response.status_code == 400
    page = response.content.decode()
    field = page.split('id="upload-selected-controls"')[1]
    assert "Choose the Bilibili account to upload with." in field
    assert not UploadJob.objects.exists()


def test_upload_only_takes_post(browser: Client) -> None:
    assert browser.get("/recordings/upload").status_code == 405
