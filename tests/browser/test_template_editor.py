"""The upload template editor in a real browser, in Chinese, on a desktop and on a phone: tags as
chips, the partition in two steps, a date and time to publish, an extra submit field as a row;
saved, reloaded, and the values are back. Without JavaScript the same form posts the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import (
    PHONE,
    fits_the_width,
    log_in,
    new_page,
    screenshot,
)
from tests.browser.test_admin_flow import log_in_bilibili
from tests.fakebili.server import FakeBilibili
from tests.livesite import Site

pytestmark = pytest.mark.browser


def chips(page: Any) -> list[str]:
    return page.locator("#field-tag .chip > span").all_inner_texts()


def add_tag(page: Any, text: str, key: str = "Enter") -> None:
    entry = page.locator("#field-tag .chip-entry")
    entry.fill(text)
    if key == ",":
        entry.press_sequentially(",")
    else:
        entry.press(key)


def api_template(page: Any, name: str) -> dict[str, Any]:
    templates = page.request.get("/api/v1/upload_streamers").json()
    return next(t for t in templates if t["template_name"] == name)


def in_three_days() -> datetime:
    # The site runs in UTC (BILIUP_TIME_ZONE's default): the picker speaks the site's zone.
    return (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)


def save_and_reopen(page: Any, name: str) -> None:
    page.click("form.template-form button.primary")
    page.wait_for_url("**/templates/")
    page.locator("#template-rows a", has_text=name).first.click()
    page.wait_for_url("**/templates/*/")


def test_the_controls_fill_a_template_on_a_desktop(chromium: Any, site: Site) -> None:
    page = new_page(chromium, site, locale="zh-CN")
    log_in(page)
    page.goto("/templates/new")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.fill("#id_template_name", "浏览器模板")

    # Tags: Enter and a comma each add a chip, × removes one, the 21st character is refused.
    assert "enhanced-source" in page.locator("#id_tag").get_attribute("class")
    add_tag(page, "录播")
    add_tag(page, "游戏", ",")
    add_tag(page, "单机")
    assert chips(page) == ["录播", "游戏", "单机"]
    page.locator("#field-tag .chip", has_text="游戏").locator("button").click()
    add_tag(page, "好" * 21)
    assert page.locator("#field-tag .chip-note.is-error").inner_text()
    assert page.locator("#field-tag .chip-entry").input_value() == "好" * 21
    page.locator("#field-tag .chip-entry").fill("")
    assert page.locator("#id_tag").input_value() == "录播,单机"

    # The partition: the main one, then a sub partition; the tucked-away select posts its id.
    assert "enhanced-source" in page.locator("#id_tid_v2").get_attribute("class")
    assert page.locator("#field-tid_v2 .picker-sub").is_hidden()
    page.locator("#id_tid_v2_main").select_option(label="游戏")
    page.locator("#field-tid_v2 .picker-sub").select_option(label="射击游戏")
    assert page.locator("#id_tid_v2").input_value() == "2071"

    when = in_three_days()
    page.fill("#id_dtime", when.strftime("%Y-%m-%dT%H:%M"))

    # An extra submit field: the blank row, then one more added.
    page.click("details.advanced > summary")
    extra = page.locator("#field-extra_fields")
    extra.locator("[name=extra_fields-key]").nth(0).fill("topic_name")
    extra.locator("[name=extra_fields-value]").nth(0).fill("直播回放")
    extra.locator(".kv-add").click()
    extra.locator("[name=extra_fields-key]").nth(1).fill("is_360")
    extra.locator("[name=extra_fields-value]").nth(1).fill("0")
    screenshot(page, "template-editor-filled-desktop-zh")

    save_and_reopen(page, "浏览器模板")
    assert chips(page) == ["录播", "单机"]
    main = page.locator("#id_tid_v2_main")
    assert main.locator("option:checked").inner_text() == "游戏"
    sub = page.locator("#field-tid_v2 .picker-sub")
    assert sub.locator("option:checked").inner_text() == "射击游戏"
    assert page.locator("#id_dtime").input_value() == when.strftime("%Y-%m-%dT%H:%M")
    assert page.locator("details.advanced").get_attribute("open") is not None
    keys = extra.locator("[name=extra_fields-key]")
    values = extra.locator("[name=extra_fields-value]")
    assert [keys.nth(i).input_value() for i in range(2)] == ["topic_name", "is_360"]
    assert [values.nth(i).input_value() for i in range(2)] == ["直播回放", "0"]
    assert fits_the_width(page)
    screenshot(page, "template-editor-desktop-zh")

    stored = api_template(page, "浏览器模板")
    assert stored["tags"] == ["录播", "单机"]
    assert stored["tid_v2"] == 2071
    assert stored["dtime"] == int(when.timestamp())
    assert stored["extra_fields"] == {"topic_name": "直播回放", "is_360": 0}

    # A time outside the window is refused next to the picker, and the rest is kept.
    page.fill("#id_dtime", (when + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    page.click("form.template-form button.primary")
    error = page.locator("#field-dtime .errorlist")
    error.wait_for()
    assert error.inner_text()
    assert chips(page) == ["录播", "单机"]


def test_the_controls_work_on_a_phone(chromium: Any, site: Site) -> None:
    phone = new_page(chromium, site, **PHONE, locale="zh-CN")
    log_in(phone)
    phone.goto("/templates/new")
    phone.fill("#id_template_name", "手机模板")
    add_tag(phone, "手机")
    add_tag(phone, "录播")
    phone.locator("#id_tid_v2_main").select_option(label="知识")
    sub = phone.locator("#field-tid_v2 .picker-sub")
    # The whole main partition is the first choice under it.
    assert sub.input_value() == phone.locator("#id_tid_v2").input_value()
    sub.select_option(index=2)
    chosen = phone.locator("#id_tid_v2").input_value()
    when = in_three_days() + timedelta(hours=5)
    phone.fill("#id_dtime", when.strftime("%Y-%m-%dT%H:%M"))
    phone.click("details.advanced > summary")
    extra = phone.locator("#field-extra_fields")
    extra.locator("[name=extra_fields-key]").first.fill("is_360")
    extra.locator("[name=extra_fields-value]").first.fill("1")
    assert fits_the_width(phone)
    screenshot(phone, "template-editor-filled-phone-zh")

    save_and_reopen(phone, "手机模板")
    assert chips(phone) == ["手机", "录播"]
    assert phone.locator("#id_tid_v2").input_value() == chosen
    assert sub.input_value() == chosen
    assert phone.locator("#id_dtime").input_value() == when.strftime("%Y-%m-%dT%H:%M")
    assert extra.locator("[name=extra_fields-key]").first.input_value() == "is_360"
    # Rows can go: removing the only filled one leaves an empty object.
    extra.locator(".kv-remove").first.click()
    assert fits_the_width(phone)
    screenshot(phone, "template-editor-phone-zh")
    # Scripts that set the original controls still can, and the controls follow.
    phone.fill("#id_tag", "手机,录播,直播")
    assert chips(phone) == ["手机", "录播", "直播"]
    phone.select_option("#id_tid_v2", "1008")
    assert phone.locator("#id_tid_v2_main option:checked").inner_text() == "游戏"
    assert sub.input_value() == "1008"
    save_and_reopen(phone, "手机模板")
    stored = api_template(phone, "手机模板")
    assert (stored["extra_fields"], stored["tid_v2"]) == ({}, 1008)
    assert stored["tags"] == ["手机", "录播", "直播"]


def test_without_javascript_the_same_form_posts(chromium: Any, site: Site) -> None:
    page = new_page(chromium, site, locale="zh-CN", java_script_enabled=False)
    log_in(page)
    page.goto("/templates/new")
    assert page.locator(".chips").count() == 0
    page.fill("#id_template_name", "无脚本模板")
    page.fill("#id_tag", "录播，游戏")
    page.locator("#id_tid_v2").select_option("2071")  # the grouped select
    page.fill("#id_dtime", in_three_days().strftime("%Y-%m-%dT%H:%M"))
    page.click("details.advanced > summary")
    page.locator("[name=extra_fields-key]").first.fill("is_360")
    page.locator("[name=extra_fields-value]").first.fill("0")
    page.click("form.template-form button.primary")
    page.wait_for_url("**/templates/")
    stored = api_template(page, "无脚本模板")
    assert stored["tags"] == ["录播", "游戏"]
    assert stored["tid_v2"] == 2071
    assert stored["dtime"] == int(in_three_days().timestamp())
    assert stored["extra_fields"] == {"is_360": 0}


def test_the_accounts_categories_come_in_two_steps_after_the_swap(
    chromium: Any, site: Site, fake: FakeBilibili
) -> None:
    page = new_page(chromium, site, locale="zh-CN")
    log_in(page)
    account = log_in_bilibili(page, fake)
    page.goto("/templates/new")
    # No account: a number. The account: htmx swaps its categories in, and the picker is drawn
    # over the new select.
    page.select_option("[name=user_cookie]", "")
    page.locator("#tid-field input[type=number]").wait_for()
    page.select_option("[name=user_cookie]", account)
    main = page.locator("#id_tid_main")
    main.wait_for()
    main.select_option(label="游戏")
    page.locator("#tid-field .picker-sub").select_option(label="单机游戏")
    assert page.locator("select[name=tid]").input_value() == "17"
    # The chosen category's description replaces the field's help.
    assert "单机" in page.locator("#tid-field .helptext").inner_text()
    screenshot(page, "template-editor-categories-desktop-zh")
