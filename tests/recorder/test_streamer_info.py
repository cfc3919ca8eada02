from __future__ import annotations

import pytest

from tests.conftest import JsonClient
from tests.factories import make_session, make_streamer

pytestmark = pytest.mark.django_db


def test_it_lists_sessions_in_both_shapes(api: JsonClient) -> None:
    streamer = make_streamer()
    session = make_session(
        streamer, files=2, template_name="默认模板", live_cover_path="/rec/cover.jpg"
    )
    [row] = api.get("/api/v1/streamer_info").json()
    # The documented fields.
    assert row["id"] == session.pk
    assert row["template_name"] == "默认模板"
    assert row["stream_title"] == "直播标题"
    assert row["streamer_name"] == "主播"
    assert row["start_time"] == session.start_time.isoformat()
    assert row["video_path"] == "/rec/part0.flv"
    # biliup's own route's fields.
    assert row["name"] == "主播"
    assert row["title"] == "直播标题"
    assert row["url"] == streamer.url
    assert row["date"] == int(session.start_time.timestamp())
    assert row["live_cover_path"] == "/rec/cover.jpg"


def test_it_lists_newest_first(api: JsonClient) -> None:
    old = make_session(title="old")
    new = make_session(title="new")
    assert [r["id"] for r in api.get("/api/v1/streamer_info").json()] == [
        new.pk,
        old.pk,
    ]


def test_it_lists_a_sessions_files(api: JsonClient) -> None:
    session = make_session(files=2)
    rows = api.get(f"/api/v1/streamer_info/{session.pk}/files").json()
    assert [r["file_path"] for r in rows] == ["/rec/part0.flv", "/rec/part1.flv"]
    assert rows[0] == {
        "id": rows[0]["id"],
        "streamer_info_id": session.pk,
        "file_path": "/rec/part0.flv",
        "file_size": 1000,
        "duration": 10.0,
        "file": "/rec/part0.flv",
        "gaps": [],
        "danmaku": {"path": "", "ass_path": "", "counts": {}},
    }


def test_biliups_route_names_answer_too(api: JsonClient) -> None:
    session = make_session(files=1)
    assert api.get("/v1/streamer-info").json()[0]["id"] == session.pk
    assert (
        api.get(f"/v1/streamer-info/files/{session.pk}").json()[0]["streamer_info_id"]
        == session.pk
    )


def test_files_of_an_unknown_session_is_404(api: JsonClient) -> None:
    r = api.get("/api/v1/streamer_info/999/files")
    assert r.status_code == 404
    assert "error" in r.json()


def test_it_needs_a_session(anon: JsonClient) -> None:
    session = make_session()
    assert anon.get("/api/v1/streamer_info").status_code == 401
    assert anon.get(f"/api/v1/streamer_info/{session.pk}/files").status_code == 401
