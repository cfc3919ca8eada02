"""biliup's web UI and the REST document's examples, replayed as outside clients against a running
site and the fake Bilibili: register with the document's example, QR login as the UI does it (one
request that waits for the phone, then myinfo and POST /users), logged out and back in."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from tests.fakebili.server import FakeBilibili
from tests.integration.shared import Shared
from tests.livesite import Site
from tests.polling import wait_for

pytestmark = pytest.mark.integration

# The REST document's own register and login example.
DOC_USER = {"username": "admin", "password": "password123"}


@pytest.fixture
def fake(shared_for_test: Shared) -> FakeBilibili:
    return shared_for_test.fake


@pytest.fixture
def site(shared_for_test: Shared) -> Site:
    """A new site for each test: the first user is registered by each (the setup page's too)."""
    return shared_for_test.site


@pytest.fixture
def admin(site: Site) -> requests.Session:
    """The first user, registered with the document's example, which is a weak password."""
    session = requests.Session()
    r = session.post(f"{site.url}/api/v1/users/register", json=DOC_USER, timeout=10)
    assert r.status_code == 200, r.text
    assert "too common" in r.json()["warning"]
    return session


def test_qr_login_as_biliups_ui_does_it(
    site: Site, fake: FakeBilibili, admin: requests.Session
) -> None:
    answer = admin.get(f"{site.url}/v1/get_qrcode", timeout=10).json()
    key = answer["data"]["auth_code"]
    done: dict[str, Any] = {}

    def login() -> None:
        # The UI posts the whole get_qrcode answer back and waits for the one reply.
        r = admin.post(f"{site.url}/v1/login_by_qrcode", json=answer, timeout=60)
        done["response"] = r

    waiting = threading.Thread(target=login)
    waiting.start()
    wait_for(lambda: fake.qr_polls(key) >= 2, 10, "the site polling the QR code")
    # The wait holds no worker: the site answers other requests meanwhile.
    for path in ("/v1/users/biliup", "/v1/streamers", "/v1/users"):
        assert admin.get(f"{site.url}{path}", timeout=5).status_code == 200, path
    assert waiting.is_alive() and "response" not in done
    fake.scan_qr(key)
    fake.confirm_qr(key, mid=777001)
    waiting.join(timeout=30)
    r = done["response"]
    assert r.status_code == 200, r.text
    filename = r.json()["filename"]
    assert filename == "777001.json"

    # Then, as UserList.addUser: myinfo (Bilibili's envelope, res.code checked) and POST /users.
    info = admin.get(
        f"{site.url}/bili/space/myinfo", params={"user": filename}, timeout=10
    ).json()
    assert info["code"] == 0 and info["data"]["mid"] == 777001 and info["data"]["face"]
    r = admin.post(
        f"{site.url}/v1/users",
        json={"key": "bilibili-cookies", "value": filename},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["value"] == filename
    assert [
        u["value"] for u in admin.get(f"{site.url}/v1/users", timeout=10).json()
    ] == [filename]
    pre = admin.get(f"{site.url}/bili/archive/pre", timeout=10).json()
    assert pre["code"] == 0 and pre["data"]["typelist"]


def test_the_one_poll_answer_is_still_there(
    site: Site, fake: FakeBilibili, admin: requests.Session
) -> None:
    key = admin.get(f"{site.url}/api/v1/qrcode", timeout=10).json()["qrcode_key"]
    url = f"{site.url}/api/v1/login_by_qrcode?wait=0"
    r = admin.post(url, json={"qrcode_key": key}, timeout=10)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    fake.expire_qr(key)
    assert admin.post(url, json={"qrcode_key": key}, timeout=10).status_code == 410


def test_logged_out_and_back_in_as_biliups_ui(
    site: Site, admin: requests.Session
) -> None:
    visitor = requests.Session()
    # The UI's login page asks /v1/users/biliup: 404 would mean "register" (which is closed).
    assert visitor.get(f"{site.url}/v1/users/biliup", timeout=10).status_code == 200
    # The document's route keeps its meaning: 404 for "not logged in".
    assert visitor.get(f"{site.url}/api/v1/users/biliup", timeout=10).status_code == 404
    assert visitor.get(f"{site.url}/v1/streamers", timeout=10).status_code == 401
    r = visitor.post(f"{site.url}/v1/users/login", json=DOC_USER, timeout=10)
    assert r.status_code == 200
    assert "too common" in r.json()["warning"]
    assert visitor.get(f"{site.url}/v1/streamers", timeout=10).status_code == 200
    assert visitor.get(f"{site.url}/api/v1/users/biliup", timeout=10).status_code == 200


def test_the_setup_page_takes_the_documents_password_with_a_warning(
    site: Site,
) -> None:
    browser = requests.Session()
    page = browser.get(f"{site.url}/setup/", timeout=10)
    token = browser.cookies["csrftoken"]
    r = browser.post(
        f"{site.url}/setup/",
        data={**DOC_USER, "csrfmiddlewaretoken": token},
        headers={"Referer": page.url, "Accept-Language": "en"},
        timeout=10,
    )
    assert r.status_code == 200 and r.url.rstrip("/") == site.url
    assert "too common" in r.text and "/admin/password_change/" in r.text
