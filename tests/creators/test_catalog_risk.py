"""Creator catalogs under Bilibili's risk control, against the strict fake: a refresh paced per host
never trips the burst rule; a -352/-412/-799 stops the refresh where it is, says which code at
which page and when it tries again, and holds every refresh back until then.

Reference: bilibili-2026.md "Space lists" (per-host rate limit with jitter; back off; say which
code stopped the refresh)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from biliup_site.bilibili import pace
from creators.models import Creator
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db
UID = 777001
OTHER = 777002
CURSOR = "/x/v2/space/archive/cursor"
STOP = re.compile(
    r"Stopped by Bilibili risk control \((-\d+)\) at page (\d+) of the (app|web) list;"
    r" next try at (\d\d:\d\d)\."
)


def follow(api: JsonClient, run: Any, uid: int = UID) -> dict[str, Any]:
    response = run(api.post, "/api/v1/creators", {"uid": uid})
    assert response.status_code == 201, response.content
    return api.get(f"/api/v1/creators/{uid}").json()


def test_a_creator_with_ten_pages_fills_without_tripping_the_burst_rule(
    fakebili: Any, api: JsonClient, run: Any, real_pace: None
) -> None:
    assert fakebili.rules()["space_burst"]["on"]
    fakebili.add_space_videos(UID, count=200)

    body = follow(api, run)

    assert (body["status"], body["videos_known"], body["provider_used"]) == (
        "ok",
        200,
        "app",
    )
    assert len([r for r in fakebili.space_requests() if r["endpoint"] == "app"]) == 10
    assert fakebili.space_refusals() == []


@pytest.mark.parametrize("code", [-352, -412, -799])
def test_a_risk_control_answer_stops_the_refresh_and_says_which_code(
    fakebili: Any, api: JsonClient, alice: Any, run: Any, code: int
) -> None:
    fakebili.add_space_videos(UID, count=45)
    # Pages 1 and 2 go through; page 3 is refused.
    fakebili.inject(CURSOR, "code", code=code, after=2)
    before = timezone.now()

    body = follow(api, run)

    assert body["status"] == "stopped"
    match = STOP.fullmatch(body["status_reason"])
    assert match, body["status_reason"]
    assert match.groups()[:3] == (str(code), "3", "app")
    next_refresh = Creator.objects.get(uid=UID).next_refresh
    assert next_refresh >= before + timedelta(seconds=pace.HOLD_FIRST)
    assert match[4] == f"{timezone.localtime(next_refresh):%H:%M}"
    assert body["videos_known"] == 40  # the pages read before the stop are kept
    # The page says it too.
    page = Client()
    page.force_login(alice)
    html = page.get(f"/creators/{UID}/").content.decode()
    assert body["status_reason"] in html


def test_the_host_is_held_back_for_every_refresh_until_the_hold_ends(
    fakebili: Any, api: JsonClient, run: Any
) -> None:
    fakebili.add_space_videos(UID, count=3)
    fakebili.add_space_videos(OTHER, count=3)
    fakebili.inject(CURSOR, "code", code=-412, times=1)
    assert follow(api, run)["status"] == "stopped"
    fakebili.clear_space_requests()

    # Another creator is held back: no call goes out, and it says why.
    other = follow(api, run, OTHER)
    assert other["status"] == "stopped"
    assert STOP.fullmatch(other["status_reason"])
    assert "(-412) at page 1 of the app list" in other["status_reason"]
    assert fakebili.space_requests() == []

    # The hold ends (as if its minute had passed): refreshes go on.
    pace.PACE.reset()
    run(api.post, f"/api/v1/creators/{OTHER}/refresh")
    assert api.get(f"/api/v1/creators/{OTHER}").json()["status"] == "ok"


def test_holds_double_with_each_refusal_in_a_row_and_a_success_ends_that(
    fakebili: Any, api: JsonClient, run: Any
) -> None:
    fakebili.add_space_videos(UID, count=3)
    fakebili.inject(CURSOR, "code", code=-352, times=None)
    holds = []
    follow(api, run)
    for _ in range(3):
        creator = Creator.objects.get(uid=UID)
        holds.append((creator.next_refresh - timezone.now()).total_seconds())
        _end_holds()
        run(api.post, f"/api/v1/creators/{UID}/refresh")
    # About 60, 120, 240 s (minus the test's own run time).
    assert [round(h / pace.HOLD_FIRST) for h in holds] == [1, 2, 4]

    fakebili.clear_faults()
    _end_holds()
    run(api.post, f"/api/v1/creators/{UID}/refresh")
    fakebili.inject(CURSOR, "code", code=-352, times=1)
    run(api.post, f"/api/v1/creators/{UID}/refresh")
    creator = Creator.objects.get(uid=UID)
    held = (creator.next_refresh - timezone.now()).total_seconds()
    assert round(held / pace.HOLD_FIRST) == 1


def _end_holds() -> None:
    """Every hold ends now (as if its time had passed), its count of refusals in a row kept."""
    for path in pace.PACE.directory.glob("*.json"):
        state = json.loads(path.read_text())
        path.write_text(json.dumps({**state, "held_until": 0}))
