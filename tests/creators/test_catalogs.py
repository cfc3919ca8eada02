"""Creator catalogs against the fake Bilibili over real HTTP: Bilibili's app list with the web
list as fallback, incremental refreshes, trends, new-video announcements and the API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone
from django_q.models import Schedule

from creators import catalogs, tasks
from creators.models import Creator, CreatorSnapshot, CreatorVideo, VideoSnapshot
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db
UID = 777001
Run = Callable[..., Any]


@pytest.fixture
def creator_with_45(fakebili: Any, api: JsonClient, run: Run) -> Creator:
    fakebili.add_space_user(UID, "测试UP主")
    fakebili.add_space_videos(UID, count=45)
    response = run(api.post, "/api/v1/creators", {"uid": UID})
    assert response.status_code == 201, response.content
    return Creator.objects.get(uid=UID)


def requests_to(fake: Any, endpoint: str | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in fake.space_requests()
        if endpoint is None or r["endpoint"] == endpoint
    ]


def refresh_now(api: JsonClient, run: Run, uid: int = UID) -> Any:
    return run(api.post, f"/api/v1/creators/{uid}/refresh")


def listen() -> Callable[[], list[dict[str, Any]]]:
    """Join the progress group; the returned call drains what was announced since."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("progress", channel)

    async def drain() -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), 0.05))
            except TimeoutError:
                return messages

    return lambda: async_to_sync(drain)()


def test_following_walks_every_page_of_the_app_list(
    fakebili: Any, creator_with_45: Creator
) -> None:
    creator = creator_with_45
    assert (creator.status, creator.status_reason) == ("ok", "")
    assert creator.provider_used == "app"
    assert creator.name == "测试UP主"
    assert creator.face.endswith(f"/bfs/face/{UID}.jpg")
    assert creator.videos.count() == creator.video_count == 45
    assert creator.synced is not None
    pages = requests_to(fakebili, "app")
    assert len(pages) == 3  # 20 + 20 + 5
    assert pages[0]["cursor"] is None
    newest_first = [v["bvid"] for v in fakebili.space_videos(UID)]
    assert [v.bvid for v in creator.videos.order_by("-published")] == newest_first
    assert VideoSnapshot.objects.filter(video__creator=creator).count() == 45
    assert CreatorSnapshot.objects.get(creator=creator).videos == 45
    video = creator.videos.get(bvid=newest_first[0])
    assert video.raw["bvid"] == video.bvid and video.raw["param"] == str(video.aid)
    assert video.cover.endswith(f"{video.bvid}.jpg")
    assert video.category and video.duration > 0
    assert creator.next_refresh > timezone.now() + timedelta(minutes=59)
    # The strict fake refused nothing: the list was app-signed, the card paced.
    assert fakebili.space_refusals() == []


def test_an_incremental_refresh_reads_only_the_new_videos(
    fakebili: Any, creator_with_45: Creator, api: JsonClient, run: Run
) -> None:
    fakebili.clear_space_requests()
    added = fakebili.add_space_videos(UID, count=3)
    announced = listen()

    response = refresh_now(api, run)

    assert response.status_code == 202
    assert len(requests_to(fakebili)) == 1  # the first page holds known videos: stop
    assert Creator.objects.get(uid=UID).videos.count() == 48
    events = announced()
    new_pks = {e["pk"] for e in events if e["kind"] == "creator_video"}
    assert new_pks == set(
        CreatorVideo.objects.filter(bvid__in=[v["bvid"] for v in added]).values_list(
            "pk", flat=True
        )
    )
    assert any(e["kind"] == "creator" for e in events)


def test_a_first_sync_does_not_announce_every_video(
    fakebili: Any, api: JsonClient, run: Run
) -> None:
    fakebili.add_space_videos(UID, count=5)
    announced = listen()
    run(api.post, "/api/v1/creators", {"uid": UID})
    assert [e["kind"] for e in announced()] == ["creator"]


def test_plays_that_change_are_kept_as_snapshots(
    fakebili: Any, creator_with_45: Creator, api: JsonClient, run: Run
) -> None:
    newest = fakebili.space_videos(UID)[0]
    fakebili.set_space_video(newest["bvid"], play=newest["play"] + 1000, danmaku=7)

    refresh_now(api, run)

    body = api.get(f"/api/v1/creators/{UID}/videos/{newest['bvid']}").json()
    assert body["play"] == newest["play"] + 1000
    assert [s["play"] for s in body["snapshots"]] == [
        newest["play"],
        newest["play"] + 1000,
    ]
    # Videos whose numbers did not move get no new snapshot.
    other = fakebili.space_videos(UID)[1]["bvid"]
    assert VideoSnapshot.objects.filter(video__bvid=other).count() == 1
    trend = api.get(f"/api/v1/creators/{UID}/trend").json()
    assert len(trend) == 2
    assert trend[1]["play"] - trend[0]["play"] == 1000


def test_a_full_walk_comes_round_again_to_update_older_videos(
    fakebili: Any, creator_with_45: Creator, api: JsonClient, run: Run, settings: Any
) -> None:
    oldest = fakebili.space_videos(UID)[-1]
    fakebili.set_space_video(oldest["bvid"], play=123456)
    refresh_now(api, run)
    assert CreatorVideo.objects.get(bvid=oldest["bvid"]).play != 123456

    Creator.objects.filter(uid=UID).update(
        full_synced=timezone.now()
        - timedelta(hours=settings.CATALOG_FULL_SYNC_HOURS, minutes=1)
    )
    fakebili.clear_space_requests()
    refresh_now(api, run)

    assert len(requests_to(fakebili)) == 3
    assert CreatorVideo.objects.get(bvid=oldest["bvid"]).play == 123456


def test_the_web_list_is_used_when_the_app_list_fails(
    fakebili: Any, api: JsonClient, run: Run
) -> None:
    fakebili.add_space_videos(UID, count=45)
    fakebili.inject("/x/v2/space/archive/cursor", "http_status", status=502, times=None)

    run(api.post, "/api/v1/creators", {"uid": UID})

    creator = Creator.objects.get(uid=UID)
    assert (creator.status, creator.provider_used) == ("ok", "web")
    assert creator.videos.count() == 45
    assert [r["pn"] for r in requests_to(fakebili, "wbi")] == [1, 2]  # 30 a page


def test_the_web_list_recovers_from_stale_wbi_keys(
    fakebili: Any, api: JsonClient, run: Run
) -> None:
    fakebili.add_space_videos(UID, count=3)
    fakebili.inject("/x/v2/space/archive/cursor", "code", code=-400, times=None)
    run(api.post, "/api/v1/creators", {"uid": UID})
    assert Creator.objects.get(uid=UID).provider_used == "web"
    assert fakebili.space_refusals() == []

    # nav serves new keys: the cached ones sign wrongly (-403) until read again.
    fakebili.rotate_wbi_keys()
    fakebili.add_space_videos(UID, count=2)
    refresh_now(api, run)

    creator = Creator.objects.get(uid=UID)
    assert (creator.status, creator.videos.count()) == ("ok", 5)
    assert fakebili.space_refusals() == [
        {"endpoint": "wbi", "rule": "space_wbi_dm", "code": -403}
    ]


def test_when_both_lists_fail_the_reason_is_kept_and_the_next_try_backs_off(
    fakebili: Any, api: JsonClient, run: Run, settings: Any
) -> None:
    fakebili.add_space_videos(UID, count=3)
    fakebili.inject("/x/v2/space/archive/cursor", "http_status", status=502, times=None)
    fakebili.inject("/x/space/wbi/arc/search", "http_status", status=503, times=None)

    before = timezone.now()
    run(api.post, "/api/v1/creators", {"uid": UID})

    body = api.get(f"/api/v1/creators/{UID}").json()
    assert body["status"] == "error"
    assert "App list: Bilibili could not be reached: HTTP 502" in body["status_reason"]
    assert "web list: Bilibili could not be reached: HTTP 503" in body["status_reason"]
    creator = Creator.objects.get(uid=UID)
    assert creator.failures == 1
    assert creator.next_refresh >= before + timedelta(
        seconds=settings.CATALOG_BACKOFF_SECONDS
    )

    fakebili.clear_faults()
    refresh_now(api, run)
    creator.refresh_from_db()
    assert (creator.status, creator.failures, creator.videos.count()) == ("ok", 0, 3)


def test_an_unknown_user_is_reported(fakebili: Any, api: JsonClient, run: Run) -> None:
    run(api.post, "/api/v1/creators", {"uid": 424242})
    body = api.get("/api/v1/creators/424242").json()
    assert body["status"] == "error"
    assert body["status_reason"].startswith("Bilibili has no user with UID 424242")


def test_refreshes_are_bounded_and_claimed_once(fakebili: Any, settings: Any) -> None:
    settings.CATALOG_CONCURRENCY = 2
    for uid in range(1, 6):
        Creator.objects.create(uid=uid)

    # No on-commit execution: the claimed refreshes stay "running".
    assert catalogs.dispatch() == 2
    assert catalogs.dispatch() == 0
    assert Creator.objects.filter(refreshing_since__isnull=False).count() == 2

    # A refresh whose worker stopped beating is taken over.
    Creator.objects.filter(refreshing_since__isnull=False).update(
        heartbeat=timezone.now() - Creator.STALE_AFTER - timedelta(seconds=1)
    )
    assert catalogs.dispatch() == 2


def test_a_refresh_frees_its_slot_for_the_next_due_user(
    fakebili: Any, settings: Any, run: Run
) -> None:
    settings.CATALOG_CONCURRENCY = 1
    for uid in (UID, UID + 1, UID + 2):
        fakebili.add_space_videos(uid, count=2)
        Creator.objects.create(uid=uid)

    run(tasks.refresh_catalogs)

    assert list(Creator.objects.values_list("status", flat=True)) == ["ok"] * 3
    assert not Creator.objects.filter(refreshing_since__isnull=False).exists()


def test_refreshes_are_scheduled_every_minute(db: None) -> None:
    schedule = Schedule.objects.get(func="creators.tasks.refresh_catalogs")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        Schedule.MINUTES,
        1,
        -1,
    )


# The API ---------------------------------------------------------------------------------------


def test_following_twice_is_a_conflict(
    creator_with_45: Creator, api: JsonClient
) -> None:
    response = api.post("/api/v1/creators", {"uid": UID})
    assert response.status_code == 409
    assert response.json() == {"error": f"uid: {UID} is already followed"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "uid: This field is required."),
        ({"uid": "abc"}, "uid: Expected a whole number."),
        ({"uid": 0}, "uid: Enter a Bilibili UID (a positive number)."),
        ({"uid": 5, "provider": "youtube"}, "provider: Select a valid choice."),
        ({"uid": 5, "refresh_minutes": 1}, "refresh_minutes: Ensure this value"),
    ],
)
def test_bad_follows_are_refused(
    api: JsonClient, body: dict[str, Any], error: str
) -> None:
    response = api.post("/api/v1/creators", body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert not Creator.objects.exists()


def test_the_list_and_one_user(creator_with_45: Creator, api: JsonClient) -> None:
    [row] = api.get("/api/v1/creators").json()
    assert row == api.get(f"/api/v1/creators/{UID}").json()
    assert (row["uid"], row["videos_known"], row["video_count"]) == (UID, 45, 45)
    assert (row["own"], row["refreshing"], row["provider"]) == (False, False, "")
    assert api.get("/api/v1/creators/5").status_code == 404


def test_changing_the_interval_keeps_the_uid(
    creator_with_45: Creator, api: JsonClient
) -> None:
    response = api.put(f"/api/v1/creators/{UID}", {"uid": 1, "refresh_minutes": 15})
    assert response.status_code == 200
    assert (response.json()["uid"], response.json()["refresh_minutes"]) == (UID, 15)


def test_unfollowing_deletes_the_catalog(
    creator_with_45: Creator, api: JsonClient
) -> None:
    response = api.delete(f"/api/v1/creators/{UID}")
    assert (response.status_code, response.json()["uid"]) == (200, UID)
    assert not CreatorVideo.objects.exists()
    assert not VideoSnapshot.objects.exists()
    assert api.delete(f"/api/v1/creators/{UID}").status_code == 404


def test_videos_are_sorted_filtered_and_paginated(
    fakebili: Any, api: JsonClient, run: Run
) -> None:
    fakebili.add_space_videos(UID, count=5, title="日常")
    fakebili.add_space_videos(UID, count=3, title="游戏实况", play=9000)
    run(api.post, "/api/v1/creators", {"uid": UID})
    url = f"/api/v1/creators/{UID}/videos"

    page = api.get(url, {"page_size": 3}).json()
    assert (page["count"], page["pages"], page["page"]) == (8, 3, 1)
    newest = [v["bvid"] for v in fakebili.space_videos(UID)]
    assert [v["bvid"] for v in page["results"]] == newest[:3]
    last = api.get(url, {"page_size": 3, "page": 3}).json()
    assert [v["bvid"] for v in last["results"]] == newest[6:]
    assert api.get(url, {"page": 9}).json()["results"] == []

    games = api.get(url, {"q": "游戏", "order": "-play"}).json()
    assert games["count"] == 3
    assert {v["play"] for v in games["results"]} == {9000}
    oldest = api.get(url, {"order": "published"}).json()["results"][0]
    assert oldest["bvid"] == newest[-1]
    since = api.get(url, {"since": games["results"][-1]["published"]}).json()
    assert since["count"] >= 3


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"order": "views"}, "order: Select a valid choice."),
        ({"page": 0}, "page: Ensure this value is greater than or equal to 1."),
        (
            {"page_size": 500},
            "page_size: Ensure this value is less than or equal to 100.",
        ),
        ({"since": "yesterday"}, "since: Enter a valid date/time."),
        (
            {"since": "2026-02-01", "until": "2026-01-01"},
            "“Published since” must be before “Published before”.",
        ),
    ],
)
def test_bad_video_queries_are_refused(
    creator_with_45: Creator, api: JsonClient, query: dict[str, Any], error: str
) -> None:
    response = api.get(f"/api/v1/creators/{UID}/videos", query)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)


def test_the_catalog_needs_a_login(anon: JsonClient) -> None:
    assert anon.get("/api/v1/creators").status_code == 401
