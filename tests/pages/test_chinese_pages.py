"""The Chinese pages are finished: labels, Bilibili's refusals, names, and who gets Chinese."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from biliup_site.forms import ConfigurationForm
from tests.factories import make_account, make_streamer

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")


def page(user: User | None, url: str, **headers: str) -> str:
    client = Client(**headers)
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match
    return match.group(1)


def labels(html: str) -> dict[str, str]:
    """Each form field's label text, by the field's id."""
    return {
        target: re.sub(r"<[^>]+>", "", text).strip()
        for target, text in re.findall(r'<label for="([^"]+)"[^>]*>(.*?)</label>', html)
    }


def test_the_login_page_says_username_and_password_in_chinese(alice: User) -> None:
    html = page(None, "/login/")
    assert labels(html)["id_username"] == "用户名:"
    assert labels(html)["id_password"] == "密码:"
    assert "Username" not in html and "Password" not in html
    english = page(None, "/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert labels(english)["id_username"] == "Username:"


def test_the_first_run_page_says_username_and_password_in_chinese() -> None:
    html = page(None, "/setup/")
    assert labels(html)["id_username"] == "用户名:"
    assert labels(html)["id_password"] == "密码:"
    assert "Username" not in html


def test_the_settings_page_shows_no_raw_field_names(alice: User) -> None:
    html = page(alice, "/settings/")
    shown = labels(html)
    for name in ConfigurationForm.base_fields:
        label = shown[f"id_{name}"]
        assert CJK.search(label), (name, label)
        assert name not in label
    form = html.split('id="settings"')[1].split("</form>")[0]
    helps = re.findall(r'<span class="helptext"[^>]*>(.*?)</span>', form, re.S)
    assert len(helps) >= len(ConfigurationForm.base_fields)
    for text in helps:
        assert CJK.search(text), text
    visible = re.sub(r"<[^>]+>", " ", html)
    for english in ("Client ID:", "App secret", "Access token", "Upload line"):
        assert english not in visible
    for chinese in (
        "应用 ID（Client ID）",
        "应用密钥（App Secret）",
        "访问令牌（Access Token）",
    ):
        assert chinese in visible


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("zh-CN", "zh-hans"),
        ("zh", "zh-hans"),
        ("zh-Hans", "zh-hans"),
        ("zh-Hans-CN", "zh-hans"),
        ("zh-TW", "zh-hans"),
        ("zh-HK,zh;q=0.9", "zh-hans"),
        ("fr-FR,fr;q=0.9,zh-CN;q=0.5", "zh-hans"),
        ("en-US,en;q=0.9", "en"),
        ("en-GB", "en"),
        ("fr-FR,fr;q=0.9", "en"),
        ("ja,de;q=0.5", "en"),
        ("*", "zh-hans"),
        ("", "zh-hans"),
    ],
)
def test_a_chinese_browser_gets_chinese_and_any_other_english(
    alice: User, accept: str, expected: str
) -> None:
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    assert lang(page(alice, "/", **headers)) == expected
    assert lang(page(None, "/login/", **headers)) == expected


def test_a_browser_naming_no_language_gets_the_sites_language(
    alice: User, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "en"
    assert lang(page(alice, "/")) == "en"
    assert lang(page(alice, "/", HTTP_ACCEPT_LANGUAGE="zh-CN")) == "zh-hans"


def test_the_chosen_language_beats_a_foreign_browser(alice: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert lang(client.get("/").content.decode()) == "zh-hans"


@pytest.mark.parametrize("accept", ["zh-CN", "en"])
def test_the_language_menu_names_each_language_in_its_own_words(
    alice: User, accept: str
) -> None:
    html = page(alice, "/", HTTP_ACCEPT_LANGUAGE=accept)
    menu = re.search(r'<select name="language".*?</select>', html, re.S)
    assert menu
    options = re.findall(r"<option [^>]*>([^<]+)</option>", menu.group(0))
    assert options == ["简体中文", "English"]
    assert "英语" not in html and "Simplified Chinese" not in html


def test_the_platform_badge_is_a_name(alice: User) -> None:
    make_streamer(platform="bilibili")
    make_streamer("https://www.huya.com/660000", platform="huya")
    html = page(alice, "/streamers/")
    badges = re.findall(r'<span class="badge">([^<]+)</span>', html)
    assert "哔哩哔哩" in badges and "虎牙" in badges
    assert "bilibili" not in badges
    english = page(alice, "/streamers/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Bilibili" in re.findall(r'<span class="badge">([^<]+)</span>', english)


def test_an_account_shows_its_uid_and_login_file_in_words(alice: User) -> None:
    make_account("10086.json", uname="主播甲", mid=10086)
    make_account("new.json")
    html = page(alice, "/accounts/")
    assert "UID 10086" in html
    assert "登录信息保存为 10086.json" in html
    assert "UID 尚未获取" in html
    assert not re.search(r"\bmid\b", re.sub(r"<[^>]+>", " ", html))


def test_a_refused_qr_login_says_why_in_chinese(alice: User, fakebili: Any) -> None:
    fakebili.inject("/x/passport-tv-login/qrcode/auth_code", "code", code=-412)
    client = Client()
    client.force_login(alice)
    html = client.post("/accounts/qr", HTTP_HX_REQUEST="true").content.decode()
    assert "B站风控暂时封锁了本机的 IP 地址。" in html
    assert "请等待半小时左右再试" in html
    assert "Bilibili error" not in html
