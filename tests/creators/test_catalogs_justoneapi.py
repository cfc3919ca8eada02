"""Creator catalogs through the fake JustOneAPI over real HTTP: paging, each business code as
the document says, environments, and the token kept secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from biliup_site.models import Configuration
from creators import catalogs
from creators.models import Creator
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db
UID = 778001
TOKEN = "joa-secret-9f8e7d6c5b4a"


@pytest.fixture
def joa(fakebili: Any, api: JsonClient) -> Any:
    """JustOneAPI chosen in the configuration, with a token the fake knows."""
    fakebili.add_justoneapi_token(TOKEN)
    response = api.put(
        "/api/v1/configuration",
        {"catalog_provider": "justoneapi", "justoneapi_token": TOKEN},
    )
    assert response.status_code == 200, response.content
    fakebili.add_space_user(UID, "转载UP")
    fakebili.add_space_videos(UID, count=45)
    return fakebili


def follow(api: JsonClient, run: Callable[..., Any], uid: int = UID) -> dict:
    response = run(api.post, "/api/v1/creators", {"uid": uid})
    assert response.status_code == 201, response.content
    return api.get(f"/api/v1/creators/{uid}").json()


def test_a_first_sync_pages_through_justoneapi(
    joa: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    body = follow(api, run)
    assert (body["status"], body["provider_used"]) == ("ok", "justoneapi")
    assert body["videos_known"] == body["video_count"] == 45
    calls = [r for r in joa.space_requests() if r["endpoint"] == "justoneapi"]
    assert len(calls) == 3
    assert calls[0]["cursor"] is None and calls[1]["cursor"] and calls[2]["cursor"]
    assert not [r for r in joa.space_requests() if r["endpoint"] != "justoneapi"]


def test_an_incremental_refresh_pays_for_one_call(
    joa: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    follow(api, run)
    joa.clear_space_requests()
    joa.add_space_videos(UID, count=2)
    run(api.post, f"/api/v1/creators/{UID}/refresh")
    assert len(joa.space_requests()) == 1
    assert Creator.objects.get(uid=UID).videos.count() == 47


def test_a_user_may_choose_justoneapi_while_the_default_is_bilibili(
    fakebili: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    fakebili.add_justoneapi_token(TOKEN)
    api.put("/api/v1/configuration", {"justoneapi_token": TOKEN})
    fakebili.add_space_videos(UID, count=2)
    run(api.post, "/api/v1/creators", {"uid": UID, "provider": "justoneapi"})
    assert Creator.objects.get(uid=UID).provider_used == "justoneapi"


def test_301_is_retried_with_backoff(
    joa: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    joa.justoneapi_inject(301, times=2)
    body = follow(api, run)
    assert (body["status"], body["videos_known"]) == ("ok", 45)
    assert len(joa.space_requests()) == 5  # 2 refused + 3 pages


def test_301_that_persists_fails_this_refresh_only(
    joa: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    joa.justoneapi_inject(301, times=3)
    body = follow(api, run)
    assert body["status"] == "error"
    assert body["status_reason"] == (
        "JustOneAPI code 301: collection failed, please retry; tried 3 times"
    )
    assert Configuration.load().justoneapi_stopped == ""


def test_302_backs_off_every_justoneapi_refresh(
    joa: Any, api: JsonClient, run: Callable[..., Any], settings: Any
) -> None:
    joa.justoneapi_inject(302)
    before = timezone.now()
    body = follow(api, run)

    assert body["status"] == "stopped"
    assert body["status_reason"].startswith("JustOneAPI code 302: rate limit exceeded")
    config = Configuration.load()
    wait = timedelta(seconds=settings.CATALOG_BACKOFF_SECONDS)
    assert before + wait <= config.justoneapi_stop_until <= timezone.now() + wait
    assert Creator.objects.get(uid=UID).next_refresh == config.justoneapi_stop_until
    # Held: another JustOneAPI user is not asked for meanwhile.
    joa.clear_space_requests()
    Creator.objects.create(uid=UID + 1)
    run(catalogs.dispatch)
    assert joa.space_requests() == []
    assert Creator.objects.get(uid=UID + 1).status == "stopped"

    # Once the wait is over, refreshes go on by themselves.
    Configuration.objects.update(justoneapi_stop_until=timezone.now())
    Creator.objects.update(next_refresh=timezone.now())
    run(catalogs.dispatch)
    assert Creator.objects.get(uid=UID).status == "ok"


def test_303_stops_polling_until_the_next_day(
    joa: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    joa.justoneapi_inject(303)
    body = follow(api, run)

    assert body["status"] == "stopped"
    assert "daily quota exceeded" in body["status_reason"]
    assert "until the next day" in body["status_reason"]
    until = Configuration.load().justoneapi_stop_until
    local = timezone.localtime(until, catalogs.QUOTA_ZONE)
    assert (local.hour, local.minute) == (0, 0)
    assert timezone.now() < until <= timezone.now() + timedelta(days=1)
    assert api.get("/api/v1/configuration").json()["justoneapi_stopped"]

    response = run(api.post, f"/api/v1/creators/{UID}/refresh")
    assert response.status_code == 409
    assert "resume at" in response.json()["error"]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (100, "JustOneAPI code 100: invalid or inactive token: set a valid token"),
        (600, "JustOneAPI code 600: permission denied: this token may not use"),
        (601, "JustOneAPI code 601: insufficient balance: top up the JustOneAPI"),
    ],
)
def test_a_refused_token_stops_until_the_user_acts(
    joa: Any, api: JsonClient, run: Callable[..., Any], code: int, says: str
) -> None:
    joa.justoneapi_inject(code)
    body = follow(api, run)

    assert body["status"] == "stopped"
    assert body["status_reason"].startswith(says)
    config = Configuration.load()
    assert config.justoneapi_stop_until is None
    assert config.justoneapi_stopped.startswith(says)
    # Nothing is asked of JustOneAPI while stopped, however due.
    joa.clear_space_requests()
    Creator.objects.update(next_refresh=timezone.now() - timedelta(days=1))
    run(catalogs.dispatch)
    assert joa.space_requests() == []

    # The user fixed it (topped up, got permission) and asks again: the stop is lifted.
    response = run(api.post, f"/api/v1/creators/{UID}/refresh")
    assert response.status_code == 202
    assert api.get(f"/api/v1/creators/{UID}").json()["status"] == "ok"
    assert Configuration.load().justoneapi_stopped == ""


def test_a_new_token_lifts_the_stop(
    joa: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    api.put("/api/v1/configuration", {"justoneapi_token": "expired-token"})
    body = follow(api, run)
    assert body["status"] == "stopped"
    assert body["status_reason"].startswith("JustOneAPI code 100")

    api.put("/api/v1/configuration", {"justoneapi_token": TOKEN})
    assert Configuration.load().justoneapi_stopped == ""
    run(catalogs.dispatch)
    assert Creator.objects.get(uid=UID).status == "ok"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (400, "JustOneAPI code 400: invalid parameters"),
        (500, "JustOneAPI code 500: internal server error"),
    ],
)
def test_400_and_500_are_reported_and_retried_later(
    joa: Any, api: JsonClient, run: Callable[..., Any], code: int, says: str
) -> None:
    joa.justoneapi_inject(code)
    body = follow(api, run)
    assert body["status"] == "error"
    assert body["status_reason"].startswith(says)
    assert Configuration.load().justoneapi_stopped == ""
    assert Creator.objects.get(uid=UID).next_refresh > timezone.now()


def test_no_token_is_said_plainly(
    fakebili: Any, api: JsonClient, run: Callable[..., Any]
) -> None:
    api.put("/api/v1/configuration", {"catalog_provider": "justoneapi"})
    fakebili.add_space_videos(UID, count=1)
    body = follow(api, run)
    assert body["status"] == "error"
    assert "no token is set" in body["status_reason"]


def test_the_environment_picks_the_host(
    joa: Any, api: JsonClient, run: Callable[..., Any], settings: Any
) -> None:
    settings.JUSTONEAPI_GLOBAL_URL = "http://127.0.0.1:9"  # nothing listens
    api.put("/api/v1/configuration", {"justoneapi_env": "global"})
    body = follow(api, run)
    assert body["status"] == "error"
    assert "connection refused by 127.0.0.1:9" in body["status_reason"]

    api.put("/api/v1/configuration", {"justoneapi_env": "cn"})
    run(api.post, f"/api/v1/creators/{UID}/refresh")
    assert api.get(f"/api/v1/creators/{UID}").json()["status"] == "ok"


def test_the_token_never_leaves_the_server(
    joa: Any,
    api: JsonClient,
    run: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    follow(api, run)
    for code in (301, 302, 100):
        joa.justoneapi_inject(code, times=3 if code == 301 else 1)
        Configuration.objects.update(justoneapi_stop_reason="")
        run(api.post, f"/api/v1/creators/{UID}/refresh")

    answers = [
        api.get(path).content.decode()
        for path in (
            "/api/v1/configuration",
            "/api/v1/status",
            "/api/v1/creators",
            f"/api/v1/creators/{UID}",
            f"/api/v1/creators/{UID}/videos",
            "/api/v1/openapi.json",
        )
    ]
    assert api.get("/api/v1/configuration").json()["justoneapi_token_set"] is True
    for text in answers:
        assert TOKEN not in text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "JustOneAPI code" in logged  # the failures were logged ...
    assert TOKEN not in logged  # ... without the token
    assert TOKEN not in json.dumps(joa.snapshot(), ensure_ascii=False)
