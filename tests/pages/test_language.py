"""The pages speak Simplified Chinese by default, English on request; the API stays English."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from recorder.models import Streamer
from tests.conftest import JsonClient

PAGES = [
    "/",
    "/streamers/",
    "/recordings/",
    "/uploads/",
    "/templates/",
    "/templates/new",
    "/accounts/",
    "/settings/",
    "/creators/",
    "/logs/",
]
# Each page's <h1> (or its first heading) in both languages.
HEADINGS = {
    "/": ("仪表盘", "Dashboard"),
    "/streamers/": ("主播", "Streamers"),
    "/recordings/": ("录播", "Recordings"),
    "/uploads/": ("上传", "Uploads"),
    "/templates/": ("上传模板", "Upload templates"),
    "/templates/new": ("新建上传模板", "New upload template"),
    "/accounts/": ("B站账号", "Bilibili accounts"),
    "/settings/": ("设置", "Settings"),
    "/creators/": ("UP主", "Creators"),
    "/logs/": ("日志", "Logs"),
}
NAV_ZH = [
    "仪表盘",
    "主播",
    "录播",
    "上传",
    "模板",
    "UP主",
    "账号",
    "设置",
    "日志",
    "切换",
    "退出登录",
]
NAV_EN = [
    "Dashboard",
    "Streamers",
    "Recordings",
    "Uploads",
    "Templates",
    "Creators",
    "Accounts",
    "Settings",
    "Logs",
    "Go",
    "Log out",
]
PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def header(html: str) -> str:
    match = re.search(r'<header class="top">(.*?)</header>', html, re.S)
    assert match, html
    return match.group(1)


def heading(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, html
    return match.group(1).strip()


def nav_texts(html: str) -> list[str]:
    """The visible words of the top bar: brand, nav, the language form's button, log out."""
    top = re.sub(r"<select.*?</select>", "", header(html), flags=re.S)
    return [t.strip() for t in re.sub(r"<[^>]+>", "\n", top).split("\n") if t.strip()]


def client_for(user: User, **headers: str) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}, {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}],
    ids=["no-accept-language", "zh-CN", "zh-CN-weighted"],
)
@pytest.mark.parametrize("url", PAGES)
def test_every_page_is_in_chinese_by_default(
    alice: User, url: str, headers: dict[str, str]
) -> None:
    response = client_for(alice, **headers).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert nav_texts(html)[1:] == NAV_ZH  # after the brand, biliup-site
    visible = " ".join(nav_texts(html))
    for english in NAV_EN + ["Upload templates"]:
        assert english not in visible
    assert 'aria-label="语言"' in header(html)
    assert heading(html).startswith(HEADINGS[url][0])


@pytest.mark.parametrize("url", PAGES)
def test_every_page_is_in_english_on_request(alice: User, url: str) -> None:
    response = client_for(alice, HTTP_ACCEPT_LANGUAGE="en").get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert nav_texts(html)[1:] == NAV_EN
    assert heading(html).startswith(HEADINGS[url][1])
    assert "仪表盘" not in html and "退出登录" not in html


def test_the_login_page_is_in_chinese_when_logged_out(alice: User) -> None:
    html = Client().get("/login/").content.decode()
    assert "<title>登录 · biliup-site</title>" in html
    assert "<h1>登录</h1>" in html
    assert "Log in" not in html
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/").content.decode()
    assert "<h1>Log in</h1>" in english


def test_the_language_cookie_beats_accept_language(alice: User) -> None:
    client = client_for(alice, HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert heading(client.get("/").content.decode()) == "Dashboard"


def test_model_labels_and_form_labels_are_translated(alice: User) -> None:
    html = client_for(alice).get("/templates/new").content.decode()
    for chinese in ("分区", "标签", "封面", "简介", "自制", "转载", "定时发布"):
        assert chinese in html
    assert ">Self-made<" not in html and ">Repost<" not in html
    settings_page = client_for(alice).get("/settings/").content.decode()
    assert (
        "上传后保留文件" in settings_page
    )  # a choice label of the configuration model
    assert "Keep files after upload" not in settings_page


def test_a_page_form_error_is_chinese_while_the_api_says_it_in_english(
    alice: User, api: JsonClient
) -> None:
    page = client_for(alice, HTTP_HX_REQUEST="true").post(
        "/streamers/add",
        {
            "url": "https://example.invalid/room",
            "split_time": "3600",
            "split_size": "2048",
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "没有录制器支持此地址" in html
    assert "No recorder supports this URL" not in html

    r = api.post(
        "/api/v1/streamers",
        {"url": "https://example.invalid/room"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert r.status_code == 400
    assert r.json()["error"] == (
        "url: No recorder supports this URL: use a live room of Bilibili or of a "
        "platform streamlink knows."
    )
    assert not Streamer.objects.exists()


def test_a_page_validation_message_of_our_own_is_chinese(alice: User) -> None:
    page = client_for(alice, HTTP_HX_REQUEST="true").post(
        "/streamers/add",
        {"url": "https://live.bilibili.com/1", "split_time": "5", "split_size": "2048"},
    )
    html = page.content.decode()
    assert "请填写 0（不按时间分段）或至少 10 秒。" in html
    assert not Streamer.objects.exists()


def _entries(text: str) -> list[tuple[str, str, list[str]]]:
    """(msgid, msgstr, flags) of every entry but the header; msgstr[0] for plurals."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        flags: list[str] = []
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += [f.strip() for f in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += line[1:-1]
            else:
                key, _sep, value = line.partition(" ")
                fields[key] = value[1:-1]
        msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
        if fields.get("msgid"):
            entries.append((fields["msgid"], msgstr, flags))
    return entries


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    text = PO.read_text(encoding="utf-8")
    assert "nplurals=1; plural=0;" in text
    entries = _entries(text)
    assert len(entries) > 300
    assert [msgid for msgid, msgstr, _flags in entries if not msgstr] == []
    assert [msgid for msgid, _msgstr, flags in entries if "fuzzy" in flags] == []
    for msgid, msgstr, _flags in entries:
        placeholders = sorted(re.findall(r"%\(\w+\)[sd]", msgid))
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgstr)) == placeholders, msgid
    assert PO.with_suffix(".mo").exists()


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt is not installed")
def test_msgfmt_accepts_the_catalogue() -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
