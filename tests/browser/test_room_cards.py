"""Room cards in a real browser, in Chinese, at desktop and phone widths: a live room shows its
title and its cover (loaded through the image proxy), and a new title arrives over the WebSocket
without a reload."""

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

ROOM = 24101
TITLE = "周末一起看海，顺便聊聊天，欢迎新朋友来玩"
PHONE_390 = {**PHONE, "viewport": {"width": 390, "height": 844}}

COVER_LOADED = """(selector) => {
  const img = document.querySelector(selector);
  return img !== null && img.complete && img.naturalWidth > 0;
}"""


def show_card(page: Any, pk: int) -> None:
    """The room's card with its title, and its cover loaded (scrolled to: it loads lazily)."""
    page.locator(f"#streamer-state-{pk} .room-title", has_text=TITLE[:6]).wait_for(
        timeout=30_000
    )
    cover = page.locator(f"#room-cover-{pk} img")
    cover.wait_for()
    cover.scroll_into_view_if_needed()
    page.wait_for_function(COVER_LOADED, arg=f"#room-cover-{pk} img")
    assert "/api/v1/proxy?url=" in (cover.get_attribute("src") or "")


def cut_with_ellipsis(page: Any, selector: str) -> bool:
    return page.evaluate(
        """(selector) => {
          const el = document.querySelector(selector);
          return getComputedStyle(el).textOverflow === "ellipsis"
            && el.scrollWidth > el.clientWidth;
        }""",
        selector,
    )


def test_a_live_rooms_card_shows_its_title_and_cover(
    chromium: Any, site: Site, fake: FakeBilibili
) -> None:
    fake.add_room(
        ROOM,
        speed=1,
        title=TITLE * 2,
        uname="海边主播",
        area_name="户外",
        parent_area_name="生活",
    )
    page = new_page(chromium, site, locale="zh-CN")
    log_in(page)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    api = page.context.request
    json = {"Content-Type": "application/json"}
    assert api.put(
        "/api/v1/configuration",
        data={"event_loop_interval": 5, "delay": 0, "disk_reserve": 0},
        headers=json,
    ).ok
    added = api.post(
        "/api/v1/streamers",
        data={"url": f"https://live.bilibili.com/{ROOM}", "remark": "海边主播"},
        headers=json,
    )
    assert added.ok, added.text()
    pk = added.json()["id"]
    page.goto("/")
    page.wait_for_selector("body[data-live=open]")
    page.evaluate("window.notReloaded = true")
    fake.set_live(ROOM, 1)

    page.locator(f"#streamer-state-{pk} .badge-recording").wait_for(timeout=30_000)
    show_card(page, pk)
    state = page.locator(f"#streamer-state-{pk}")
    assert "生活 · 户外" in state.inner_text()
    assert page.locator(f"#streamer-state-{pk} .room-online").is_visible()
    assert cut_with_ellipsis(page, f"#streamer-state-{pk} .room-title")
    screenshot(page, "room-cards-desktop-zh")

    # The streamer changes the title: the next round's room info brings it, pushed.
    fake.add_room(ROOM, title="下半场：" + TITLE)
    state.locator(".room-title", has_text="下半场").wait_for(timeout=30_000)
    assert page.evaluate("window.notReloaded") is True

    phone = new_page(chromium, site, **PHONE_390, locale="zh-CN")
    phone.context.add_cookies(page.context.cookies())
    phone.goto("/")
    show_card(phone, pk)
    box = phone.locator(f"#room-cover-{pk}").bounding_box()
    assert box is not None and abs(box["width"] / box["height"] - 16 / 9) < 0.05
    assert fits_the_width(phone)
    screenshot(phone, "room-cards-phone-zh")

    phone.goto("/streamers/")
    show_card(phone, pk)
    assert fits_the_width(phone)
    screenshot(phone, "streamers-phone-zh")
    page.goto("/streamers/")
    show_card(page, pk)
    screenshot(page, "streamers-desktop-zh")
    # Two browsers, four pages, reloads: the proxy fetched the cover once (its disk cache).
    assert fake.hits(f"/bfs/live/new_room_cover/{ROOM}.jpg") == 1
    fake.set_live(ROOM, 0)
