from __future__ import annotations

from typing import Any

import pytest

from recorder.models import Streamer, StreamerInfo
from tests.conftest import JsonClient
from tests.factories import make_account, make_session, make_streamer, make_template
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db

NEW = {
    "url": "https://live.bilibili.com/123456",
    "template_name": "默认模板",
    "remark": "主播备注",
    "split_time": 3600,
    "split_size": 2048,
}


def test_it_creates_a_streamer(api: JsonClient) -> None:
    make_template()
    r = api.post("/api/v1/streamers", NEW)
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in NEW} == NEW
    assert body["id"] == Streamer.objects.get().pk


def test_it_fills_in_the_documented_defaults(api: JsonClient) -> None:
    body = api.post("/api/v1/streamers", {"url": "https://live.bilibili.com/1"}).json()
    assert body["split_time"] == 3600
    assert body["split_size"] == 2048
    assert body["template_name"] is None
    assert body["remark"] == ""


def test_it_lists_rows_as_status_upload_status_inner(api: JsonClient) -> None:
    streamer = make_streamer(upload_template=make_template())
    [row] = api.get("/api/v1/streamers").json()
    assert row["status"] == "Idle"
    assert row["upload_status"] == "Idle"
    assert row["inner"]["id"] == streamer.pk
    assert row["inner"]["template_name"] == "默认模板"


@pytest.mark.parametrize(
    ("state", "paused", "status"),
    [
        ("idle", False, "Idle"),
        ("checking", False, "Idle"),
        ("waiting", False, "Idle"),
        ("recording", False, "Working"),
        ("recording", True, "Pause"),
    ],
)
def test_status_keeps_to_biliups_three_values(
    api: JsonClient, state: str, paused: bool, status: str
) -> None:
    make_streamer(state=state, paused=paused)
    [row] = api.get("/api/v1/streamers").json()
    assert row["status"] == status
    assert row["state"] == ("paused" if paused else state)


def test_upload_status_follows_the_jobs(api: JsonClient) -> None:
    streamer = make_streamer()
    job = UploadJob.objects.create(
        streamer=streamer, account=make_account(), status="running"
    )
    assert api.get("/api/v1/streamers").json()[0]["upload_status"] == "Working"
    job.status = "done"
    job.save()
    assert api.get("/api/v1/streamers").json()[0]["upload_status"] == "Idle"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "url: This field is required."),
        ({"url": "not a url"}, "url: Enter a valid URL."),
        ({"url": "hls://not a url"}, "url: Enter a valid URL."),
        (
            {"url": "hls://ftp://example.com/live.m3u8"},
            "url: Use an http:// or https:// URL of a live room (or hls://, httpstream:// followed by a stream's URL).",
        ),
        (
            {"url": "ftp://live.bilibili.com/1"},
            "url: Use an http:// or https:// URL of a live room (or hls://, httpstream:// followed by a stream's URL).",
        ),
        ({"url": 123}, "url: Expected a string."),
        (
            {"url": "https://live.bilibili.com/1", "template_name": "无此模板"},
            "template_name: No upload template named '无此模板'.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "split_time": "3600"},
            "split_time: Expected a whole number.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "split_time": -1},
            "split_time: Ensure this value is greater than or equal to 0.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "split_time": 3},
            "split_time: Use 0 (no time split) or at least 10 seconds.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "split_size": True},
            "split_size: Expected a whole number.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "remark": ["a"]},
            "remark: Expected a string.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "excluded_keywords": "回放"},
            "excluded_keywords: Enter a valid JSON.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "excluded_keywords": [1]},
            "excluded_keywords: Use a list of words.",
        ),
        (
            {"url": "https://live.bilibili.com/1", "time_range": ["1"]},
            "time_range: Use two times: [start, end].",
        ),
        (
            {"url": "https://live.bilibili.com/1", "override": [1]},
            "override: Use an object of option names and values.",
        ),
    ],
)
def test_create_rejects_bad_input_and_leaves_no_row(
    api: JsonClient, body: dict[str, Any], message: str
) -> None:
    r = api.post("/api/v1/streamers", body)
    assert r.status_code == 400
    assert r.json() == {"error": message}
    assert not Streamer.objects.exists()


def test_create_rejects_a_duplicate_url(api: JsonClient) -> None:
    make_streamer(url="https://live.bilibili.com/1")
    r = api.post("/api/v1/streamers", {"url": "https://live.bilibili.com/1"})
    assert r.json() == {"error": "url: A streamer with this URL exists already."}
    assert Streamer.objects.count() == 1


def test_update_changes_only_what_is_sent(api: JsonClient) -> None:
    make_template("新模板")
    streamer = make_streamer(remark="old", split_time=60, override={"bili_qn": 10000})
    r = api.put(
        "/api/v1/streamers",
        {"id": streamer.pk, "template_name": "新模板", "remark": "更新后的备注"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["template_name"] == "新模板"
    assert body["remark"] == "更新后的备注"
    assert body["split_time"] == 60
    assert body["override"] == {"bili_qn": 10000}
    assert body["url"] == streamer.url


def test_the_chat_switches_are_read_and_written(api: JsonClient) -> None:
    created = api.post("/api/v1/streamers", {"url": "https://live.bilibili.com/9"})
    body = created.json()
    assert (body["record_danmaku"], body["danmaku_ass"]) == (True, False)
    body = api.put(
        "/api/v1/streamers",
        {"id": body["id"], "record_danmaku": False, "danmaku_ass": True},
    ).json()
    assert (body["record_danmaku"], body["danmaku_ass"]) == (False, True)
    [row] = api.get("/api/v1/streamers").json()
    assert (row["inner"]["record_danmaku"], row["danmaku_ass"]) == (False, True)
    r = api.put("/api/v1/streamers", {"id": body["id"], "danmaku_ass": "yes"})
    assert r.status_code == 400
    assert r.json() == {"error": "danmaku_ass: Expected true, false, 0 or 1."}


def test_update_can_clear_the_template(api: JsonClient) -> None:
    streamer = make_streamer(upload_template=make_template())
    body = api.put(
        "/api/v1/streamers", {"id": streamer.pk, "template_name": None}
    ).json()
    assert body["template_name"] is None


def test_update_needs_an_id(api: JsonClient) -> None:
    assert api.put("/api/v1/streamers", {"remark": "x"}).json() == {
        "error": "id: Expected the id of the streamer to update."
    }
    assert api.put("/api/v1/streamers", {"id": "1"}).status_code == 400


def test_update_of_an_unknown_id_is_404(api: JsonClient) -> None:
    r = api.put("/api/v1/streamers", {"id": 999, "remark": "x"})
    assert r.status_code == 404
    assert "error" in r.json()


def test_update_rejects_bad_input_and_keeps_the_row(api: JsonClient) -> None:
    streamer = make_streamer(remark="kept")
    r = api.put(
        "/api/v1/streamers",
        {"id": streamer.pk, "remark": "changed", "split_size": "big"},
    )
    assert r.status_code == 400
    streamer.refresh_from_db()
    assert streamer.remark == "kept"


def test_update_cannot_take_another_streamers_url(api: JsonClient) -> None:
    make_streamer(url="https://live.bilibili.com/1")
    other = make_streamer(url="https://live.bilibili.com/2")
    r = api.put(
        "/api/v1/streamers", {"id": other.pk, "url": "https://live.bilibili.com/1"}
    )
    assert r.json() == {"error": "url: A streamer with this URL exists already."}


def test_delete_returns_the_streamer_and_keeps_its_history(api: JsonClient) -> None:
    streamer = make_streamer()
    session = make_session(streamer, files=2)
    r = api.delete(f"/api/v1/streamers/{streamer.pk}")
    assert r.status_code == 200
    assert r.json()["url"] == streamer.url
    assert not Streamer.objects.exists()
    session = StreamerInfo.objects.get(pk=session.pk)
    assert session.streamer is None
    assert session.files.count() == 2


def test_delete_of_an_unknown_id_is_404(api: JsonClient) -> None:
    assert api.delete("/api/v1/streamers/999").status_code == 404


def test_get_one_streamer(api: JsonClient) -> None:
    streamer = make_streamer()
    assert (
        api.get(f"/api/v1/streamers/{streamer.pk}").json()["inner"]["id"] == streamer.pk
    )


def test_pause_toggles_as_documented(api: JsonClient) -> None:
    streamer = make_streamer(state="recording")
    assert api.get("/api/v1/streamers").json()[0]["status"] == "Working"
    r = api.post(f"/api/v1/streamers/{streamer.pk}/pause")
    assert r.status_code == 200
    assert r.json()["status"] == "Pause"
    r = api.post(f"/api/v1/streamers/{streamer.pk}/pause")
    assert (
        r.json()["status"] == "Working"
    )  # the recorder had not stopped yet: state is still recording
    Streamer.objects.filter(pk=streamer.pk).update(state="idle")
    assert (
        api.post(f"/api/v1/streamers/{streamer.pk}/pause").json()["status"] == "Pause"
    )
    assert api.post(f"/api/v1/streamers/{streamer.pk}/pause").json()["status"] == "Idle"


def test_pause_answers_on_biliups_put_too(api: JsonClient) -> None:
    streamer = make_streamer()
    assert api.put(f"/v1/streamers/{streamer.pk}/pause").json()["status"] == "Pause"


def test_pause_works_without_a_body_like_curl(api: JsonClient) -> None:
    streamer = make_streamer()
    # curl -X POST sends no Content-Type at all.
    r = api.generic(
        "POST", f"/api/v1/streamers/{streamer.pk}/pause", b"", content_type=""
    )
    assert r.status_code == 200


def test_pause_of_an_unknown_id_is_404(api: JsonClient) -> None:
    assert api.post("/api/v1/streamers/999/pause").status_code == 404


def test_it_needs_a_session(anon: JsonClient) -> None:
    streamer = make_streamer()
    assert anon.get("/api/v1/streamers").status_code == 401
    assert anon.post("/api/v1/streamers", NEW).status_code == 401
    assert anon.put("/api/v1/streamers", {"id": streamer.pk}).status_code == 401
    assert anon.delete(f"/api/v1/streamers/{streamer.pk}").status_code == 401
    assert anon.post(f"/api/v1/streamers/{streamer.pk}/pause").status_code == 401
    assert Streamer.objects.filter(pk=streamer.pk, paused=False).exists()


def test_other_methods_are_405(api: JsonClient) -> None:
    r = api.delete("/api/v1/streamers")
    assert r.status_code == 405
    assert r["Allow"] == "GET, POST, PUT"


def test_biliups_processors_are_kept_given_back_and_checked(api: JsonClient) -> None:
    hooks = {
        "postprocessor": [{"run": "echo done"}, "rm"],
        "opt_args": ["-loglevel", "error"],
    }
    r = api.post("/api/v1/streamers", {"url": "https://live.bilibili.com/9", **hooks})
    assert r.status_code == 200, r.content
    streamer = Streamer.objects.get()
    assert streamer.hooks == hooks
    # A PUT that leaves them out keeps them; null clears one.
    api.put("/api/v1/streamers", {"id": streamer.pk, "remark": "改名"})
    api.put("/api/v1/streamers", {"id": streamer.pk, "opt_args": None})
    streamer.refresh_from_db()
    assert streamer.hooks == {"postprocessor": hooks["postprocessor"]}
    assert streamer.to_dict()["preprocessor"] is None

    for bad in ({"postprocessor": "rm -rf /"}, {"opt_args": [1, 2]}):
        r = api.put("/api/v1/streamers", {"id": streamer.pk, **bad})
        assert r.status_code == 400
        assert r.json()["error"].startswith(next(iter(bad)))
