"""The attention strip in a real browser, in Chinese: Bilibili refuses an upload's archive for
one of the template's tags, and without a reload the strip appears on the page that is open, its
count leading to the failed uploads, where the job is red with the reason, the next step and the
link to the fix. The fix is made from the pages, as a user would: the link opens the template's
tags, the refused chip goes and a new one comes, Save; back on the failed uploads Retry is now
offered as ready, and without touching the fake again the job is published with the new tags
and the strip goes away by itself. Screenshots at desktop and phone width.

Bilibili's refusal is injected once: our runner does not call the tag check before submitting
and the fake's submit does not refuse banned tags (fake.ban_tags only answers the tag check), so
the template's tags cannot make the fake refuse by themselves. That the retry took the edited
template is checked on the archive the fake made."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import PHONE, fits_the_width, log_in, new_page, screenshot
from tests.fakebili.server import FakeBilibili
from tests.livesite import SEGMENT, Site

pytestmark = pytest.mark.browser

JSON = {"Content-Type": "application/json"}
TEMPLATE = "录播"
REFUSED_TAG = "封印"  # the template's tag Bilibili refuses
NEW_TAG = "直播回放"  # the tag the user puts in its place


def log_in_bilibili(api: Any, fake: FakeBilibili) -> str:
    """A Bilibili account through the site's QR login, confirmed on the fake."""
    started = api.get("/api/v1/qrcode").json()
    fake.confirm_qr(started["qrcode_key"])
    done = api.post(
        "/api/v1/login_by_qrcode",
        data={"qrcode_key": started["qrcode_key"]},
        headers=JSON,
    )
    assert done.ok, done.text()
    return str(done.json()["filename"])


def tag_chips(page: Any) -> list[str]:
    return list(page.locator("#field-tag .chip > span").all_inner_texts())


def test_a_refused_upload_appears_in_the_strip_and_is_fixed_from_the_pages(
    chromium: Any, site: Site, fake: FakeBilibili
) -> None:
    page = new_page(chromium, site, locale="zh-CN")
    log_in(page)
    api = page.context.request
    assert api.put("/api/v1/configuration", data={"disk_reserve": 0}, headers=JSON).ok
    account = log_in_bilibili(api, fake)
    made = api.post(
        "/api/v1/upload_streamers",
        data={
            "id": None,
            "template_name": TEMPLATE,
            "title": "{title}",
            "tid": 171,
            "tag": f"录播,{REFUSED_TAG}",
            "user_cookie": account,
        },
        headers=JSON,
    )
    assert made.ok, made.text()
    (site.recordings_dir / "主播").mkdir(exist_ok=True)
    (site.recordings_dir / "主播" / "part0.flv").write_bytes(SEGMENT)

    # Nothing needs the user yet: the strip is there, hidden.
    page.goto("/streamers/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.wait_for_selector("body[data-live=open]")
    assert page.locator("#attention").is_hidden()
    # A second tab on the uploads page: its filter counts and the row follow too.
    uploads = page.context.new_page()
    uploads.goto("/uploads/")
    for tab in (page, uploads):
        tab.wait_for_selector("body[data-live=open]")
        tab.evaluate("window.notReloaded = true")

    # Bilibili refuses the archive's submit for a banned tag (16025, the tag check's
    # answer), once: what follows is fixed from the pages alone.
    fake.inject(
        "/x/vu/*",
        "code",
        code=16025,
        message="tag已经被封印了~",
        times=1,
        method="POST",
    )
    queued = api.post(
        "/api/v1/uploads",
        data={"files": ["主播/part0.flv"], "params": {"template_name": TEMPLATE}},
        headers=JSON,
    )
    assert queued.ok, queued.text()

    failed = page.locator("#attention .attention-uploads")
    failed.wait_for(timeout=60_000)
    assert page.locator("#attention").is_visible()
    assert failed.get_attribute("href") == "/uploads/?status=failed"
    assert "1" in failed.inner_text()
    uploads.locator("#upload-history li.job.job-failed").wait_for(timeout=30_000)
    uploads.wait_for_function(
        "document.querySelector('#upload-filters a[href=\"?status=failed\"]')"
        ".textContent.includes('(1)')"
    )
    for tab in (page, uploads):
        assert tab.evaluate("window.notReloaded") is True
    screenshot(page, "attention-streamers-desktop-zh")
    uploads.close()

    failed.click()
    page.wait_for_url("**/uploads/?status=failed")
    job = page.locator("li.job.job-failed").first
    job.wait_for()
    assert job.locator(".job-next-step").is_visible()
    fix = job.locator("a.job-fix")
    assert (fix.get_attribute("href") or "").endswith("#field-tag")
    # Retry is there, but says it would fail the same way until the template changes.
    retry = job.locator("form[action$='/retry'] button")
    assert "primary" not in (retry.get_attribute("class") or "")
    assert job.locator(".retry-after-fix").is_visible()
    assert (
        "(1)" in page.locator('#upload-filters a[href="?status=failed"]').inner_text()
    )
    # The file is named in the recordings folder, never by the server's path.
    job.locator("details.job-files summary").click()
    assert job.locator(".files .mono").first.inner_text() == "主播/part0.flv"
    assert str(site.recordings_dir) not in page.content()
    screenshot(page, "uploads-failed-desktop-zh")

    phone = new_page(chromium, site, **PHONE, locale="zh-CN")
    phone.context.add_cookies(page.context.cookies())
    phone.goto("/")
    phone.locator("#attention .attention-uploads").wait_for()
    assert fits_the_width(phone), "the dashboard with the strip scrolls sideways"
    screenshot(phone, "attention-dashboard-phone-zh")
    phone.goto("/uploads/?status=failed")
    phone.locator("li.job.job-failed .job-next-step").wait_for()
    assert fits_the_width(phone), "the failed upload scrolls sideways"
    screenshot(phone, "uploads-failed-phone-zh")

    # The fix, from the pages: the link opens the template at its tags, the refused chip
    # goes, a new tag is typed and added with Enter, Save.
    fix.click()
    page.wait_for_url("**/templates/*/#field-tag")
    assert tag_chips(page) == ["录播", REFUSED_TAG]
    page.locator("#field-tag .chip", has_text=REFUSED_TAG).locator(
        ".chip-remove"
    ).click()
    entry = page.locator("#field-tag .chip-entry")
    entry.fill(NEW_TAG)
    entry.press("Enter")
    assert tag_chips(page) == ["录播", NEW_TAG]
    page.locator("form.template-form button.primary[type=submit]").click()
    page.wait_for_url("**/templates/")

    # Back on the failed uploads, Retry is offered as ready (the template changed after the
    # failure); without a reload the job is published and the strip is hidden again.
    page.goto("/uploads/?status=failed")
    job = page.locator("li.job.job-failed").first
    retry = job.locator("form[action$='/retry'] button.primary")
    retry.wait_for()
    assert job.locator(".retry-after-fix").count() == 0
    page.evaluate("window.notReloaded = true")
    retry.click()
    page.locator("#attention").wait_for(state="hidden", timeout=60_000)
    assert page.evaluate("window.notReloaded") is True
    page.goto("/uploads/?status=done")
    page.locator("li.job a.bvid").first.wait_for(timeout=90_000)
    assert page.locator("#attention").is_hidden()
    archives = fake.archives()
    assert len(archives) == 1
    assert archives[0]["body"]["tag"].split(",") == ["录播", NEW_TAG]
