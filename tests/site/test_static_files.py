"""GET /static/<path>: recordings for biliup's history player, with Range; the site's logs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from accounts.models import ApiToken
from tests.conftest import JsonClient

BODY = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def video(recordings: Path) -> Path:
    path = recordings / "room 1" / "直播-01.flv"
    path.parent.mkdir(parents=True)
    path.write_bytes(BODY)
    return path


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_it_serves_a_recording_whole(api: JsonClient, video: Path) -> None:
    response = api.get("/static/room%201/直播-01.flv")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/x-flv"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(BODY))
    assert content(response) == BODY


def test_it_answers_a_range_with_206(api: JsonClient, video: Path) -> None:
    response = api.get("/static/room 1/直播-01.flv", HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(BODY)}"
    assert response["Content-Length"] == "100"
    assert content(response) == BODY[100:200]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("bytes=10000-", slice(10000, None)), ("bytes=-40", slice(-40, None))],
)
def test_it_answers_open_and_suffix_ranges(
    api: JsonClient, video: Path, header: str, expected: slice
) -> None:
    response = api.get("/static/room 1/直播-01.flv", HTTP_RANGE=header)
    assert response.status_code == 206
    assert content(response) == BODY[expected]


def test_it_refuses_a_range_past_the_end(api: JsonClient, video: Path) -> None:
    response = api.get("/static/room 1/直播-01.flv", HTTP_RANGE="bytes=99999-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(BODY)}"


def test_it_ignores_ranges_it_does_not_serve(api: JsonClient, video: Path) -> None:
    response = api.get("/static/room 1/直播-01.flv", HTTP_RANGE="bytes=0-1,5-6")
    assert response.status_code == 200
    assert content(response) == BODY


def test_it_answers_head_without_a_body(api: JsonClient, video: Path) -> None:
    response = api.head("/static/room 1/直播-01.flv")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(BODY))
    assert content(response) == b""


def test_it_refuses_anonymous_users(anon: JsonClient, video: Path) -> None:
    response = anon.get("/static/room 1/直播-01.flv")
    assert response.status_code == 401
    assert b"FLV" not in response.content


def test_it_accepts_an_api_token(alice: User, video: Path) -> None:
    _token, raw = ApiToken.objects.issue(alice, "player")
    response = JsonClient().get(
        "/static/room 1/直播-01.flv", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "../secret.flv",
        "room 1/../../secret.flv",
        "link.flv",
        "notes.txt",
        "missing.flv",
    ],
)
def test_it_serves_nothing_outside_the_recordings_folder(
    api: JsonClient, recordings: Path, name: str
) -> None:
    outside = recordings.parent / "secret.flv"
    outside.write_bytes(b"secret")
    os.symlink(outside, recordings / "link.flv")
    (recordings / "notes.txt").write_text("not a recording")
    response = api.get(f"/static/{name}")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_it_refuses_an_absolute_path(api: JsonClient, recordings: Path) -> None:
    outside = recordings.parent / "secret.flv"
    outside.write_bytes(b"secret")
    response = api.get(f"/static/{outside}")
    assert response.status_code == 404


def test_it_serves_the_sites_logs_by_name_only(
    api: JsonClient, settings: Any, tmp_path: Path
) -> None:
    settings.LOG_DIR = tmp_path
    (tmp_path / "biliup.log").write_text("one\ntwo\n")
    response = api.get("/static/ds_update.log")  # biliup's name for the main log
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert content(response) == b"one\ntwo\n"
    assert api.get("/static/upload.log").status_code == 404  # no lines yet
