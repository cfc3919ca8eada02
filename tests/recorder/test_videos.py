from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import JsonClient
from tests.factories import make_video

pytestmark = pytest.mark.django_db


def test_it_lists_media_files_newest_first(api: JsonClient, recordings: Path) -> None:
    old = make_video(recordings, "a.flv", size=100)
    new = make_video(recordings, "streamer/b.mp4", size=200)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_000_100, 1_700_000_100))
    assert api.get("/api/v1/videos").json() == [
        {"key": 1, "name": "streamer/b.mp4", "updateTime": 1_700_000_100, "size": 200},
        {"key": 2, "name": "a.flv", "updateTime": 1_700_000_000, "size": 100},
    ]


def test_it_skips_what_is_not_a_finished_recording(
    api: JsonClient, recordings: Path, tmp_path: Path
) -> None:
    make_video(recordings, "recording.flv.part")
    make_video(recordings, "notes.txt")
    make_video(recordings, ".hidden/x.flv")
    outside = make_video(tmp_path, "secret.flv")
    (recordings / "link.flv").symlink_to(outside)
    (recordings / "linkdir").symlink_to(tmp_path)
    assert api.get("/api/v1/videos").json() == []


def test_it_answers_an_empty_list_when_the_folder_is_missing(
    api: JsonClient, recordings: Path
) -> None:
    recordings.rmdir()
    assert api.get("/api/v1/videos").json() == []


def test_it_needs_a_session(anon: JsonClient) -> None:
    assert anon.get("/api/v1/videos").status_code == 401
