from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.models import ApiToken
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_and_works_for_scripts(api: JsonClient) -> None:
    r = api.post("/api/v1/tokens", {"name": "backup script"})
    assert r.status_code == 200
    raw = r.json()["token"]
    assert raw.startswith("bst_")
    assert "token" not in api.get("/api/v1/tokens").json()[0]
    script = JsonClient()
    r = script.get("/api/v1/streamers", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    # A token needs no CSRF defence: a browser cannot attach it to a forged request.
    r = script.post(
        "/api/v1/streamers",
        {"url": "https://live.bilibili.com/9"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_ORIGIN="https://elsewhere.example",
    )
    assert r.status_code == 200
    assert ApiToken.objects.get().last_used is not None


def test_only_the_hash_is_stored(api: JsonClient) -> None:
    raw = api.post("/api/v1/tokens", {"name": "x"}).json()["token"]
    token = ApiToken.objects.get()
    assert raw not in (token.key_hash, token.prefix)
    assert token.key_hash == ApiToken.hash(raw)


def test_a_wrong_token_is_refused(anon: JsonClient) -> None:
    r = anon.get("/api/v1/streamers", HTTP_AUTHORIZATION="Bearer bst_nope")
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid API token"}


def test_a_revoked_token_stops_working(api: JsonClient) -> None:
    created = api.post("/api/v1/tokens", {"name": "x"}).json()
    assert api.delete(f"/api/v1/tokens/{created['id']}").status_code == 200
    assert (
        JsonClient()
        .get("/api/v1/streamers", HTTP_AUTHORIZATION=f"Bearer {created['token']}")
        .status_code
        == 401
    )


def test_a_token_of_an_inactive_user_is_refused(api: JsonClient, alice: User) -> None:
    raw = api.post("/api/v1/tokens", {"name": "x"}).json()["token"]
    alice.is_active = False
    alice.save()
    assert (
        JsonClient()
        .get("/api/v1/streamers", HTTP_AUTHORIZATION=f"Bearer {raw}")
        .status_code
        == 401
    )


def test_users_cannot_revoke_each_others_tokens(api: JsonClient, bob: User) -> None:
    token, _ = ApiToken.objects.issue(bob, "bob's")
    assert api.delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_command_prints_a_working_token(
    alice: User, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("apitoken", "alice", "cron")
    raw = capsys.readouterr().out.strip()
    assert (
        JsonClient()
        .get("/api/v1/status", HTTP_AUTHORIZATION=f"Bearer {raw}")
        .status_code
        == 200
    )


def test_token_creation_needs_a_name(api: JsonClient) -> None:
    assert api.post("/api/v1/tokens", {}).json() == {
        "error": "name: This field is required."
    }
