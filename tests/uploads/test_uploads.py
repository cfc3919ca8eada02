from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import JsonClient
from tests.factories import make_account, make_template, make_video
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db: None) -> Any:
    return make_account("cookies.json")


def test_it_queues_a_job_and_answers_an_empty_object(
    api: JsonClient, recordings: Path, account: Any
) -> None:
    a = make_video(recordings, "recording_1.flv", size=100)
    b = make_video(recordings, "streamer/recording_2.flv", size=50)
    r = api.post(
        "/api/v1/uploads",
        {
            "files": ["recording_1.flv", "streamer/recording_2.flv"],
            "params": {
                "title": "直播录像 2025-01-10",
                "tid": 171,
                "tag": "测试",
                "user_cookie": "cookies.json",
            },
        },
    )
    assert r.status_code == 200
    assert r.json() == {}
    job = UploadJob.objects.get()
    assert job.status == "queued"
    assert job.account == account
    assert job.bytes_total == 150
    assert [(f.path, f.size) for f in job.files.all()] == [(str(a), 100), (str(b), 50)]
    assert job.params["title"] == "直播录像 2025-01-10"
    assert job.params["tags"] == ["测试"]


def test_params_start_from_the_named_template(
    api: JsonClient, recordings: Path, account: Any
) -> None:
    template = make_template(desc="模板简介", tid=17, account=account)
    make_video(recordings)
    api.post(
        "/api/v1/uploads",
        {
            "files": ["seg.flv"],
            "params": {"template_name": "默认模板", "title": "覆盖"},
        },
    )
    job = UploadJob.objects.get()
    assert job.template == template
    assert (
        job.params["title"],
        job.params["desc"],
        job.params["tid"],
        job.params["user_cookie"],
    ) == ("覆盖", "模板简介", 17, "cookies.json")
    template.refresh_from_db()
    assert template.title == "{title}"  # the template itself is untouched


def test_an_absolute_path_inside_the_folder_is_fine(
    api: JsonClient, recordings: Path, account: Any
) -> None:
    path = make_video(recordings)
    r = api.post(
        "/api/v1/uploads",
        {
            "files": [str(path)],
            "params": {"user_cookie": "cookies.json", "tag": "录播"},
        },
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (None, "files: Expected a non-empty list of file names from /videos."),
        ([], "files: Expected a non-empty list of file names from /videos."),
        ("seg.flv", "files: Expected a non-empty list of file names from /videos."),
        ([1], "files: Expected a non-empty list of file names from /videos."),
        (["../secret.flv"], "files: ../secret.flv: '..' is not allowed"),
        (["sub/../../secret.flv"], "files: sub/../../secret.flv: '..' is not allowed"),
        (
            ["/etc/passwd"],
            "files: /etc/passwd: only files inside the recordings folder can be used",
        ),
        (
            ["link.flv"],
            "files: link.flv: only files inside the recordings folder can be used",
        ),
        (["missing.flv"], "files: missing.flv: no such file in the recordings folder"),
        (
            ["notes.txt"],
            "files: notes.txt: not a media file (.flv, .mp4, .ts, .mkv, .webm, .3gp, .m4v, .mov)",
        ),
        (["seg.flv", "seg.flv"], "files: The same file is listed twice."),
    ],
)
def test_it_only_touches_media_files_inside_the_recordings_folder(
    api: JsonClient,
    recordings: Path,
    tmp_path: Path,
    account: Any,
    files: Any,
    message: str,
) -> None:
    make_video(recordings)
    make_video(recordings, "notes.txt")
    outside = make_video(tmp_path, "secret.flv")
    (recordings / "link.flv").symlink_to(outside)
    r = api.post(
        "/api/v1/uploads",
        {"files": files, "params": {"user_cookie": "cookies.json", "tag": "录播"}},
    )
    assert r.status_code == 400
    assert r.json() == {"error": message}
    assert not UploadJob.objects.exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"tag": "录播"},
            "params.user_cookie: Choose the Bilibili account to upload with.",
        ),
        (
            {"user_cookie": "cookies.json"},
            "params.tag: Give at least one tag: Bilibili refuses an archive without tags.",
        ),
        (
            {"tag": "录播", "user_cookie": "../../etc/passwd"},
            "params.user_cookie: Use an account name or a cookies file name such as cookies.json or data/12345.json.",
        ),
        (
            {"user_cookie": "cookies.json", "template_name": "无此模板"},
            "params.template_name: No upload template named '无此模板'.",
        ),
        (
            {"user_cookie": "cookies.json", "tid": "x"},
            "params.tid: Expected a whole number.",
        ),
        ([], "params: Expected an object of upload settings."),
    ],
)
def test_it_validates_params(
    api: JsonClient, recordings: Path, account: Any, params: Any, message: str
) -> None:
    make_video(recordings)
    r = api.post("/api/v1/uploads", {"files": ["seg.flv"], "params": params})
    assert r.status_code == 400
    assert r.json() == {"error": message}
    assert not UploadJob.objects.exists()


def test_the_worker_claims_the_job_and_says_why_it_cannot_start(
    api: JsonClient,
    recordings: Path,
    account: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_video(recordings)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            "/api/v1/uploads",
            {
                "files": ["seg.flv"],
                "params": {"user_cookie": "cookies.json", "tag": "录播"},
            },
        )
    job = UploadJob.objects.get()
    assert job.attempts == 1
    assert job.status == "failed"
    assert job.error == (
        "The Bilibili account cookies.json has no login: log in, then retry"
    )
    [row] = api.get("/api/v1/upload_jobs").json()
    assert row["status"] == "failed"
    assert row["files"][0]["size"] == 1024


def test_the_worker_reports_a_file_that_vanished(
    api: JsonClient,
    recordings: Path,
    account: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account.credential = {"cookie_info": {"cookies": []}}
    account.save()
    path = make_video(recordings)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.post(
            "/api/v1/uploads",
            {
                "files": ["seg.flv"],
                "params": {"user_cookie": "cookies.json", "tag": "录播"},
            },
        )
    path.unlink()
    for callback in callbacks:
        callback()
    job = UploadJob.objects.get()
    assert job.status == "failed"
    assert job.error == f"{path} is gone from the recordings folder"


def test_it_needs_a_session(anon: JsonClient, recordings: Path) -> None:
    make_video(recordings)
    assert (
        anon.post("/api/v1/uploads", {"files": ["seg.flv"], "params": {}}).status_code
        == 401
    )
    assert anon.get("/api/v1/upload_jobs").status_code == 401
