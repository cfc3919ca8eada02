from __future__ import annotations

import time
from typing import Any

import pytest

from recorder.models import Streamer
from tests.conftest import JsonClient
from tests.factories import make_account, make_streamer, make_template
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db

DOCUMENTED = {
    "template_name": "新模板",
    "title": "{{title}}",
    "tid": 171,
    "tag": "游戏,直播",
    "copyright": 1,
    "source": "",
    "desc": "直播录像",
    "dynamic": "",
    "cover": "",
    "dolby": 0,
    "hires": 0,
    "no_reprint": 1,
    "open_elec": 1,
    "user_cookie": "cookies.json",
}


def test_it_creates_a_template_when_id_is_null(api: JsonClient) -> None:
    make_account("cookies.json")
    r = api.post("/api/v1/upload_streamers", {"id": None, **DOCUMENTED})
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in DOCUMENTED} == DOCUMENTED
    template = UploadTemplate.objects.get()
    assert body["id"] == template.pk
    assert template.tags == ["游戏", "直播"]
    assert template.account.value == "cookies.json"


def test_it_updates_when_id_is_set_and_keeps_what_is_not_sent(api: JsonClient) -> None:
    template = make_template(desc="kept", tid=17)
    r = api.post(
        "/api/v1/upload_streamers",
        {"id": template.pk, "template_name": "更新的模板", "title": "新标题"},
    )
    assert r.status_code == 200
    template.refresh_from_db()
    assert (template.template_name, template.title, template.desc, template.tid) == (
        "更新的模板",
        "新标题",
        "kept",
        17,
    )
    assert UploadTemplate.objects.count() == 1


def test_it_takes_biliups_own_field_names(api: JsonClient) -> None:
    body = {
        "template_name": "biliup",
        "copyright": 2,
        "copyright_source": "https://live.bilibili.com/1",
        "description": "简介",
        "cover_path": "cover.jpg",
        "charging_pay": 1,
        "tags": ["a", "b"],
        "extra_fields": '{"is_360": 0}',
        "credits": [{"type": 1, "content": "x"}],
        "up_close_danmu": True,
        "dtime": int(time.time()) + 86400,
    }
    saved = api.post("/api/v1/upload_streamers", body).json()
    assert saved["source"] == saved["copyright_source"] == "https://live.bilibili.com/1"
    assert saved["desc"] == saved["description"] == "简介"
    assert saved["cover"] == saved["cover_path"] == "cover.jpg"
    assert saved["open_elec"] == saved["charging_pay"] == 1
    assert saved["tag"] == "a,b"
    assert saved["extra_fields"] == {"is_360": 0}
    assert saved["up_close_danmu"] is True
    assert saved["dtime"] == body["dtime"]


def test_tags_are_split_on_both_commas_and_deduplicated(api: JsonClient) -> None:
    saved = api.post(
        "/api/v1/upload_streamers", {"template_name": "t", "tag": "游戏，直播, 游戏,,"}
    ).json()
    assert saved["tags"] == ["游戏", "直播"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "template_name: This field is required."),
        ({"template_name": "t", "tid": "171"}, "tid: Expected a whole number."),
        (
            {"template_name": "t", "copyright": 3},
            "copyright: Select a valid choice. 3 is not one of the available choices.",
        ),
        (
            {"template_name": "t", "tag": "录播", "copyright": 2},
            "source: A repost (copyright 2) needs its source.",
        ),
        ({"template_name": "t", "dolby": 2}, "dolby: Expected true, false, 0 or 1."),
        (
            {"template_name": "t", "dolby": "yes"},
            "dolby: Expected true, false, 0 or 1.",
        ),
        (
            {"template_name": "t", "tag": "录播", "user_cookie": "../cookies.json"},
            "user_cookie: Use an account name or a cookies file name such as cookies.json or data/12345.json.",
        ),
        (
            {"template_name": "t", "tag": ",".join(str(i) for i in range(11))},
            "tag: Bilibili takes at most 10 tags.",
        ),
        (
            {"template_name": "t", "tag": "x" * 21},
            "tag: Tags are at most 20 characters: '" + "x" * 21 + "'.",
        ),
        ({"template_name": "t", "tags": "a,b"}, "tags: Expected a list of strings."),
        (
            {"template_name": "t", "extra_fields": [1]},
            "extra_fields: Use a JSON object of submit fields.",
        ),
        (
            {"template_name": "t", "submit_api": "client"},
            "submit_api: Select a valid choice. client is not one of the available choices.",
        ),
        (
            {"template_name": "t", "dtime": -5},
            "dtime: Ensure this value is greater than or equal to 0.",
        ),
        (
            {"id": "1", "template_name": "t"},
            "id: Expected null (create) or the id of the template to update.",
        ),
    ],
)
def test_it_rejects_bad_input_and_leaves_no_row(
    api: JsonClient, body: dict[str, Any], message: str
) -> None:
    r = api.post("/api/v1/upload_streamers", body)
    assert r.status_code == 400
    assert r.json() == {"error": message}
    assert not UploadTemplate.objects.exists()


def test_it_rejects_a_duplicate_name(api: JsonClient) -> None:
    make_template("默认模板")
    r = api.post(
        "/api/v1/upload_streamers", {"template_name": "默认模板", "tag": "录播"}
    )
    assert r.json() == {
        "error": "template_name: An upload template with this name exists already."
    }


def test_update_of_an_unknown_id_is_404(api: JsonClient) -> None:
    assert (
        api.post(
            "/api/v1/upload_streamers", {"id": 999, "template_name": "x"}
        ).status_code
        == 404
    )


def test_it_lists_and_gets_templates(api: JsonClient) -> None:
    template = make_template()
    assert [t["id"] for t in api.get("/api/v1/upload_streamers").json()] == [
        template.pk
    ]
    assert (
        api.get(f"/api/v1/upload_streamers/{template.pk}").json()["template_name"]
        == "默认模板"
    )
    assert api.get("/api/v1/upload_streamers/999").status_code == 404


def test_delete_returns_the_template_and_spares_its_streamers(api: JsonClient) -> None:
    template = make_template()
    streamer = make_streamer(upload_template=template)
    r = api.delete(f"/api/v1/upload_streamers/{template.pk}")
    assert r.status_code == 200
    assert r.json()["template_name"] == "默认模板"
    assert not UploadTemplate.objects.exists()
    # biliup's cascade deleted the streamers too.
    assert Streamer.objects.get(pk=streamer.pk).upload_template is None


def test_biliups_route_names_answer_too(api: JsonClient) -> None:
    template = make_template()
    assert api.get("/v1/upload/streamers").json()[0]["id"] == template.pk
    assert api.get(f"/v1/upload/streamers/{template.pk}").status_code == 200
    assert (
        api.post(
            "/v1/upload/streamers", {"template_name": "b", "tag": "录播"}
        ).status_code
        == 200
    )


def test_it_needs_a_session(anon: JsonClient) -> None:
    template = make_template()
    assert anon.get("/api/v1/upload_streamers").status_code == 401
    assert (
        anon.post("/api/v1/upload_streamers", {"template_name": "x"}).status_code == 401
    )
    assert anon.get(f"/api/v1/upload_streamers/{template.pk}").status_code == 401
    assert anon.delete(f"/api/v1/upload_streamers/{template.pk}").status_code == 401
    assert UploadTemplate.objects.count() == 1
