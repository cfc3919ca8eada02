"""The template page's collection (合集): the chosen account's seasons and sections as selects,
asked of Bilibili (the fake, over HTTP); saving keeps them, and a page edit never drops them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import log_in_by_tv_qr
from tests.pages.test_templates import field_html, form_data
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db


def test_the_accounts_collections_are_offered_and_saved(
    browser: Client, fakebili: Any
) -> None:
    account = log_in_by_tv_qr(fakebili)
    season = fakebili.add_season(account.mid, "直播回放", sections=["正片", "花絮"])
    extra = season["sections"][1]

    page = browser.get("/templates/new").content.decode()

    seasons = field_html(page, "season_id")
    assert '<select name="season_id"' in seasons
    assert f'<option value="{season["id"]}">直播回放</option>' in seasons
    sections = field_html(page, "section_id")
    assert '<optgroup label="直播回放">' in sections
    assert f'<option value="{extra["id"]}">花絮</option>' in sections

    r = browser.post(
        "/templates/new",
        form_data(
            user_cookie=account.value,
            season_id=str(season["id"]),
            section_id=str(extra["id"]),
        ),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    template = UploadTemplate.objects.get()
    assert (template.season_id, template.section_id) == (season["id"], extra["id"])

    # Editing it on the page shows the collection chosen and keeps it.
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    assert f'<option value="{extra["id"]}" selected>花絮</option>' in page
    r = browser.post(
        f"/templates/{template.pk}/",
        form_data(
            user_cookie=account.value,
            season_id=str(season["id"]),
            section_id=str(extra["id"]),
            desc="改了描述",
        ),
    )
    assert r.status_code == 302
    template.refresh_from_db()
    assert (template.season_id, template.desc) == (season["id"], "改了描述")


def test_without_an_account_the_collection_is_a_number(browser: Client) -> None:
    page = browser.get("/templates/new").content.decode()
    assert '<input type="number" name="season_id"' in field_html(page, "season_id")
