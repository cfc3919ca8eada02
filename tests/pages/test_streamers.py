from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from recorder.models import Streamer, StreamerInfo
from tests.factories import make_session, make_streamer, make_template

pytestmark = pytest.mark.django_db


def field_html(page: str, name: str) -> str:
    """The <div class="field"> holding the input named `name`: its label, errors and widget."""
    for chunk in page.split('<div class="field">'):
        if f'name="{name}"' in chunk:
            return chunk
    raise AssertionError(f"no field {name}")


def test_it_needs_a_login() -> None:
    response = Client().get("/streamers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_empty_state_says_what_to_paste(browser: Client) -> None:
    page = browser.get("/streamers/").content.decode()
    assert "No streamers yet." in page
    assert "live.bilibili.com" in page
    assert "streamlink" in page
    assert "checked every 30 s" in page


def test_it_lists_streamers_with_their_state_and_template(browser: Client) -> None:
    streamer = make_streamer(
        remark="主播A",
        platform="bilibili",
        upload_template=make_template("录播模板"),
        state=Streamer.State.RECORDING,
        progress={"segments": 2, "duration": 65},
    )
    page = browser.get("/streamers/").content.decode()
    assert f'id="streamer-{streamer.pk}"' in page
    assert "主播A" in page
    assert streamer.url in page
    assert "录播模板" in page
    assert f'id="streamer-state-{streamer.pk}"' in page
    assert 'data-key="recording-False-2"' in page
    # A live refresh would wipe an open edit form: this list takes pushes per cell only (the
    # attention strip above it refreshes alone).
    rooms = page[page.index('<ul id="streamer-list"') :]
    assert "data-live-list" not in rooms


def test_the_form_offers_the_templates_and_hides_rare_options(browser: Client) -> None:
    make_template("录播模板")
    page = browser.get("/streamers/").content.decode()
    assert '<option value="录播模板">录播模板</option>' in page
    assert "None: record only" in page
    main, _, more = page.partition("More options")
    for name in (
        "url",
        "remark",
        "template_name",
        "split_time",
        "split_size",
        "filename_prefix",
    ):
        assert f'name="{name}"' in main
    for name in (
        "format",
        "time_range",
        "excluded_keywords",
        "override",
        "record_danmaku",
        "danmaku_ass",
    ):
        assert f'name="{name}"' not in main
        assert f'name="{name}"' in more


def test_add_shows_the_new_row_and_a_cleared_form(
    htmx: Client, django_capture_on_commit_callbacks: Any
) -> None:
    make_template("录播模板")
    with django_capture_on_commit_callbacks() as callbacks:
        response = htmx.post(
            "/streamers/add",
            {
                "url": "https://live.bilibili.com/42",
                "remark": "新主播",
                "template_name": "录播模板",
                "split_time": "1800",
                "split_size": "1024",
                "excluded_keywords": '["回放"]',
            },
        )
    assert response.status_code == 200
    streamer = Streamer.objects.get()
    assert (streamer.remark, streamer.platform, streamer.split_time) == (
        "新主播",
        "bilibili",
        1800,
    )
    assert streamer.upload_template.template_name == "录播模板"
    assert streamer.excluded_keywords == ["回放"]
    # Checked at once, once committed, as the API does.
    assert [c.__func__ for c in callbacks] == [Streamer.enqueue_check]
    body = response.content.decode()
    form, _, row = body.partition('hx-swap-oob="beforeend:#streamer-list"')
    assert 'id="streamer-add"' in form
    assert "live.bilibili.com/42" not in form
    assert f'id="streamer-{streamer.pk}"' in row
    assert "新主播" in row


def test_add_without_javascript_redirects_back(browser: Client) -> None:
    response = browser.post(
        "/streamers/add",
        {"url": "live.bilibili.com/7", "split_time": "3600", "split_size": "2048"},
        follow=True,
    )
    assert response.redirect_chain == [("/streamers/", 302)]
    assert Streamer.objects.get().url == "https://live.bilibili.com/7"
    assert "Added https://live.bilibili.com/7." in response.content.decode()


def test_an_unsupported_url_is_refused_next_to_the_url_field(htmx: Client) -> None:
    response = htmx.post(
        "/streamers/add",
        {
            "url": "https://example.invalid/room",
            "split_time": "3600",
            "split_size": "2048",
        },
    )
    assert response.status_code == 200  # htmx swaps 200s only
    url_field = field_html(response.content.decode(), "url")
    assert "No recorder supports this URL" in url_field
    assert 'value="https://example.invalid/room"' in url_field
    assert not Streamer.objects.exists()


def test_a_duplicate_url_is_refused(browser: Client) -> None:
    make_streamer(url="https://live.bilibili.com/1")
    response = browser.post(
        "/streamers/add",
        {
            "url": "https://live.bilibili.com/1",
            "split_time": "3600",
            "split_size": "2048",
        },
    )
    assert response.status_code == 400
    assert "A streamer with this URL exists already." in field_html(
        response.content.decode(), "url"
    )
    assert Streamer.objects.count() == 1


def test_an_error_in_more_options_opens_them(htmx: Client) -> None:
    response = htmx.post(
        "/streamers/add",
        {
            "url": "https://live.bilibili.com/1",
            "split_time": "3600",
            "split_size": "2048",
            "override": "[1]",
        },
    )
    body = response.content.decode()
    assert '<details class="more-options" open>' in body
    assert "Use an object of option names and values." in field_html(body, "override")
    assert not Streamer.objects.exists()


def test_edit_swaps_the_row_for_a_form_and_back(htmx: Client) -> None:
    make_template("录播模板")
    streamer = make_streamer(remark="旧名", override={"bili_qn": 10000})
    form = htmx.get(f"/streamers/{streamer.pk}/edit").content.decode()
    assert form.lstrip().startswith(f'<li id="streamer-{streamer.pk}"')
    assert 'value="旧名"' in form
    assert f'hx-get="/streamers/{streamer.pk}/"' in form  # Cancel
    assert '{"bili_qn": 10000}' in form.replace("&quot;", '"')
    response = htmx.post(
        f"/streamers/{streamer.pk}/edit",
        {
            "url": streamer.url,
            "remark": "新名",
            "template_name": "录播模板",
            "split_time": "600",
            "split_size": "0",
            "override": '{"bili_qn": 10000}',
        },
    )
    row = response.content.decode()
    assert row.lstrip().startswith(
        f'<li id="streamer-{streamer.pk}" class="item streamer">'
    )
    assert "新名" in row
    streamer.refresh_from_db()
    assert (streamer.remark, streamer.split_time, streamer.split_size) == (
        "新名",
        600,
        0,
    )
    assert streamer.upload_template.template_name == "录播模板"
    assert streamer.override == {"bili_qn": 10000}


def test_edit_errors_stay_in_the_form(htmx: Client) -> None:
    streamer = make_streamer(remark="kept")
    response = htmx.post(
        f"/streamers/{streamer.pk}/edit",
        {
            "url": streamer.url,
            "remark": "changed",
            "split_time": "3",
            "split_size": "1",
        },
    )
    body = response.content.decode()
    assert "Use 0 (no time split) or at least 10 seconds." in field_html(
        body, "split_time"
    )
    assert f'hx-post="/streamers/{streamer.pk}/edit"' in body
    streamer.refresh_from_db()
    assert streamer.remark == "kept"


def test_edit_without_javascript_shows_the_form_in_the_page(browser: Client) -> None:
    streamer = make_streamer(remark="旧名")
    other = make_streamer(url="https://live.bilibili.com/2", remark="别人")
    page = browser.get(f"/streamers/{streamer.pk}/edit").content.decode()
    assert "<html" in page
    assert f'action="/streamers/{streamer.pk}/edit"' in page
    assert f'action="/streamers/{other.pk}/edit"' not in page
    assert f'href="/streamers/{other.pk}/edit"' in page
    response = browser.post(
        f"/streamers/{streamer.pk}/edit",
        {"url": streamer.url, "remark": "新名", "split_time": "0", "split_size": "0"},
    )
    assert response.status_code == 302
    assert Streamer.objects.get(pk=streamer.pk).remark == "新名"


def test_cancel_returns_the_row(htmx: Client, browser: Client) -> None:
    streamer = make_streamer(remark="主播")
    row = htmx.get(f"/streamers/{streamer.pk}/").content.decode()
    assert row.lstrip().startswith(f'<li id="streamer-{streamer.pk}"')
    assert "<form" not in row.split('class="actions"')[0]
    response = browser.get(f"/streamers/{streamer.pk}/")
    assert response["Location"] == f"/streamers/#streamer-{streamer.pk}"


def test_pause_and_resume(
    htmx: Client, django_capture_on_commit_callbacks: Any
) -> None:
    streamer = make_streamer()
    with django_capture_on_commit_callbacks() as callbacks:
        row = htmx.post(f"/streamers/{streamer.pk}/pause").content.decode()
    assert Streamer.objects.get(pk=streamer.pk).paused
    assert callbacks == []
    assert 'data-state="paused"' in row
    assert ">Resume</button>" in row
    with django_capture_on_commit_callbacks() as callbacks:
        row = htmx.post(f"/streamers/{streamer.pk}/pause").content.decode()
    assert not Streamer.objects.get(pk=streamer.pk).paused
    # Resumed: checked at once, as the API's pause does.
    assert [c.__func__ for c in callbacks] == [Streamer.enqueue_check]
    assert ">Pause</button>" in row


def test_pause_only_takes_post(browser: Client) -> None:
    streamer = make_streamer()
    assert browser.get(f"/streamers/{streamer.pk}/pause").status_code == 405
    assert not Streamer.objects.get(pk=streamer.pk).paused


def test_delete_asks_first_and_keeps_the_recordings(
    browser: Client, htmx: Client
) -> None:
    streamer = make_streamer(remark="主播")
    session = make_session(streamer, files=2)
    page = browser.get("/streamers/").content.decode()
    confirm = re.search(
        rf'action="/streamers/{streamer.pk}/delete"[^>]*hx-confirm="([^"]*)"', page
    )
    assert confirm is not None
    assert "recordings are kept" in confirm.group(1)
    response = htmx.post(f"/streamers/{streamer.pk}/delete")
    assert response.status_code == 200
    assert response.content == b""
    assert not Streamer.objects.exists()
    session = StreamerInfo.objects.get(pk=session.pk)
    assert session.streamer is None
    assert session.files.count() == 2


def test_delete_without_javascript_says_so(browser: Client) -> None:
    streamer = make_streamer(remark="主播")
    response = browser.post(f"/streamers/{streamer.pk}/delete", follow=True)
    assert "Deleted 主播; its recordings are kept." in response.content.decode()
    assert not Streamer.objects.exists()


def test_unknown_streamers_are_404(browser: Client) -> None:
    assert browser.get("/streamers/999/edit").status_code == 404
    assert browser.post("/streamers/999/pause").status_code == 404
    assert browser.post("/streamers/999/delete").status_code == 404
