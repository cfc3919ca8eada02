"""The whole admin in a real browser, against a real site (web server + workers) and the fake
Bilibili: sign in for the first time, set the site up, log a Bilibili account in by QR code, make
an upload template, add a room, and then, without any reload, watch the room go live, a segment
appear, its upload's progress bar move and the archive's bvid appear. Every page is then
screenshotted at desktop and phone width, and must fit the phone without horizontal scrolling.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import PHONE, fits_the_width, new_page, screenshot
from tests.fakebili.server import FakeBilibili
from tests.livesite import Site

pytestmark = pytest.mark.browser

ROOM = 24002
USERNAME, PASSWORD = "admin", "a long password 1"
PAGES = {
    "dashboard": "/",
    "streamers": "/streamers/",
    "recordings": "/recordings/",
    "uploads": "/uploads/",
    "templates": "/templates/",
    "accounts": "/accounts/",
    "settings": "/settings/",
}
# Shown in Chinese too (the creators page has a browser test of its own in English).
MORE_PAGES = {
    "creators": "/creators/",
    "logs": "/logs/",
    "template-form": "/templates/new",
}


def sign_up(page: Any) -> None:
    page.goto("/")
    page.wait_for_url("**/setup/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/"))


def save_settings(page: Any) -> None:
    page.goto("/settings/")
    for name, value in {
        "event_loop_interval": "5",
        "delay": "0",
        "disk_reserve": "0",
        "threads": "1",
    }.items():
        page.fill(f"#settings [name={name}]", value)
    page.click("#settings button[type=submit]")
    page.locator(".messages").wait_for()
    assert page.input_value("#settings [name=event_loop_interval]") == "5"


def log_in_bilibili(page: Any, fake: FakeBilibili) -> str:
    page.goto("/accounts/")
    page.click("#qr-login button[type=submit]")
    page.locator("#qr-login .qr svg").wait_for()
    (key,) = fake.pending_qr_keys()
    fake.confirm_qr(key, mid=4242)
    # The QR box polls every 2 s; the list refreshes itself once the login is confirmed.
    page.locator("#account-list .account").wait_for()
    return "4242.json"


def make_template(page: Any, account: str) -> None:
    page.goto("/templates/new")
    page.fill("[name=template_name]", "录播")
    page.fill("[name=title]", "{streamer} %Y-%m-%d {title}")
    page.select_option("[name=user_cookie]", account)
    # The category picker loads the account's categories from archive_pre.
    page.locator("select[name=tid]").wait_for()
    page.select_option("select[name=tid]", "171")
    page.select_option("[name=tid_v2]", "1008")
    page.fill("[name=tag]", "录播,游戏")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url("**/templates/")
    page.get_by_text("录播").first.wait_for()


def add_streamer(page: Any) -> int:
    page.goto("/streamers/")
    form = page.locator("#streamer-add")
    form.locator("[name=url]").fill(f"https://live.bilibili.com/{ROOM}")
    form.locator("[name=remark]").fill("主播A")
    form.locator("[name=split_time]").fill("10")
    form.locator("[name=template_name]").select_option("录播")
    form.locator("button[type=submit]").click()
    row = page.locator("#streamer-list li.streamer").first
    row.wait_for()
    return int(row.get_attribute("id").removeprefix("streamer-"))


def watch_progress(page: Any, seconds: float) -> list[tuple[int, int]]:
    """(value, max) of the first upload's progress bar, sampled every 100 ms while it moves."""
    seen: list[tuple[int, int]] = []
    bar = page.locator("#dashboard-uploads progress.job-progress").first
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if bar.count():
            try:
                value = (int(bar.get_attribute("value")), int(bar.get_attribute("max")))
            except (TypeError, ValueError):
                value = None
            if value and (not seen or seen[-1] != value):
                seen.append(value)
            if len({v for v, _ in seen if v > 0}) >= 2:
                break
        page.wait_for_timeout(100)
    return seen


def test_from_first_sign_in_to_a_published_archive_without_reloading(
    chromium: Any, site: Site, fake: FakeBilibili
) -> None:
    fake.add_room(ROOM, speed=1, title="今晚打游戏", uname="主播A")
    fake.set_review(2)
    # Small, slow chunks so the upload takes a few seconds and its bar visibly moves.
    fake.configure_upos(chunk_size=32 * 1024)
    fake.set_upos_faults(delay=0.15)
    page = new_page(chromium, site)
    sign_up(page)
    save_settings(page)
    account = log_in_bilibili(page, fake)
    make_template(page, account)
    pk = add_streamer(page)

    recordings = page.context.new_page()
    recordings.goto("/recordings/")
    page.goto("/")
    for tab in (page, recordings):
        tab.evaluate("window.notReloaded = true")
        tab.wait_for_selector("body[data-live=open]")

    fake.set_live(ROOM, 1)
    state = page.locator(f"#streamer-state-{pk}")
    state.locator(".badge-recording").wait_for(timeout=30_000)
    # The first segment closes after 10 s of stream; the recordings page shows it, and its upload
    # appears on the dashboard and moves.
    recordings.locator("#sessions li.segment").first.wait_for(timeout=40_000)
    page.locator("#dashboard-uploads li.job").first.wait_for(timeout=20_000)
    seen = watch_progress(page, 30)
    moving = [v for v, total in seen if 0 < v < total]
    assert len(set(moving)) >= 1 and len({v for v, _ in seen}) >= 2, seen
    screenshot(page, "dashboard-uploading-desktop")

    # The room goes offline: the session ends (delay 0), its parts are submitted as one archive,
    # and the bvid appears in the job's row.
    fake.set_live(ROOM, 0)
    bvid = page.locator("#dashboard-uploads li.job a.bvid").first
    bvid.wait_for(timeout=60_000)
    archives = fake.archives()
    assert len(archives) == 1
    assert bvid.inner_text() == archives[0]["bvid"]
    assert archives[0]["body"]["human_type2"] == 1008
    # Bilibili reviews it (the fake for a second or two); the row turns public by itself.
    page.locator("#dashboard-uploads li.job .badge-public").first.wait_for(
        timeout=30_000
    )
    for tab in (page, recordings):
        assert tab.evaluate("window.notReloaded") is True

    phone = new_page(chromium, site, **PHONE)
    phone.context.add_cookies(page.context.cookies())
    for name, path in PAGES.items():
        page.goto(path)
        screenshot(page, f"{name}-desktop")
        phone.goto(path)
        screenshot(phone, f"{name}-phone")
        assert fits_the_width(phone), f"{path} scrolls sideways at phone width"
    page.goto("/templates/new")
    screenshot(page, "template-form-desktop")
    phone.goto("/templates/new")
    assert fits_the_width(phone)
    screenshot(phone, "template-form-phone")
    # Every page again as a Chinese browser gets it, at both widths.
    chinese = new_page(chromium, site, locale="zh-CN")
    chinese_phone = new_page(chromium, site, **PHONE, locale="zh-CN")
    for tab, width in ((chinese, "desktop"), (chinese_phone, "phone")):
        tab.context.add_cookies(page.context.cookies())
        for name, path in {**PAGES, **MORE_PAGES}.items():
            tab.goto(path)
            assert tab.locator("html").get_attribute("lang") == "zh-hans"
            screenshot(tab, f"{name}-{width}-zh")
            assert fits_the_width(tab), f"{path} scrolls sideways ({width}, zh-Hans)"
    assert chinese.locator("header.top nav").inner_text().startswith("仪表盘")
    anonymous = new_page(chromium, site, **PHONE)
    anonymous.goto("/")
    anonymous.wait_for_url("**/login/**")
    screenshot(anonymous, "login-phone")
