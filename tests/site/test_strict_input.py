"""Bodies the shared layer refuses before any view: too deep, unstorable, too large, untyped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from biliup_site.models import Configuration
from recorder.models import Streamer
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000


def _refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.content[:200]
    assert words in response.json()["error"]


def test_deep_nesting_is_a_400_not_a_recursion_error(
    api: JsonClient, anon: JsonClient
) -> None:
    raw = {"content_type": "application/json"}
    _refused(api.generic("POST", "/api/v1/streamers", DEEP, **raw), 400, "nested")
    _refused(anon.generic("POST", "/api/v1/users/login", DEEP, **raw), 400, "nested")
    # JSON text inside a field (biliup's UI sends time_range so) goes through the same reader.
    r = api.post(
        "/v1/streamers", {"url": "https://live.bilibili.com/1", "time_range": DEEP}
    )
    _refused(r, 400, "time_range")
    # And the cookies.json import page answers with its form.
    r = Client.post(api, "/accounts/import", {"text": DEEP})
    assert r.status_code == 200
    assert "nested more than 64 levels" in r.content.decode()
    assert not Streamer.objects.exists()


def test_lone_surrogates_are_refused_in_strings_and_keys(
    api: JsonClient, anon: JsonClient
) -> None:
    _refused(
        anon.post("/api/v1/users/login", {"username": "\ud800", "password": "x"}),
        400,
        "lone surrogate",
    )
    _refused(
        api.post(
            "/api/v1/streamers",
            {"url": "https://live.bilibili.com/1", "remark": "a\udfffb"},
        ),
        400,
        "lone surrogate",
    )
    _refused(
        api.put("/api/v1/configuration", {"lines": "AUTO", "x\ud800": 1}),
        400,
        "lone surrogate",
    )
    _refused(
        api.post("/api/v1/streamers", {"url": "https://live.bilibili.com/1\x00"}),
        400,
        "NUL",
    )
    # A proper pair is one character, and welcome.
    r = api.post(
        "/api/v1/streamers",
        {"url": "https://live.bilibili.com/1", "remark": "\ud83d\ude00"},
    )
    assert r.status_code == 200
    assert Streamer.objects.get().remark == "\U0001f600"


def test_an_unclosed_ipv6_address_is_a_form_error(api: JsonClient) -> None:
    _refused(api.post("/api/v1/streamers", {"url": "http://[::1"}), 400, "url: ")
    for kind in ("webhook", "apprise"):
        r = api.post("/api/v1/hooks", {"kind": kind, "name": "x", "url": "http://[::1"})
        _refused(r, 400, "url: ")


def test_unknown_configuration_keys_are_named_on_the_api(api: JsonClient) -> None:
    r = api.put("/api/v1/configuration", {"threads": 5, "thraeds": 6, "zz": 1})
    _refused(r, 400, "thraeds, zz")
    assert Configuration.load().threads != 5
    # What a read gives can be sent back as it is, read-only keys included.
    config = api.get("/api/v1/configuration").json()
    assert api.put("/api/v1/configuration", config | {"threads": 5}).status_code == 200
    # biliup's UI sends its whole configuration back; keys it alone knows are ignored there.
    r = api.put("/v1/configuration", {"threads": 7, "douyu_danmaku": True})
    assert r.status_code == 200
    assert Configuration.load().threads == 7


def test_a_too_large_body_gets_the_json_error_shape(
    api: JsonClient, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = api.post(
        "/api/v1/streamers", {"url": "https://live.bilibili.com/1" + "1" * 2000}
    )
    _refused(r, 413, "larger than 1000 bytes")
    assert r["Content-Type"] == "application/json"


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr/share/x", "/var/lib/y", "/tmp"])
def test_recordings_dir_may_not_be_a_system_folder(
    api: JsonClient, folder: str
) -> None:
    r = api.put("/api/v1/configuration", {"recordings_dir": folder})
    _refused(r, 400, "recordings_dir: ")


def test_recordings_dir_may_not_hold_the_data_folder(
    api: JsonClient, tmp_path: Path
) -> None:
    data_dir = Path(django_settings.DATA_DIR)
    r = api.put("/api/v1/configuration", {"recordings_dir": f"{data_dir}/x/.."})
    _refused(r, 400, "data folder")
    r = api.put("/api/v1/configuration", {"recordings_dir": str(tmp_path)})
    assert r.status_code == 200


def test_a_cookie_post_without_content_type_is_refused(api: JsonClient) -> None:
    body = '{"url": "https://live.bilibili.com/1"}'
    r = api.generic("POST", "/api/v1/streamers", body, CONTENT_TYPE="")
    _refused(r, 415, "Content-Type: application/json")
    assert not Streamer.objects.exists()
    # No body needs no type: biliup's UI pauses a streamer so.
    streamer = Streamer.objects.create(url="https://live.bilibili.com/2")
    r = api.generic("PUT", f"/v1/streamers/{streamer.pk}/pause", CONTENT_TYPE="")
    assert r.status_code == 200


def test_a_nul_in_the_query_path_or_a_cookie_is_a_400_on_both_databases(
    api: JsonClient,
) -> None:
    # PostgreSQL can't hold a NUL: each of these was a 500 in the scale profile, found by
    # test_fuzz.py (myinfo?user=…%00…), while SQLite answered them.
    _refused(api.get("/api/v1/myinfo?user=a%00b"), 400, "query string")
    _refused(api.get("/api/v1/upload_jobs?status=%00"), 400, "query string")
    _refused(api.get("/api/v1/creators/1/videos/BV%00x"), 400, "path")
    api.cookies["sessionid"] = "abc\x00def"
    _refused(api.get("/api/v1/streamers"), 400, "cookie")
    # The pages answer the same refusal as text.
    page = Client().get("/streamers/?q=%00")
    assert page.status_code == 400
    assert "NUL" in page.content.decode()
