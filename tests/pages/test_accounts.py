from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import BilibiliAccount, QrLogin
from tests.factories import log_in_by_tv_qr, make_account

pytestmark = pytest.mark.django_db

COOKIES = {
    "cookie_info": {
        "cookies": [
            {"name": "SESSDATA", "value": "sess"},
            {"name": "bili_jct", "value": "jct"},
        ]
    },
    "token_info": {"mid": 777, "access_token": "", "refresh_token": ""},
    "platform": "Web",
}


def _control(fake: Any, path: str, **body: Any) -> None:
    """The fake Bilibili's own control interface, over HTTP, as the phone would act."""
    r = requests.post(f"{fake.url}/_fake{path}", json=body, timeout=5)
    assert r.status_code == 200, r.text


def test_it_lists_accounts_with_status_expiry_and_pause(browser: Client) -> None:
    now = timezone.now()
    ok = make_account(
        "10086.json",
        uname="主播甲",
        mid=10086,
        face="https://i0.hdslb.com/bfs/face/a.jpg",
        status=BilibiliAccount.Status.ACTIVE,
        expires_at=now + timedelta(days=10, hours=1),
        checked_at=now - timedelta(hours=2),
        uploads_paused_until=now + timedelta(hours=1),
        uploads_paused_reason="Bilibili says uploads are too fast (601)",
    )
    old = make_account(
        "old.json",
        status=BilibiliAccount.Status.EXPIRED,
        status_reason="-101: 账号未登录",
        uploads_paused_until=now - timedelta(hours=1),
    )
    page = browser.get("/accounts/").content.decode()

    assert f'id="account-{ok.pk}"' in page
    assert "主播甲" in page and "10086" in page
    assert (
        'src="/api/v1/proxy?url=https%3A%2F%2Fi0.hdslb.com%2Fbfs%2Fface%2Fa.jpg"'
        in page
    )
    assert "badge-active" in page
    assert "Login valid for 10 more days" in page
    assert (now + timedelta(days=10, hours=1)).strftime("%Y-%m-%d") in page
    assert "Checked 2\xa0hours ago" in page
    assert page.count("Uploads paused until") == 1
    assert "Bilibili says uploads are too fast (601)" in page

    assert f'id="account-{old.pk}"' in page
    assert "badge-expired" in page
    assert "-101: 账号未登录" in page
    assert "Never checked" in page
    assert "avatar-empty" in page


def test_the_hourly_upload_budget_is_set_per_account(browser: Client) -> None:
    account = make_account("10086.json")
    assert account.upload_budget == 20

    r = browser.post(f"/accounts/{account.pk}/budget", {"upload_budget": "12"})
    assert r.status_code == 302
    account.refresh_from_db()
    assert account.upload_budget == 12
    assert 'name="upload_budget"' in browser.get("/accounts/").content.decode()

    r = browser.post(
        f"/accounts/{account.pk}/budget", {"upload_budget": "0"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200
    assert "greater than or equal to 1" in r.content.decode()
    account.refresh_from_db()
    assert account.upload_budget == 12


def test_an_accounts_upload_speed_cap_is_set_with_its_budget(browser: Client) -> None:
    account = make_account("10086.json")
    r = browser.post(
        f"/accounts/{account.pk}/budget",
        {"upload_budget": "20", "upload_rate_limit": "2048"},
    )
    assert r.status_code == 302
    account.refresh_from_db()
    assert account.upload_rate_limit == 2048
    assert 'value="2048"' in browser.get("/accounts/").content.decode()

    r = browser.post(
        f"/accounts/{account.pk}/budget",
        {"upload_budget": "20", "upload_rate_limit": "5"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    assert "0 (no limit) or 64" in r.content.decode()
    account.refresh_from_db()
    assert account.upload_rate_limit == 2048


def test_an_empty_list_says_how_to_add_one(browser: Client) -> None:
    page = browser.get("/accounts/").content.decode()
    assert "No Bilibili account yet." in page
    assert "log in by QR code" in page
    assert "cookies.json" in page


def test_it_needs_a_login(client: Client, db: None) -> None:
    r = client.get("/accounts/")
    assert r.status_code == 302
    assert r["Location"].startswith("/login/")


def test_a_qr_login_from_code_to_stored_account(htmx: Client, fakebili: Any) -> None:
    r = htmx.post("/accounts/qr")
    assert r.status_code == 200
    body = r.content.decode()
    assert "<html" not in body
    assert 'class="qr"' in body and "<svg" in body and "viewBox" in body
    assert "Scan with the Bilibili app." in body
    key = QrLogin.objects.get().key
    poll = f"/accounts/qr/{key}"
    assert f'hx-post="{poll}"' in body
    assert 'hx-trigger="every 2s, submit"' in body
    assert 'hx-swap="outerHTML"' in body

    body = htmx.post(poll).content.decode()
    assert 'hx-trigger="every 2s, submit"' in body
    assert "Scanned" not in body

    _control(fakebili, f"/qr/{key}/scan")
    body = htmx.post(poll).content.decode()
    assert "Scanned: confirm the login in the app." in body
    assert "every 2s" in body

    _control(fakebili, f"/qr/{key}/confirm", mid=4242)
    r = htmx.post(poll)
    body = r.content.decode()
    assert "Logged in" in body and "4242.json" in body
    assert "every 2s" not in body
    assert json.loads(r["HX-Trigger"]) == {"accounts-changed": {}}

    account = BilibiliAccount.objects.get()
    assert account.mid == 4242
    assert account.credential["token_info"]["access_token"]
    # The list that listens for accounts-changed now shows it.
    listing = htmx.get("/accounts/?part=account-list").content.decode()
    assert listing.lstrip().startswith('<ul id="account-list"')
    assert f'id="account-{account.pk}"' in listing
    assert 'hx-trigger="accounts-changed from:body"' in listing


def test_an_expired_code_offers_a_new_one(htmx: Client, fakebili: Any) -> None:
    htmx.post("/accounts/qr")
    key = QrLogin.objects.get().key
    _control(fakebili, f"/qr/{key}/expire")
    body = htmx.post(f"/accounts/qr/{key}").content.decode()
    assert "The code expired" in body
    assert "every 2s" not in body
    assert 'hx-post="/accounts/qr"' in body and "Get a new QR code" in body
    assert not BilibiliAccount.objects.exists()


def test_bilibili_failures_are_shown_and_stop_the_polling(
    htmx: Client, fakebili: Any
) -> None:
    fakebili.inject("/x/passport-tv-login/qrcode/auth_code", kind="code", code=-412)
    r = htmx.post("/accounts/qr")
    assert r.status_code == 200
    assert 'class="alert"' in r.content.decode() and "-412" in r.content.decode()
    assert not QrLogin.objects.exists()

    htmx.post("/accounts/qr")
    key = QrLogin.objects.get().key
    fakebili.inject("/x/passport-tv-login/qrcode/poll", kind="http_status", status=503)
    body = htmx.post(f"/accounts/qr/{key}").content.decode()
    assert "503" in body
    assert "every 2s" not in body
    assert "Try again" in body


def test_an_unknown_code_is_not_polled_again(htmx: Client) -> None:
    body = htmx.post("/accounts/qr/nope").content.decode()
    assert "unknown" in body
    assert "every 2s" not in body


def test_the_qr_login_works_without_javascript(browser: Client, fakebili: Any) -> None:
    page = browser.post("/accounts/qr").content.decode()
    assert "<html" in page and "<svg" in page
    key = QrLogin.objects.get().key
    assert f'action="/accounts/qr/{key}"' in page
    fakebili.confirm_qr(key)
    page = browser.post(f"/accounts/qr/{key}").content.decode()
    account = BilibiliAccount.objects.get()
    assert f'id="account-{account.pk}"' in page


def test_check_now_confirms_a_good_login(htmx: Client, fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    r = htmx.post(f"/accounts/{account.pk}/check")
    body = r.content.decode()
    assert body.lstrip().startswith(
        f'<li class="item account" id="account-{account.pk}"'
    )
    assert "badge-active" in body
    assert "Bilibili accepts this login." in body
    account.refresh_from_db()
    assert account.status == BilibiliAccount.Status.ACTIVE
    assert account.uname and account.checked_at is not None
    assert account.uname in body


def test_check_now_marks_an_expired_login(htmx: Client, fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    fakebili.expire_account(account.mid)
    body = htmx.post(f"/accounts/{account.pk}/check").content.decode()
    assert "badge-expired" in body
    assert "no longer accepts this login" in body and "-101" in body
    account.refresh_from_db()
    assert account.status == BilibiliAccount.Status.EXPIRED


def test_check_now_says_when_bilibili_cannot_be_reached(
    htmx: Client, fakebili: Any
) -> None:
    account = log_in_by_tv_qr(fakebili)
    fakebili.inject("/x/passport-login/oauth2/info", kind="reset")
    r = htmx.post(f"/accounts/{account.pk}/check")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'class="check-result alert small"' in body
    assert "The check did not finish" in body
    account.refresh_from_db()
    assert account.status == BilibiliAccount.Status.UNCHECKED


def test_export_is_what_the_command_writes(browser: Client, fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    r = browser.get(f"/accounts/{account.pk}/export")
    assert r.status_code == 200
    assert r["Content-Disposition"] == f'attachment; filename="{account.value}"'
    out = StringIO()
    call_command("exportcookies", account.value, stdout=out)
    assert r.content.decode() == out.getvalue()
    assert json.loads(r.content) == account.credential


def test_export_without_a_credential_is_404(browser: Client) -> None:
    account = make_account("empty.json")
    assert browser.get(f"/accounts/{account.pk}/export").status_code == 404
    assert "/export" not in browser.get("/accounts/").content.decode()


def test_importing_an_uploaded_file(htmx: Client) -> None:
    upload = SimpleUploadedFile("mine.json", json.dumps(COOKIES).encode())
    r = htmx.post("/accounts/import", {"file": upload, "name": ""})
    body = r.content.decode()
    assert "Imported mine.json." in body
    assert json.loads(r["HX-Trigger"]) == {"accounts-changed": {}}
    account = BilibiliAccount.objects.get()
    assert account.value == "mine.json"
    assert account.credential == COOKIES
    assert account.mid == 777
    assert account.status == BilibiliAccount.Status.UNCHECKED


def test_importing_pasted_text_replaces_a_named_account(browser: Client) -> None:
    make_account("main.json", mid=1)
    r = browser.post(
        "/accounts/import", {"text": json.dumps(COOKIES), "name": "main.json"}
    )
    assert r.status_code == 302
    page = browser.get("/accounts/").content.decode()
    assert "Replaced the credential of main.json." in page
    account = BilibiliAccount.objects.get()
    assert account.credential == COOKIES and account.mid == 777


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"text": "{not json"}, "text", "This is not valid JSON"),
        ({"text": '{"hello": 1}'}, "text", "not a biliup cookies.json document"),
        (
            {"file": SimpleUploadedFile("x.json", b'{"cookie_info": {}}')},
            "file",
            "not a biliup cookies.json document",
        ),
        ({"text": "  "}, None, "Choose a cookies.json file or paste its content."),
        (
            {"text": json.dumps(COOKIES), "name": "../etc/passwd"},
            "name",
            "file-style name",
        ),
    ],
)
def test_import_errors_are_shown_on_the_form(
    htmx: Client, data: dict[str, Any], field: str | None, words: str
) -> None:
    r = htmx.post("/accounts/import", data)
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<form id="import"')
    assert words in body
    assert "errorlist" in body
    if field:
        # The error sits with its field (Django renders it right before the input).
        assert body.index(words) < body.index(f'name="{field}"')
    assert "HX-Trigger" not in r
    assert not BilibiliAccount.objects.exists()


def test_delete_asks_first_and_removes_the_account(
    browser: Client, htmx: Client
) -> None:
    account = make_account("gone.json")
    page = browser.get("/accounts/").content.decode()
    assert f'hx-post="/accounts/{account.pk}/delete"' in page
    assert "hx-confirm=" in page
    body = htmx.post(f"/accounts/{account.pk}/delete").content.decode()
    assert body.lstrip().startswith('<ul id="account-list"')
    assert "No Bilibili account yet." in body
    assert not BilibiliAccount.objects.exists()


def test_delete_without_javascript_redirects_with_a_message(browser: Client) -> None:
    account = make_account("gone.json", uname="旧号")
    r = browser.post(f"/accounts/{account.pk}/delete", follow=True)
    assert "Deleted 旧号 (gone.json)." in r.content.decode()
    assert not BilibiliAccount.objects.exists()
    assert browser.get(f"/accounts/{account.pk}/delete").status_code == 405
