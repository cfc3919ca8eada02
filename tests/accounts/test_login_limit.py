"""The login limit under parallel attempts, keyed so a stranger's failures slow the stranger;
and names compared as Django stores them (NFKC)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings

from accounts import throttle
from tests.conftest import JsonClient

RIGHT = {"username": "alice", "password": "alice-password-1"}
WRONG = {"username": "alice", "password": "nope"}


def _from(ip: str) -> JsonClient:
    return JsonClient(REMOTE_ADDR=ip)


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_are_checked_at_most_the_limit(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = []
    check_password = AbstractBaseUser.check_password

    def slow_check(user: AbstractBaseUser, raw: str) -> bool:
        checks.append(raw)
        # A real hasher takes this long or longer: the window the old count-then-insert lost.
        time.sleep(0.05)
        return check_password(user, raw)

    monkeypatch.setattr(AbstractBaseUser, "check_password", slow_check)
    start = threading.Barrier(30)
    statuses: list[int] = []

    def attempt() -> None:
        try:
            start.wait()
            statuses.append(
                _from("10.0.0.9").post("/api/v1/users/login", WRONG).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(set(statuses)) == [401, 429] and len(statuses) == 30
    assert len(checks) == statuses.count(401) == 5


@override_settings(LOGIN_MAX_FAILURES=3)
def test_a_strangers_failures_do_not_lock_the_owner_out(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "NAME_SPACING_SECONDS", 600)
    owner = _from("10.0.0.1")
    assert owner.post("/api/v1/users/login", RIGHT).status_code == 200
    stranger = _from("10.0.0.2")
    for _ in range(3):
        assert stranger.post("/api/v1/users/login", WRONG).status_code == 401
    r = stranger.post("/api/v1/users/login", RIGHT)
    assert r.status_code == 429
    assert "try again in 15 minutes" in r.json()["error"]
    # The name's attempts are spent: other addresses are slowed, one check at a time.
    other = _from("10.0.0.3")
    assert other.post("/api/v1/users/login", WRONG).status_code == 401
    r = _from("10.0.0.4").post("/api/v1/users/login", RIGHT)
    assert r.status_code == 429
    assert r["Retry-After"] == "600"
    assert "for this name" in r.json()["error"]
    # ...but not the address the owner has logged in from.
    owner = _from("10.0.0.1")
    assert owner.post("/api/v1/users/login", RIGHT).status_code == 200
    assert owner.get("/api/v1/streamers").status_code == 200


@override_settings(LOGIN_MAX_FAILURES=3)
def test_an_address_is_limited_across_names(alice: User) -> None:
    guesser = _from("10.0.0.5")
    for name in ("root", "admin", "bob"):
        r = guesser.post("/api/v1/users/login", {"username": name, "password": "x"})
        assert r.status_code == 401
    r = guesser.post("/api/v1/users/login", RIGHT)
    assert r.status_code == 429
    assert int(r["Retry-After"]) > 800
    assert _from("10.0.0.6").post("/api/v1/users/login", RIGHT).status_code == 200


@pytest.mark.parametrize("name", ["\uff41lice", "ALICE", " alice"])
def test_a_name_equal_up_to_nfkc_or_case_is_taken(api: JsonClient, name: str) -> None:
    r = api.post("/api/v1/users/register", {"username": name, "password": "pw-1234567"})
    assert r.status_code == 400
    assert r.json() == {"error": "username: That username is taken."}
    assert User.objects.count() == 1


def test_a_compatibility_form_of_the_name_logs_in(
    anon: JsonClient, alice: User
) -> None:
    body: dict[str, Any] = {**RIGHT, "username": "\uff41lice"}
    r = anon.post("/api/v1/users/login", body)
    assert r.status_code == 200
    assert r.json()["username"] == "alice"
