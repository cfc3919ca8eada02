from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from accounts.models import LoginFailure
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db


def test_register_creates_the_first_admin_and_logs_in(anon: JsonClient) -> None:
    r = anon.post(
        "/api/v1/users/register", {"username": "admin", "password": "a long password 1"}
    )
    assert r.status_code == 200
    assert r.json() == {"username": "admin", "is_admin": True}
    user = User.objects.get()
    assert user.is_superuser and user.is_staff
    assert user.password.startswith("md5$") or user.password.startswith("pbkdf2")
    assert anon.get("/api/v1/users/biliup").status_code == 200


def test_register_is_closed_once_an_admin_exists(anon: JsonClient, alice: User) -> None:
    r = anon.post(
        "/api/v1/users/register",
        {"username": "mallory", "password": "a long password 1"},
    )
    assert r.status_code == 403
    assert "admin account exists" in r.json()["error"]
    assert not User.objects.filter(username="mallory").exists()


def test_register_lets_an_admin_add_a_user(api: JsonClient) -> None:
    r = api.post(
        "/api/v1/users/register", {"username": "bob", "password": "a long password 1"}
    )
    assert r.status_code == 200
    assert r.json() == {"username": "bob", "is_admin": False}


def test_register_refuses_non_admins(bob: User) -> None:
    client = JsonClient()
    client.force_login(bob)
    r = client.post(
        "/api/v1/users/register", {"username": "eve", "password": "a long password 1"}
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"username": "admin"}, "password: This field is required."),
        ({"username": "admin", "password": 12345678}, "password: Expected a string."),
        (
            {"username": "", "password": "a long password 1"},
            "username: This field is required.",
        ),
    ],
)
def test_register_validates(anon: JsonClient, body: dict, message: str) -> None:
    r = anon.post("/api/v1/users/register", body)
    assert r.status_code == 400
    assert r.json()["error"].startswith(message)


def test_the_documents_register_example_works_with_a_warning(anon: JsonClient) -> None:
    # The REST document registers {"username":"admin","password":"password123"}; biliup takes
    # any password, so a drop-in does too, and says to change it.
    r = anon.post(
        "/api/v1/users/register", {"username": "admin", "password": "password123"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["username"] == "admin"
    assert "too common" in body["warning"]
    assert "/admin/password_change/" in body["warning"]
    assert User.objects.get().check_password("password123")
    # And every login with it says so again, until the password changes.
    anon.get("/api/v1/logout")
    r = anon.post(
        "/api/v1/users/login", {"username": "admin", "password": "password123"}
    )
    assert r.status_code == 200
    assert "too common" in r.json()["warning"]


def test_a_good_password_earns_no_warning(anon: JsonClient, alice: User) -> None:
    r = anon.post(
        "/api/v1/users/login", {"username": "alice", "password": "alice-password-1"}
    )
    assert "warning" not in r.json()


def test_a_short_password_is_accepted_with_the_reason(anon: JsonClient) -> None:
    r = anon.post("/v1/users/register", {"username": "admin", "password": "x"})
    assert r.status_code == 200
    assert "too short" in r.json()["warning"]


def test_login_sets_a_safe_session_cookie(anon: JsonClient, alice: User) -> None:
    r = anon.post(
        "/api/v1/users/login",
        {"username": "alice", "password": "alice-password-1", "next": "/streamers"},
    )
    assert r.status_code == 200
    assert r.json() == {"username": "alice", "next": "/streamers"}
    cookie = r.cookies["biliup.sid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert anon.get("/api/v1/streamers").status_code == 200


def test_login_does_not_echo_a_foreign_next(anon: JsonClient, alice: User) -> None:
    r = anon.post(
        "/api/v1/users/login",
        {
            "username": "alice",
            "password": "alice-password-1",
            "next": "https://evil.example/",
        },
    )
    assert r.json()["next"] == "/"


def test_login_rejects_a_wrong_password(anon: JsonClient, alice: User) -> None:
    r = anon.post("/api/v1/users/login", {"username": "alice", "password": "nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "Wrong username or password"}
    assert anon.get("/api/v1/streamers").status_code == 401


@override_settings(LOGIN_MAX_FAILURES=3)
def test_login_is_throttled_after_repeated_failures(
    anon: JsonClient, alice: User
) -> None:
    for _ in range(3):
        assert (
            anon.post(
                "/api/v1/users/login", {"username": "alice", "password": "nope"}
            ).status_code
            == 401
        )
    r = anon.post(
        "/api/v1/users/login", {"username": "alice", "password": "alice-password-1"}
    )
    assert r.status_code == 429
    assert "Too many failed logins" in r.json()["error"]
    assert anon.get("/api/v1/streamers").status_code == 401


def test_a_good_login_clears_the_failures(anon: JsonClient, alice: User) -> None:
    anon.post("/api/v1/users/login", {"username": "alice", "password": "nope"})
    anon.post(
        "/api/v1/users/login", {"username": "alice", "password": "alice-password-1"}
    )
    assert not LoginFailure.objects.filter(username="alice").exists()


def test_biliup_status_says_404_when_logged_out(anon: JsonClient) -> None:
    r = anon.get("/api/v1/users/biliup")
    assert r.status_code == 404
    assert r.json() == {"error": "Not logged in", "registered": False}


def test_biliup_status_tells_that_an_admin_exists(
    anon: JsonClient, alice: User
) -> None:
    assert anon.get("/api/v1/users/biliup").json()["registered"] is True


def test_biliups_own_route_answers_200_once_a_user_exists(
    anon: JsonClient, alice: User
) -> None:
    # biliup's UI reads 404 as "no user yet" and offers register, which is closed.
    r = anon.get("/v1/users/biliup")
    assert r.status_code == 200
    assert r.json() == {"logged_in": False, "registered": True}
    # The document's route keeps its 404 for "not logged in".
    assert anon.get("/api/v1/users/biliup").status_code == 404
    anon.force_login(alice)
    for path in ("/v1/users/biliup", "/api/v1/users/biliup"):
        r = anon.get(path)
        assert r.status_code == 200
        assert r.json()["username"] == "alice"


def test_biliups_own_route_answers_404_before_the_first_user(
    anon: JsonClient,
) -> None:
    assert anon.get("/v1/users/biliup").status_code == 404


def test_logout_ends_the_session(api: JsonClient) -> None:
    r = api.get("/api/v1/logout")
    assert r.status_code == 302
    assert api.get("/api/v1/streamers").status_code == 401


def test_login_validates_its_body(anon: JsonClient) -> None:
    assert anon.post("/api/v1/users/login", {"username": "alice"}).json() == {
        "error": "password: This field is required."
    }
    assert (
        anon.post(
            "/api/v1/users/login", {"username": ["alice"], "password": "x"}
        ).status_code
        == 400
    )
