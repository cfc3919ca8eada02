from __future__ import annotations

from typing import Any

import pytest

from accounts.models import BilibiliAccount
from tests.conftest import JsonClient
from tests.factories import log_in_by_tv_qr, make_account

pytestmark = pytest.mark.django_db


def test_myinfo_answers_for_a_logged_in_account(api: JsonClient, fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    r = api.get("/api/v1/myinfo", {"user": account.value})
    assert r.status_code == 200
    body = r.json()
    assert body["mid"] == 10086
    assert body["uname"] == body["name"]
    assert body["face"]


def test_biliups_route_passes_bilibilis_envelope_through(
    api: JsonClient, fakebili: Any
) -> None:
    # biliup's UI reads res.data.face and checks res.code.
    account = log_in_by_tv_qr(fakebili)
    body = api.get("/bili/space/myinfo", {"user": account.value}).json()
    assert (body["code"], body["message"], body["ttl"]) == (0, "0", 1)
    assert body["data"]["mid"] == 10086
    assert body["data"]["face"]
    # A name as biliup's login answers it ("data/<mid>.json") is that account too.
    r = api.get("/bili/space/myinfo", {"user": f"data/{account.value}"})
    assert r.json()["data"]["mid"] == 10086


@pytest.mark.parametrize(
    "user", ["../../etc/passwd", "/root/cookies.json", "missing.json"]
)
def test_myinfo_takes_account_names_only(
    api: JsonClient, fakebili: Any, user: str
) -> None:
    r = api.get("/api/v1/myinfo", {"user": user})
    assert r.status_code == 404
    assert r.json() == {"error": f"user: No Bilibili account named {user!r}."}


def test_myinfo_needs_a_user_and_a_credential(api: JsonClient, fakebili: Any) -> None:
    assert api.get("/api/v1/myinfo").status_code == 400
    make_account("empty.json")
    r = api.get("/api/v1/myinfo", {"user": "empty.json"})
    assert r.status_code == 400
    assert "has no credential yet" in r.json()["error"]


def test_an_expired_credential_is_reported_and_marked(
    api: JsonClient, fakebili: Any
) -> None:
    account = log_in_by_tv_qr(fakebili)
    fakebili.expire_account(10086)
    r = api.get("/api/v1/myinfo", {"user": account.value})
    assert r.status_code == 502
    assert "-101" in r.json()["error"]
    account.refresh_from_db()
    assert account.status == "expired"
    assert "-101" in account.status_reason
    assert api.get("/api/v1/users").json()[0]["status"] == "expired"
    # And it is not used again until it logs in again.
    r = api.get("/api/v1/myinfo", {"user": account.value})
    assert r.status_code == 409
    assert "log it in again" in r.json()["error"]


def test_risk_control_is_reported_without_expiring_the_account(
    api: JsonClient, fakebili: Any
) -> None:
    account = log_in_by_tv_qr(fakebili)
    fakebili.inject("/x/space/myinfo", kind="code", code=-352)
    r = api.get("/api/v1/myinfo", {"user": account.value})
    assert r.status_code == 502
    assert "-352" in r.json()["error"]
    account.refresh_from_db()
    assert account.status != BilibiliAccount.Status.EXPIRED


def test_a_timeout_is_reported(
    api: JsonClient, fakebili: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from biliup_site import bilibili

    account = log_in_by_tv_qr(fakebili)
    monkeypatch.setattr(bilibili.http, "TIMEOUT", (1.0, 0.5))
    fakebili.inject("/x/space/myinfo", kind="timeout", delay=2)
    r = api.get("/api/v1/myinfo", {"user": account.value})
    assert r.status_code == 502
    assert r.json()["error"].startswith("Bilibili: ")


def test_archive_pre_lists_categories_and_caches_them(
    api: JsonClient, fakebili: Any
) -> None:
    log_in_by_tv_qr(fakebili)
    r = api.get("/api/v1/archive_pre")
    assert r.status_code == 200
    typelist = r.json()["typelist"]
    assert typelist and all("id" in t and "children" in t for t in typelist)
    fakebili.inject("/x/vupre/web/archive/pre", kind="http_status", status=500)
    # biliup's route: Bilibili's envelope, which its UI reads as archivePre.data.typelist.
    body = api.get("/bili/archive/pre").json()
    assert body["code"] == 0
    assert body["data"]["typelist"] == typelist


def test_archive_pre_needs_an_account(api: JsonClient, fakebili: Any) -> None:
    r = api.get("/api/v1/archive_pre")
    assert r.status_code == 400
    assert "log one in by QR code" in r.json()["error"]
