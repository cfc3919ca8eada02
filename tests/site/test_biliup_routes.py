"""biliup's own routes (/v1) answer as its server does, /api/v1 as the REST document does:
flat streamer rows (and `inner`), `extra_fields` as text, and the configuration's `user`
cookie keys mapped to accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from recorder.models import Streamer
from tests.conftest import JsonClient
from tests.factories import make_account, make_streamer, make_template

pytestmark = pytest.mark.django_db


def a_cookies_document(mid: int) -> dict[str, Any]:
    return {
        "cookie_info": {
            "cookies": [
                {"name": "SESSDATA", "value": f"sess-{mid}"},
                {"name": "bili_jct", "value": "csrf"},
                {"name": "DedeUserID", "value": str(mid)},
            ]
        },
        "token_info": {"mid": mid, "access_token": "token"},
    }


@pytest.fixture
def data_dir(tmp_path: Path, settings: Any) -> Path:
    settings.DATA_DIR = tmp_path / "data-folder"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


# Streamer rows


def test_v1_rows_are_flat_and_keep_inner(api: JsonClient) -> None:
    template = make_template()
    make_streamer(upload_template=template, time_range=["20:00:00", "23:00:00"])
    [row] = api.get("/v1/streamers").json()
    assert row["id"] == row["inner"]["id"]
    assert (row["url"], row["remark"], row["status"], row["upload_status"]) == (
        "https://live.bilibili.com/123456",
        "主播",
        "Idle",
        "Idle",
    )
    assert row["upload_streamers_id"] == template.pk
    # biliup keeps time_range as JSON text, and its UI parses a string.
    assert json.loads(row["time_range"]) == ["20:00:00", "23:00:00"]
    assert row["inner"]["time_range"] == ["20:00:00", "23:00:00"]


def test_api_v1_rows_follow_the_document_and_are_flat_too(api: JsonClient) -> None:
    make_streamer()
    [row] = api.get("/api/v1/streamers").json()
    assert {"status", "upload_status", "inner"} <= row.keys()
    assert {"id", "url", "template_name", "remark", "split_time", "split_size"} <= row[
        "inner"
    ].keys()
    assert row["url"] == row["inner"]["url"]
    assert row["time_range"] is None


def test_ui_edit_pause_and_delete_from_a_flat_row(api: JsonClient) -> None:
    first, second = make_template("a"), make_template("b")
    make_streamer(upload_template=first)
    [row] = api.get("/v1/streamers").json()
    # What TemplateModal's save sends: the whole row, minus the status keys, template picked
    # by id, time_range as JSON text of ISO times.
    body = {k: v for k, v in row.items() if k not in ("status", "upload_status")}
    body |= {
        "remark": "改名",
        "upload_streamers_id": second.pk,
        "time_range": json.dumps(
            ["2024-01-01T12:00:00.000Z", "2024-01-01T14:00:00.000Z"]
        ),
    }
    r = api.put("/v1/streamers", body)
    assert r.status_code == 200, r.content
    assert r.json()["upload_streamers_id"] == second.pk
    streamer = Streamer.objects.get()
    assert (streamer.remark, streamer.upload_template) == ("改名", second)
    assert streamer.time_range == [
        "2024-01-01T12:00:00.000Z",
        "2024-01-01T14:00:00.000Z",
    ]

    # PauseButton: PUT with no body and no Content-Type.
    r = api.generic("PUT", f"/v1/streamers/{row['id']}/pause")
    assert r.status_code == 200
    assert api.get("/v1/streamers").json()[0]["status"] == "Pause"

    r = api.delete(f"/v1/streamers/{row['id']}")
    assert r.status_code == 200
    assert not Streamer.objects.exists()


def test_the_documents_template_name_wins_on_api_v1(api: JsonClient) -> None:
    first, second = make_template("a"), make_template("b")
    streamer = make_streamer(upload_template=first)
    body = {"id": streamer.pk, "template_name": "b", "upload_streamers_id": first.pk}
    assert api.put("/api/v1/streamers", body).status_code == 200
    assert Streamer.objects.get().upload_template == second


def test_upload_streamers_id_alone_picks_or_clears_the_template(
    api: JsonClient,
) -> None:
    template = make_template()
    streamer = make_streamer()
    body = {"id": streamer.pk, "upload_streamers_id": template.pk}
    assert api.put("/api/v1/streamers", body).status_code == 200
    assert Streamer.objects.get().upload_template == template
    assert (
        api.put("/v1/streamers", body | {"upload_streamers_id": None}).json()[
            "upload_streamers_id"
        ]
        is None
    )


@pytest.mark.parametrize("pk", [999, "1"])
def test_a_bad_upload_streamers_id_is_a_field_error(api: JsonClient, pk: Any) -> None:
    streamer = make_streamer()
    r = api.put("/v1/streamers", {"id": streamer.pk, "upload_streamers_id": pk})
    assert r.status_code == 400
    assert r.json()["error"].startswith("upload_streamers_id: ")


# extra_fields


@pytest.mark.parametrize("extra", ['{"is_360": 0}', {"is_360": 0}])
def test_extra_fields_take_text_or_an_object(api: JsonClient, extra: Any) -> None:
    body = {
        "id": None,
        "template_name": "t",
        "title": "{title}",
        "tid": 171,
        "tags": ["游戏"],
    }
    r = api.post("/v1/upload/streamers", body | {"extra_fields": extra})
    assert r.status_code == 200, r.content
    # biliup's UI binds it to a text area: text on /v1, the object on /api/v1.
    assert json.loads(r.json()["extra_fields"]) == {"is_360": 0}
    pk = r.json()["id"]
    assert api.get(f"/api/v1/upload_streamers/{pk}").json()["extra_fields"] == {
        "is_360": 0
    }
    assert json.loads(api.get(f"/v1/upload/streamers/{pk}").json()["extra_fields"]) == {
        "is_360": 0
    }


def test_empty_extra_fields_are_null_on_v1(api: JsonClient) -> None:
    body = {
        "id": None,
        "template_name": "t",
        "title": "{title}",
        "tid": 171,
        "tags": ["游戏"],
    }
    r = api.post("/v1/upload/streamers", body | {"extra_fields": ""})
    assert r.status_code == 200, r.content
    assert r.json()["extra_fields"] is None
    assert api.get("/api/v1/upload_streamers").json()[0]["extra_fields"] == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("{key: 'value'}", "extra_fields: Enter a valid JSON."),
        ("[1, 2]", "extra_fields: Use a JSON object of submit fields."),
        ('"text"', "extra_fields: Use a JSON object of submit fields."),
        (7, "extra_fields: Use a JSON object of submit fields."),
    ],
)
def test_extra_fields_must_be_a_json_object(
    api: JsonClient, extra: Any, message: str
) -> None:
    body = {
        "id": None,
        "template_name": "t",
        "title": "{title}",
        "tid": 171,
        "tags": ["游戏"],
    }
    r = api.post("/v1/upload/streamers", body | {"extra_fields": extra})
    assert (r.status_code, r.json()) == (400, {"error": message, "message": message})


# The configuration's user section


def test_get_shows_the_accounts_as_biliups_user_keys(api: JsonClient) -> None:
    assert api.get("/v1/configuration").json()["user"]["bili_cookie_file"] is None
    make_account("cookies.json", credential=a_cookies_document(1))
    user = api.get("/v1/configuration").json()["user"]
    assert user["bili_cookie_file"] == "cookies.json"
    assert user["bili_cookie"] is None
    assert "sess-1" not in api.get("/api/v1/configuration").content.decode()


def test_the_dashboards_save_round_trips(api: JsonClient) -> None:
    make_account("cookies.json", credential=a_cookies_document(1))
    config = api.get("/v1/configuration").json()
    r = api.put("/v1/configuration", config | {"threads": 6})
    assert r.status_code == 200, r.content
    assert Configuration.load().threads == 6
    assert BilibiliAccount.objects.count() == 1


def test_a_cookie_file_is_imported_as_an_account(
    api: JsonClient, data_dir: Path
) -> None:
    (data_dir / "cookies.json").write_text(json.dumps(a_cookies_document(42)))
    r = api.put(
        "/v1/configuration",
        {"threads": 5, "user": {"bili_cookie_file": "cookies.json"}},
    )
    assert r.status_code == 200, r.content
    account = BilibiliAccount.objects.get()
    assert (account.value, account.mid) == ("cookies.json", 42)
    assert r.json()["user"]["bili_cookie_file"] == "cookies.json"
    assert Configuration.load().threads == 5


def test_a_file_of_a_known_mid_is_that_account(api: JsonClient, data_dir: Path) -> None:
    make_account("old.json", mid=42)
    (data_dir / "new.json").write_text(json.dumps(a_cookies_document(42)))
    r = api.put("/v1/configuration", {"user": {"bili_cookie_file": "new.json"}})
    assert r.status_code == 200
    assert list(BilibiliAccount.objects.values_list("value", flat=True)) == ["old.json"]


def test_an_unusable_file_refuses_the_whole_edit(
    api: JsonClient, data_dir: Path
) -> None:
    (data_dir / "cookies.json").write_text('{"cookie_info": {}}')
    r = api.put(
        "/api/v1/configuration",
        {"threads": 7, "user": {"bili_cookie_file": "cookies.json"}},
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("user.bili_cookie_file: cookies.json can't be")
    assert Configuration.load().threads == 3


def test_a_refused_field_undoes_the_import(api: JsonClient, data_dir: Path) -> None:
    (data_dir / "cookies.json").write_text(json.dumps(a_cookies_document(42)))
    r = api.put(
        "/v1/configuration",
        {"threads": 0, "user": {"bili_cookie_file": "cookies.json"}},
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("threads: ")
    assert not BilibiliAccount.objects.exists()


def test_a_pasted_cookie_becomes_an_account_not_configuration(
    api: JsonClient,
) -> None:
    cookie = "SESSDATA=abc%2C123; bili_jct=csrf; DedeUserID=77"
    r = api.put("/v1/configuration", {"user": {"bili_cookie": cookie}})
    assert r.status_code == 200, r.content
    account = BilibiliAccount.objects.get()
    assert (account.value, account.mid) == ("77.json", 77)
    cookies = {
        c["name"]: c["value"] for c in account.credential["cookie_info"]["cookies"]
    }
    assert cookies["SESSDATA"] == "abc%2C123"
    assert "abc%2C123" not in api.get("/v1/configuration").content.decode()
    # The same login again is the same account, left as it was.
    r = api.put("/v1/configuration", {"user": {"bili_cookie": cookie + "; x=1"}})
    assert r.status_code == 200
    assert BilibiliAccount.objects.count() == 1


def test_empty_user_keys_are_not_set(api: JsonClient) -> None:
    user = dict.fromkeys(("bili_cookie", "douyin_cookie", "youtube_cookie"), "")
    r = api.put(
        "/v1/configuration", {"threads": 4, "user": user | {"twitch_cookie": None}}
    )
    assert r.status_code == 200
    assert Configuration.load().threads == 4


def test_an_unknown_user_key_is_refused(api: JsonClient) -> None:
    r = api.put("/v1/configuration", {"user": {"password": "x"}})
    assert (r.status_code, r.json()) == (
        400,
        {
            "error": "user.password: Unknown key.",
            "message": "user.password: Unknown key.",
        },
    )
    r = api.put("/v1/configuration", {"user": "cookies.json"})
    assert (r.status_code, r.json()) == (
        400,
        {"error": "user: Expected an object.", "message": "user: Expected an object."},
    )
