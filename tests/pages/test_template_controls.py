"""The template editor's controls post what people pick: tags (chips, comma-separated), the
partition, a local date and time for scheduled publishing, name/value rows for the extra submit
fields. The page stores what the API stores, and bad values are errors next to their field."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client, override_settings
from django.utils.functional import Promise

from tests.conftest import JsonClient
from tests.factories import make_template
from tests.pages.test_templates import field_html, form_data
from uploads.forms import UploadTemplatePageForm
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def rows(*pairs: tuple[str, str]) -> dict[str, list[str]]:
    """The name/value rows as the page posts them, with its blank last row."""
    return {
        "extra_fields-key": [k for k, _ in pairs] + [""],
        "extra_fields-value": [v for _, v in pairs] + [""],
    }


def post(browser: Client, **overrides: Any) -> Any:
    data = form_data(**overrides)
    if "extra_fields-key" in overrides:
        del data["extra_fields"]
    return browser.post("/templates/new", data)


def local_input(when: datetime) -> str:
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


# Tags


def test_chips_post_their_tags_comma_separated(browser: Client) -> None:
    r = post(browser, tag="录播,游戏，单机,录播")
    assert r.status_code == 302
    assert UploadTemplate.objects.get().tags == ["录播", "游戏", "单机"]


def test_the_tag_input_carries_the_rules_for_the_chips(browser: Client) -> None:
    template = make_template(tags=["录播", "游戏"])
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    tag = field_html(page, "tag")
    assert 'name="tag" value="录播,游戏"' in tag
    for attribute in ('data-chips=""', 'data-max="10"', 'data-max-length="20"'):
        assert attribute in tag
    assert "Bilibili takes at most 10 tags." in tag


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("", "Give at least one tag"),
        (" , ，", "Give at least one tag"),
        (",".join(f"t{i}" for i in range(11)), "Bilibili takes at most 10 tags."),
        ("好" * 21, "Tags are at most 20 characters"),
    ],
)
def test_bad_tags_are_errors_by_the_field(
    browser: Client, tag: str, message: str
) -> None:
    r = post(browser, tag=tag)
    assert r.status_code == 200
    assert message in field_html(r.content.decode(), "tag")
    assert not UploadTemplate.objects.exists()


# The partition


def test_the_partition_select_is_grouped_for_the_two_step_picker(
    browser: Client,
) -> None:
    page = browser.get("/templates/new").content.decode()
    picker = field_html(page, "tid_v2")
    assert re.search(r'<select name="tid_v2" data-two-level=""', picker)
    assert 'data-whole-label="The whole partition"' in picker
    assert picker.count("<optgroup") >= 20
    assert "human_type2" not in picker


def test_a_sub_partition_is_stored_and_shown_chosen(browser: Client) -> None:
    assert post(browser, tid_v2="2071").status_code == 302
    template = UploadTemplate.objects.get()
    assert template.tid_v2 == 2071
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    assert '<option value="2071" selected>游戏 › 射击游戏</option>' in page


# Scheduled publishing


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_a_time_in_the_window_is_stored_as_unix_seconds(browser: Client) -> None:
    when = (datetime.now(SHANGHAI) + timedelta(days=2)).replace(second=0, microsecond=0)
    r = post(browser, dtime=local_input(when))
    assert r.status_code == 302
    template = UploadTemplate.objects.get()
    assert template.dtime == int(when.timestamp())
    # Shown back in the picker, in the same zone.
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    dtime = field_html(page, "dtime")
    assert f'type="datetime-local" name="dtime" value="{local_input(when)}"' in dtime
    assert "step=" not in dtime
    assert "time zone Asia/Shanghai" in dtime


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_the_window_is_shown_next_to_the_picker(browser: Client) -> None:
    page = browser.get("/templates/new").content.decode()
    dtime = field_html(page, "dtime")
    earliest = datetime.now(SHANGHAI) + timedelta(hours=2)
    latest = datetime.now(SHANGHAI) + timedelta(days=15)
    # Minutes may tick over between the page and here.
    assert earliest.strftime("%Y-%m-%d %H:") in dtime
    assert latest.strftime("%Y-%m-%d %H:") in dtime
    assert 'data-clearable="Clear"' in dtime


def test_a_stored_time_with_seconds_keeps_them() -> None:
    template = make_template(dtime=2_000_000_000)  # 2033-05-18 03:33:20 UTC
    form = UploadTemplatePageForm(instance=template)
    html = str(form["dtime"])
    assert 'value="2033-05-18T03:33:20"' in html and 'step="1"' in html
    data = {
        **form_data(template_name=template.template_name),
        "dtime": "2033-05-18T03:33:20",
    }
    form = UploadTemplatePageForm(data, instance=template)
    assert "dtime" not in form.changed_data


@pytest.mark.parametrize(
    ("ahead", "message"),
    [
        (timedelta(hours=1), "2 hours to 15 days ahead"),
        (timedelta(hours=-5), "2 hours to 15 days ahead"),
        (timedelta(days=16), "2 hours to 15 days ahead"),
    ],
)
@override_settings(TIME_ZONE="Asia/Shanghai")
def test_a_time_outside_the_window_is_an_error_by_the_field(
    browser: Client, ahead: timedelta, message: str
) -> None:
    r = post(browser, dtime=local_input(datetime.now(SHANGHAI) + ahead))
    assert r.status_code == 200
    dtime = field_html(r.content.decode(), "dtime")
    assert message in dtime
    # What was picked stays in the picker, to be corrected.
    assert 'value=""' not in dtime
    assert not UploadTemplate.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["tomorrow", "2026-02-30T10:00", "99999-01-01T00:00", "9" * 5000, "-1", "\x00"],
)
def test_garbage_is_an_error_not_a_500(browser: Client, value: str) -> None:
    r = post(browser, dtime=value)
    assert r.status_code == 200
    assert 'class="errorlist' in field_html(r.content.decode(), "dtime")
    assert not UploadTemplate.objects.exists()


def test_unix_seconds_are_still_taken_and_empty_publishes_at_once(
    browser: Client,
) -> None:
    soon = int(time.time()) + 86400
    assert post(browser, dtime=str(soon)).status_code == 302
    template = UploadTemplate.objects.get()
    assert template.dtime == soon
    r = browser.post(
        f"/templates/{template.pk}/",
        form_data(template_name=template.template_name, dtime=""),
    )
    assert r.status_code == 302
    template.refresh_from_db()
    assert template.dtime is None


# Extra submit fields


def test_rows_are_stored_as_the_json_object_the_api_stores(
    browser: Client, api: JsonClient
) -> None:
    r = post(
        browser,
        **rows(
            ("is_360", "0"),
            ("topic_name", "直播回放"),
            ("quoted", '"0"'),
            ("ids", "[1, 2]"),
            ("flag", "true"),
            ("", ""),
            ("nan", "NaN"),
        ),
    )
    assert r.status_code == 302
    stored = UploadTemplate.objects.get().extra_fields
    expected = {
        "is_360": 0,
        "topic_name": "直播回放",
        "quoted": "0",
        "ids": [1, 2],
        "flag": True,
        "nan": "NaN",
    }
    assert (
        stored == expected
    )  # (PostgreSQL's jsonb keeps no key order: none is asserted)
    body = api.post(
        "/api/v1/upload_streamers",
        {"id": None, "template_name": "api", "tag": "录播", "extra_fields": expected},
    ).json()
    assert body["extra_fields"] == stored


def test_rows_shown_and_posted_again_keep_the_same_object(browser: Client) -> None:
    extra = {
        "is_360": 0,
        "text": "abc",
        "zero": "0",
        "bracket": "[x",
        "lines": "a\nb",
        "nested": {"a": [1, None]},
        "empty": "",
    }
    template = make_template(extra_fields=extra)
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    field = field_html(page, "extra_fields")
    keys = re.findall(r'name="extra_fields-key" value="([^"]*)"', field)
    values = re.findall(r'name="extra_fields-value" value="([^"]*)"', field)
    # One row a field (in the stored order: PostgreSQL's jsonb keeps its own), then a blank
    # row to fill without JavaScript.
    assert sorted(keys[:-1]) == sorted(extra) and keys[-1] == ""
    shown = dict(zip(keys, values, strict=True))
    assert (shown["is_360"], shown["text"], shown["zero"]) == (
        "0",
        "abc",
        "&quot;0&quot;",
    )
    unescaped = [v.replace("&quot;", '"').replace("&#x27;", "'") for v in values]
    r = browser.post(
        f"/templates/{template.pk}/",
        {
            **form_data(template_name=template.template_name),
            "extra_fields-key": keys,
            "extra_fields-value": unescaped,
        },
    )
    assert r.status_code == 302
    template.refresh_from_db()
    assert template.extra_fields == extra


def test_no_rows_filled_is_an_empty_object(browser: Client) -> None:
    assert post(browser, **rows()).status_code == 302
    assert UploadTemplate.objects.get().extra_fields == {}


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ((("is 360", "0"),), "is not a submit field name"),
        ((("标签", "0"),), "is not a submit field name"),
        ((("a", "1"), ("a", "2")), "a is given twice."),
        ((("", "0"),), "has no field name"),
        ((("ids", "[1, 2"),), "starts like JSON but is not"),
        ((("deep", "[" * 100 + "]" * 100),), "starts like JSON but is not"),
        ((("nul", "a\x00b"),), "Not a value that can be stored"),
    ],
)
def test_bad_rows_are_errors_by_the_field(
    browser: Client, pairs: tuple[tuple[str, str], ...], message: str
) -> None:
    r = post(browser, **rows(*pairs))
    assert r.status_code == 200
    field = field_html(r.content.decode(), "extra_fields")
    assert 'class="errorlist' in field and message in field
    # The rows come back as posted, to be corrected.
    assert f'value="{pairs[0][0]}"' in field
    assert '<details class="card advanced" open>' in r.content.decode()
    assert not UploadTemplate.objects.exists()


# Labels


RAW_NAMES = {
    "tid",
    "tid_v2",
    "dtime",
    "copyright",
    "open_elec",
    "credits",
    "human_type2",
}


def test_every_field_has_a_human_translatable_label_and_help() -> None:
    form = UploadTemplatePageForm()
    for name, field in form.fields.items():
        # Marked for translation (lazy), not made up by Django from the model's field name;
        # the schedule's help is translated when the form is made (it shows the window).
        assert isinstance(field.label, Promise), name
        assert isinstance(field.help_text, Promise) or name == "dtime", name
        label, help_text = str(field.label), str(field.help_text)
        for raw in RAW_NAMES:
            assert not re.search(rf"\b{raw}\b", label + " " + help_text), (name, raw)
