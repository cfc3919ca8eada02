from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accounts.models import BilibiliAccount
from tests.conftest import JsonClient
from tests.factories import make_account

pytestmark = pytest.mark.django_db

COOKIES = {
    "cookie_info": {
        "cookies": [
            {"name": "SESSDATA", "value": "secret-sessdata"},
            {"name": "bili_jct", "value": "csrf"},
        ]
    },
    "token_info": {
        "access_token": "secret-token",
        "refresh_token": "r",
        "mid": 42,
        "expires_in": 15552000,
    },
    "sso": [],
    "platform": "BiliTV",
}


def test_it_lists_accounts_in_biliups_shape(api: JsonClient) -> None:
    make_account("cookies.json")
    [row] = api.get("/api/v1/users").json()
    assert {k: row[k] for k in ("id", "name", "value", "platform")} == {
        "id": row["id"],
        "name": "cookies.json",
        "value": "cookies.json",
        "platform": "bilibili-cookies",
    }


def test_it_adds_an_account_by_name(api: JsonClient) -> None:
    r = api.post(
        "/api/v1/users", {"key": "bilibili-cookies", "value": "new_cookies.json"}
    )
    assert r.status_code == 200
    assert r.json()["value"] == "new_cookies.json"
    assert r.json()["status"] == "no_credential"


def test_it_imports_a_cookies_file_from_the_data_folder(
    api: JsonClient, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    (tmp_path / "12345.json").write_text(json.dumps(COOKIES))
    r = api.post("/api/v1/users", {"key": "bilibili-cookies", "value": "12345.json"})
    assert r.status_code == 200
    account = BilibiliAccount.objects.get()
    assert account.credential == COOKIES
    assert account.mid == 42
    assert account.status == "unchecked"
    # Never returned, in any listing.
    assert "secret" not in r.content.decode()
    assert "secret" not in api.get("/api/v1/users").content.decode()


def test_it_refuses_a_data_file_that_is_not_a_cookies_file(
    api: JsonClient, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    (tmp_path / "broken.json").write_text("{not json")
    r = api.post("/api/v1/users", {"key": "bilibili-cookies", "value": "broken.json"})
    assert r.status_code == 400
    assert r.json()["error"].startswith(
        "value: broken.json in the data folder is not valid JSON"
    )
    assert not BilibiliAccount.objects.exists()


def test_it_refuses_a_link_out_of_the_data_folder(
    api: JsonClient, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    (tmp_path / "outside.json").write_text(json.dumps(COOKIES))
    (settings.DATA_DIR / "link.json").symlink_to(tmp_path / "outside.json")
    r = api.post("/api/v1/users", {"value": "link.json"})
    assert r.status_code == 400
    assert "link out of the data folder" in r.json()["error"]


@pytest.mark.parametrize(
    "value", ["../etc/passwd", "/etc/passwd", ".hidden", "a/b.json", "", "x" * 101]
)
def test_it_refuses_path_like_names(api: JsonClient, value: str) -> None:
    r = api.post("/api/v1/users", {"key": "bilibili-cookies", "value": value})
    assert r.status_code == 400
    assert r.json()["error"].startswith("value: ")
    assert not BilibiliAccount.objects.exists()


def test_it_refuses_other_configuration_keys(api: JsonClient) -> None:
    # biliup inserted any configuration row through this endpoint.
    r = api.post("/api/v1/users", {"key": "config", "value": "x.json"})
    assert r.status_code == 400
    assert (
        r.json()["error"] == "key: Only 'bilibili-cookies' accounts can be added here."
    )


@pytest.mark.parametrize("path", ["/api/v1/users", "/v1/users"])
@pytest.mark.parametrize("value", ["10086.json", "data/10086.json"])
def test_adding_an_existing_account_again_answers_it(
    api: JsonClient, path: str, value: str
) -> None:
    # biliup's UI posts the file its QR login wrote; here the login made the account already.
    account = make_account("10086.json", mid=10086)
    r = api.post(path, {"key": "bilibili-cookies", "value": value})
    assert r.status_code == 200
    assert r.json() == account.to_dict()
    assert BilibiliAccount.objects.count() == 1


def test_a_credential_for_an_existing_name_is_refused(api: JsonClient) -> None:
    make_account("cookies.json")
    r = api.post("/api/v1/users", {"value": "cookies.json", "credential": COOKIES})
    assert r.json() == {
        "error": "value: A Bilibili account with this name already exists."
    }
    assert BilibiliAccount.objects.get().credential is None


def test_delete_returns_the_account(api: JsonClient) -> None:
    account = make_account()
    r = api.delete(f"/api/v1/users/{account.pk}")
    assert r.status_code == 200
    assert r.json()["value"] == "cookies.json"
    assert not BilibiliAccount.objects.exists()
    assert api.delete(f"/api/v1/users/{account.pk}").status_code == 404


def test_it_needs_a_session(anon: JsonClient) -> None:
    assert anon.get("/api/v1/users").status_code == 401
    assert anon.post("/api/v1/users", {"value": "x.json"}).status_code == 401
    assert anon.delete("/api/v1/users/1").status_code == 401


def test_it_imports_a_cookies_document_sent_in_the_body(api: JsonClient) -> None:
    r = api.post(
        "/api/v1/users",
        {"key": "bilibili-cookies", "value": "imported.json", "credential": COOKIES},
    )
    assert r.status_code == 200
    account = BilibiliAccount.objects.get()
    assert account.credential == COOKIES
    assert account.mid == 42
    assert "secret" not in r.content.decode()


@pytest.mark.parametrize(
    "credential",
    [
        "SESSDATA=x",
        [],
        {"cookie_info": {}},
        {"cookie_info": {"cookies": [{"name": "SESSDATA"}]}, "token_info": {}},
        {"cookie_info": {"cookies": [{"name": "x", "value": "y"}]}, "token_info": {}},
    ],
)
def test_it_refuses_a_body_credential_that_is_not_a_cookies_document(
    api: JsonClient, credential: Any
) -> None:
    r = api.post("/api/v1/users", {"value": "imported.json", "credential": credential})
    assert r.status_code == 400
    assert r.json()["error"].startswith("credential is ")
    assert not BilibiliAccount.objects.exists()
