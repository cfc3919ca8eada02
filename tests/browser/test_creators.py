"""The Creators pages in a real browser against the real site and the fake Bilibili: following
a UID fills its row without a reload, and its videos show with covers, a trend chart and filters,
on a desktop and on a phone."""

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
from tests.polling import wait_for

pytestmark = pytest.mark.browser

UID = 946974


def test_following_a_uid_shows_its_catalog_and_trend(
    chromium: Any, site: Site, fake: FakeBilibili
) -> None:
    fake.add_space_user(UID, "影视飓风")
    fake.add_space_videos(UID, count=24, title="科技视频")
    fake.add_space_videos(UID, count=3, title="直播回放", play=50000)
    page = new_page(chromium, site)
    log_in(page)

    page.goto("/creators/")
    page.fill("#follow_uid", str(UID))
    page.click("#creator-follow button[type=submit]")
    row = page.locator("li.creator", has_text="影视飓风")
    # The first sync runs on a worker; the row is pushed over the socket when it ends.
    row.locator(".badge-ok").wait_for()
    assert "27 of 27 videos catalogued" in row.inner_text()
    screenshot(page, "creators-desktop")

    # A second refresh after plays moved: the chart has two points.
    newest = fake.space_videos(UID)[0]
    fake.set_space_video(newest["bvid"], play=newest["play"] + 100000)
    row.get_by_role("button", name="Refresh now").click()
    # The row keeps its OK badge until a worker claims the refresh, so the row alone cannot
    # tell the second refresh from the first: wait for its snapshot (the chart's second point).
    wait_for(
        lambda: len(page.request.get(f"/api/v1/creators/{UID}/trend").json()) >= 2,
        60,
        "the second refresh's snapshot",
    )
    page.wait_for_function(
        "document.querySelector('li.creator .badge-ok') !== null"
        " && !document.querySelector('li.creator .badge-running')"
    )
    row.get_by_role("link", name="影视飓风").first.click()
    page.wait_for_url(f"**/creators/{UID}/")
    page.wait_for_selector(".chart-card svg")
    covers = page.locator("li.video img")
    assert covers.count() == 27
    covers.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "[...document.querySelectorAll('li.video img')].slice(0, 3)"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    screenshot(page, "creator-desktop")

    page.fill("input[name=q]", "直播回放")
    page.select_option("select[name=order]", "-play")
    page.click(".video-filters button[type=submit]")
    page.wait_for_url("**q=*")
    assert page.locator("li.video").count() == 3

    phone = new_page(chromium, site, **PHONE)
    log_in(phone)
    phone.goto(f"/creators/{UID}/")
    phone.wait_for_selector(".chart-card svg")
    assert fits_the_width(phone)
    screenshot(phone, "creator-phone")
    phone.goto("/creators/")
    assert fits_the_width(phone)
    screenshot(phone, "creators-phone")
