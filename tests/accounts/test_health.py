from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from accounts import health, tasks
from accounts.models import BilibiliAccount
from tests.factories import log_in_by_tv_qr

pytestmark = pytest.mark.django_db


def test_a_healthy_account_is_confirmed_with_its_profile(fakebili: Any) -> None:
    account = health.check(log_in_by_tv_qr(fakebili))
    assert account.status == "active"
    assert account.uname
    assert account.face
    assert (
        account.expires_at is not None
        and account.expires_at > timezone.now() + timedelta(days=100)
    )
    assert account.checked_at is not None


def test_a_token_near_its_end_is_refreshed_before_it_expires(fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    old_token = account.credential["token_info"]["access_token"]
    fakebili.set_token_remaining(10086, 5 * 86400)
    account = health.check(account)
    assert account.status == "active"
    new_token = account.credential["token_info"]["access_token"]
    assert new_token != old_token
    assert (
        account.expires_at is not None
        and account.expires_at > timezone.now() + timedelta(days=100)
    )
    # The new credential works; the old one does not.
    assert health.check(account).status == "active"


def test_an_expired_account_is_marked_with_the_reason(fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    fakebili.expire_account(10086)
    account = health.check(account)
    assert account.status == "expired"
    assert "-101" in account.status_reason


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http_status", "status": 502},
        {"kind": "reset"},
        {"kind": "code", "code": -412},
    ],
)
def test_a_failed_check_changes_nothing_but_says_why(
    fakebili: Any, fault: dict[str, Any]
) -> None:
    account = health.check(log_in_by_tv_qr(fakebili))
    credential = account.credential
    fakebili.inject("/x/passport-login/oauth2/info", **fault)
    account = health.check(account)
    assert account.status == "active"
    # Stored in the site's language (BILIUP_LANGUAGE, Chinese by default).
    assert account.status_reason.startswith("无法检查：")
    assert account.credential == credential


def test_the_daily_task_checks_every_account(fakebili: Any) -> None:
    log_in_by_tv_qr(fakebili, mid=10086)
    log_in_by_tv_qr(fakebili, mid=20002)
    tasks.check_accounts()
    assert set(BilibiliAccount.objects.values_list("status", flat=True)) == {"active"}
    assert Schedule.objects.filter(
        func="accounts.tasks.check_accounts", schedule_type="D"
    ).exists()


def test_cookies_json_round_trips_through_the_commands(
    fakebili: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = log_in_by_tv_qr(fakebili)
    call_command("exportcookies", account.value)
    exported = json.loads(capsys.readouterr().out)
    assert exported == account.credential
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps(exported))
    call_command("importcookies", str(path))
    imported = BilibiliAccount.objects.get(value="cookies.json")
    assert imported.credential == exported
    assert imported.mid == 10086
    assert health.check(imported).status == "active"


def test_import_refuses_what_is_not_a_cookies_file(tmp_path: Path) -> None:
    path = tmp_path / "cookies.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(CommandError, match="not a biliup cookies.json document"):
        call_command("importcookies", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("importcookies", str(tmp_path / "missing.json"))
    assert not BilibiliAccount.objects.exists()


def test_the_avatar_comes_through_the_image_proxy(fakebili: Any, api: Any) -> None:
    account = health.check(log_in_by_tv_qr(fakebili))
    r = api.get("/api/v1/proxy", {"url": account.face})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("image/")
