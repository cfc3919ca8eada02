from __future__ import annotations

import pytest

from recorder.models import Streamer
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db

BODY = '{"url": "https://live.bilibili.com/1"}'


def test_a_form_post_from_another_site_is_refused(api: JsonClient) -> None:
    r = api.generic(
        "POST",
        "/api/v1/streamers",
        "url=https://live.bilibili.com/1",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 415
    assert r.json() == {"error": "Send JSON with Content-Type: application/json"}
    r = api.generic("POST", "/api/v1/streamers", BODY, content_type="text/plain")
    assert r.status_code == 415
    assert not Streamer.objects.exists()


def test_a_foreign_origin_is_refused(api: JsonClient) -> None:
    r = api.generic(
        "POST",
        "/api/v1/streamers",
        BODY,
        content_type="application/json",
        HTTP_ORIGIN="https://evil.example",
    )
    assert r.status_code == 403
    assert r.json() == {"error": "Cross-origin request refused"}
    r = api.generic(
        "POST",
        "/api/v1/streamers",
        BODY,
        content_type="application/json",
        HTTP_ORIGIN="null",
    )
    assert r.status_code == 403
    assert not Streamer.objects.exists()


def test_a_cross_site_fetch_is_refused(api: JsonClient) -> None:
    r = api.generic(
        "POST",
        "/api/v1/streamers",
        BODY,
        content_type="application/json",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert r.status_code == 403


def test_the_sites_own_pages_and_scripts_get_through(api: JsonClient) -> None:
    r = api.generic(
        "POST",
        "/api/v1/streamers",
        BODY,
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert r.status_code == 200
    # requests/curl send neither Origin nor Sec-Fetch-Site.
    r = api.generic(
        "POST",
        "/api/v1/streamers",
        '{"url": "https://live.bilibili.com/2"}',
        content_type="application/json",
    )
    assert r.status_code == 200


def test_a_trusted_origin_gets_through(api: JsonClient, settings: object) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.example"]  # type: ignore[attr-defined]
    r = api.generic(
        "POST",
        "/api/v1/streamers",
        BODY,
        content_type="application/json",
        HTTP_ORIGIN="https://admin.example",
    )
    assert r.status_code == 200


def test_reads_need_no_defence(api: JsonClient) -> None:
    assert (
        api.get("/api/v1/streamers", HTTP_ORIGIN="https://evil.example").status_code
        == 200
    )


def test_unknown_api_paths_answer_json(api: JsonClient) -> None:
    for path in ("/api/v1/nope", "/v1/nope", "/bili/nope"):
        r = api.get(path)
        assert r.status_code == 404
        assert r.json() == {"error": "Not found"}
