from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import LoginFailure


@pytest.fixture
def visitor(db: None) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def test_pages_require_login(visitor: Client, alice: User) -> None:
    for path in (
        "/",
        "/streamers/",
        "/recordings/",
        "/uploads/",
        "/templates/",
        "/accounts/",
        "/settings/",
    ):
        response = visitor.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next="), path


def test_first_run_goes_to_setup(visitor: Client) -> None:
    assert visitor.get("/login/")["Location"] == "/setup/"
    response = visitor.get("/setup/")
    assert b"first start" in response.content


def test_setup_creates_the_admin_and_logs_in(visitor: Client) -> None:
    response = visitor.post(
        "/setup/", {"username": "admin", "password": "a long password 1"}
    )
    assert response.status_code == 302
    admin = User.objects.get()
    assert admin.is_superuser
    assert visitor.get("/").status_code == 200


def test_setup_shows_field_errors(visitor: Client) -> None:
    response = visitor.post("/setup/", {"username": "admin", "password": ""})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not User.objects.exists()


def test_a_weak_first_password_is_taken_with_a_warning_on_the_page(
    visitor: Client,
) -> None:
    response = visitor.post(
        "/setup/", {"username": "admin", "password": "password123"}, follow=True
    )
    assert User.objects.get().check_password("password123")
    page = response.content.decode()
    assert "message-warning" in page
    assert "too common" in page
    assert "/admin/password_change/" in page
    # Each login with it warns again.
    visitor.logout()
    response = visitor.post(
        "/login/", {"username": "admin", "password": "password123"}, follow=True
    )
    assert "too common" in response.content.decode()


def test_setup_closes_once_a_user_exists(visitor: Client, alice: User) -> None:
    assert visitor.get("/setup/")["Location"] == "/login/"
    visitor.post("/setup/", {"username": "mallory", "password": "a long password 1"})
    assert not User.objects.filter(username="mallory").exists()


def test_login_and_next(visitor: Client, alice: User) -> None:
    response = visitor.post(
        "/login/",
        {"username": "alice", "password": "alice-password-1", "next": "/uploads/"},
    )
    assert response["Location"] == "/uploads/"


def test_login_refuses_a_foreign_next(visitor: Client, alice: User) -> None:
    response = visitor.post(
        "/login/",
        {"username": "alice", "password": "alice-password-1", "next": "https://evil/"},
    )
    assert response["Location"] == "/"


def test_wrong_password_is_a_form_error_and_counted(
    visitor: Client, alice: User
) -> None:
    response = visitor.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Wrong username or password" in response.content
    assert LoginFailure.objects.count() == 1


def test_logout_needs_post(visitor: Client, alice: User) -> None:
    visitor.force_login(alice)
    assert visitor.get("/logout/").status_code == 405
    assert visitor.post("/logout/")["Location"] == "/login/"
    assert visitor.get("/")["Location"].startswith("/login/")


def test_pages_speak_chinese_by_default(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get("/")
    assert '<html lang="zh-hans">' in response.content.decode()


def test_language_cookie_wins(alice: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").content.decode()
