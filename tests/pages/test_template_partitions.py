"""The template page's 2025 fields: the two-level partition picker (one <optgroup> per main
partition), the creation statement, and the form's errors next to their fields."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from tests.pages.test_templates import field_html, form_data
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db


def test_the_page_offers_the_partition_tree_and_the_statements(browser: Client) -> None:
    page = browser.get("/templates/new").content.decode()
    picker = field_html(page, "tid_v2")
    assert '<select name="tid_v2"' in picker
    assert '<optgroup label="游戏">' in picker
    assert '<option value="1008">游戏</option>' in picker
    assert '<option value="2071">游戏 › 射击游戏</option>' in picker
    statement = field_html(page, "creation_statement")
    assert '<option value="ai">Contains AI-generated content</option>' in statement


def test_the_page_saves_a_partition_and_shows_errors_by_their_fields(
    browser: Client,
) -> None:
    soon = str(int(time.time()) + 600)
    r = browser.post("/templates/new", form_data(tag="", dtime=soon, tid_v2="9999"))
    page = r.content.decode()
    assert "Give at least one tag" in field_html(page, "tag")
    assert "2 hours to 15 days ahead" in field_html(page, "dtime")
    assert "not a partition" in field_html(page, "tid_v2")
    assert not UploadTemplate.objects.exists()

    r = browser.post(
        "/templates/new", form_data(tid_v2="2094", creation_statement="opinion")
    )
    assert r.status_code == 302
    template = UploadTemplate.objects.get()
    assert (template.tid_v2, template.creation_statement) == (2094, "opinion")
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    assert '<option value="2094" selected>' in field_html(page, "tid_v2")


def test_the_page_speaks_chinese(browser: Client) -> None:
    r = browser.post("/templates/new", form_data(tag=""), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "至少" in field_html(r.content.decode(), "tag")
