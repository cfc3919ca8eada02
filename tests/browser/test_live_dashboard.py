"""The dashboard in a real browser: signing in the first time, and a room's recording arriving over
the WebSocket without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    PHONE,
    fits_the_width,
    log_in,
    new_page,
    screenshot,
)
from tests.fakebili.server import FakeBilibili
from tests.livesite import Site

pytestmark = pytest.mark.browser

ROOM = 24001


def test_first_run_setup_then_a_room_goes_live_without_reload(
    chromium: Any, site: Site, fake: FakeBilibili
) -> None:
    fake.add_room(ROOM, speed=1, title="直播中", uname="主播")
    page = new_page(chromium, site)
    page.goto("/")
    page.wait_for_url("**/setup/")
    screenshot(page, "setup-desktop")
    log_in(page)
    page.wait_for_selector("text=No rooms yet.")
    api = page.context.request
    csrf = {"Content-Type": "application/json"}
    assert api.put(
        "/api/v1/configuration",
        data={"event_loop_interval": 5, "delay": 0, "disk_reserve": 0},
        headers=csrf,
    ).ok
    added = api.post(
        "/api/v1/streamers",
        data={
            "url": f"https://live.bilibili.com/{ROOM}",
            "remark": "主播",
            "split_time": 10,
        },
        headers=csrf,
    )
    assert added.ok, added.text()
    pk = added.json()["id"]
    page.reload()
    page.evaluate("window.notReloaded = true")
    page.wait_for_selector("body[data-live=open]")
    fake.set_live(ROOM, 1)
    state = page.locator(f"#streamer-state-{pk}")
    state.locator(".badge-recording").wait_for(timeout=30_000)
    state.locator(".rec-duration").wait_for()
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "dashboard-desktop")
    phone = new_page(chromium, site, **PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto("/")
    phone.locator(f"#streamer-state-{pk} .badge-recording").wait_for()
    assert fits_the_width(phone)
    screenshot(phone, "dashboard-phone")
    fake.set_live(ROOM, 0)


def test_anonymous_visitors_are_sent_to_log_in(chromium: Any, site: Site) -> None:
    page = new_page(chromium, site)
    page.goto("/uploads/")
    assert "/login/?next=/uploads/" in page.url or page.url.endswith("/setup/")
    assert page.evaluate("document.body.dataset.live") is None


def test_deleting_a_streamer_asks_first(
    chromium: Any, site: Site, fake: FakeBilibili
) -> None:
    page = new_page(chromium, site)
    log_in(page)
    page.goto("/streamers/")
    form = page.locator("#streamer-add")
    form.locator("[name=url]").fill("https://live.bilibili.com/24003")
    form.locator("[name=remark]").fill("to delete")
    form.locator("button[type=submit]").click()
    row = page.locator("#streamer-list li.streamer", has_text="to delete")
    row.wait_for()
    asked: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    row.locator("button.danger").click()
    page.wait_for_timeout(500)
    assert row.count() == 1
    assert "recordings are kept" in asked[0]
    page.once("dialog", lambda d: answer(d, True))
    row.locator("button.danger").click()
    row.wait_for(state="detached")
    page.reload()
    assert page.locator("#streamer-list li.streamer", has_text="to delete").count() == 0


def test_field_errors_show_next_to_the_field(chromium: Any, site: Site) -> None:
    page = new_page(chromium, site)
    log_in(page)
    page.goto("/streamers/")
    form = page.locator("#streamer-add")
    form.locator("[name=url]").fill("ftp://example.com/live")
    form.locator("button[type=submit]").click()
    error = page.locator("#streamer-add .errorlist").first
    error.wait_for()
    assert "http" in error.inner_text()
