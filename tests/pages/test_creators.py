"""/creators/: following Bilibili users, their catalogs of videos and the plays over time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from biliup_site.consumers import RENDERERS
from biliup_site.models import Configuration
from creators import charts
from creators.models import Creator, CreatorSnapshot, CreatorVideo, VideoSnapshot
from tests.factories import make_account
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db

FACE = "https://i0.hdslb.com/bfs/face/up.jpg"
COVER = "http://i2.hdslb.com/bfs/archive/cover.jpg"


def make_creator(uid: int = 42, **fields: Any) -> Creator:
    # Not due: only what a test does (follow, refresh, a new provider) claims a refresh.
    fields.setdefault("next_refresh", timezone.now() + timedelta(hours=1))
    return Creator.objects.create(uid=uid, **fields)


def make_video(creator: Creator, n: int, **fields: Any) -> CreatorVideo:
    defaults: dict[str, Any] = {
        "bvid": f"BV1xx411c{n:03d}",
        "aid": 1000 + n,
        "title": f"视频 {n}",
        "published": timezone.now() - timedelta(days=100 - n),
        "play": n * 10,
        "danmaku": n,
        "duration": 65,
    }
    return CreatorVideo.objects.create(creator=creator, **(defaults | fields))


def proxied(url: str) -> str:
    return "/api/v1/proxy?url=" + quote(url, safe="")


def row_html(page: str, pk: int) -> str:
    start = page.index(f'<li id="creator-{pk}"')
    return page[start : page.index("</li>", start)]


def field_html(page: str, name: str) -> str:
    for chunk in page.split('<div class="field">'):
        if f'name="{name}"' in chunk:
            return chunk
    raise AssertionError(f"no field {name}")


def video_ids(page: str) -> list[str]:
    return re.findall(r'<li id="video-(BV\w+)"', page)


# The list


def test_it_needs_a_login() -> None:
    response = Client().get("/creators/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_the_nav_leads_to_it_and_the_empty_list_says_what_to_enter(
    browser: Client,
) -> None:
    page = browser.get("/creators/").content.decode()
    assert '<a href="/creators/" aria-current="page">Creators</a>' in page
    assert "No one followed yet." in page
    assert 'name="uid"' in field_html(page, "uid")
    assert "justoneapi-stopped" not in page


def test_it_lists_a_user_with_status_counts_refreshes_and_provider(
    browser: Client,
) -> None:
    now = timezone.now()
    creator = make_creator(
        name="UP主",
        face=FACE,
        video_count=12,
        status=Creator.Status.ERROR,
        status_reason="Bilibili could not be reached: timed out",
        provider=Creator.Provider.BILIBILI,
        provider_used="web",
        last_refresh=now - timedelta(minutes=5),
        next_refresh=now + timedelta(minutes=55, seconds=30),
    )
    make_video(creator, 1)
    make_video(creator, 2)
    row = row_html(browser.get("/creators/").content.decode(), creator.pk)
    assert "UP主" in row
    assert f'src="{proxied(FACE)}"' in row
    assert 'loading="lazy"' in row
    assert 'href="https://space.bilibili.com/42"' in row
    assert 'href="/creators/42/"' in row
    assert '<span class="badge badge-error">Refresh failed</span>' in row
    assert "Bilibili could not be reached: timed out" in row
    assert "2 of 12 videos catalogued" in row
    assert "5\xa0minutes ago" in row
    assert "in 55\xa0minutes" in row
    assert "last through the web list" in row
    assert "every 60 minutes" in row
    assert "Your account" not in row


def test_a_user_without_a_name_shows_its_uid_and_an_own_account_is_marked(
    browser: Client,
) -> None:
    creator = make_creator(uid=293793435)
    make_account(mid=293793435)
    row = row_html(browser.get("/creators/").content.decode(), creator.pk)
    assert "UID 293793435" in row
    assert "Your account" in row
    assert "not synced yet" in row.lower()
    assert "never" in row


def test_the_list_reads_its_rows_in_a_fixed_number_of_queries(
    browser: Client, django_assert_max_num_queries: Any
) -> None:
    for uid in range(1, 11):
        make_video(make_creator(uid=uid), uid)
        make_account(f"a{uid}.json", mid=uid)
    # Session, user, configuration, the rows and the attention strip's four: not one query
    # more per row.
    with django_assert_max_num_queries(12):
        assert browser.get("/creators/").status_code == 200


def test_a_justoneapi_stop_shows_a_banner_leading_to_settings(
    browser: Client,
) -> None:
    Configuration.objects.filter(pk=Configuration.load().pk).update(
        justoneapi_stop_reason="JustOneAPI code 601: top up the JustOneAPI balance, then refresh."
    )
    creator = make_creator(
        status=Creator.Status.STOPPED,
        status_reason="JustOneAPI code 601: top up the JustOneAPI balance, then refresh.",
    )
    page = browser.get("/creators/").content.decode()
    banner = page[page.index('class="alert justoneapi-stopped"') :]
    banner = banner[: banner.index("</div>")]
    assert "Refreshes through JustOneAPI are on hold" in banner
    assert "top up the JustOneAPI balance" in banner
    assert 'href="/settings/"' in banner
    assert "top up the JustOneAPI balance" in row_html(page, creator.pk)


def test_a_stop_that_has_ended_shows_no_banner(browser: Client) -> None:
    Configuration.objects.filter(pk=Configuration.load().pk).update(
        justoneapi_stop_reason="rate limited",
        justoneapi_stop_until=timezone.now() - timedelta(seconds=1),
    )
    assert "justoneapi-stopped" not in browser.get("/creators/").content.decode()


# Follow


def test_follow_creates_the_user_and_refreshes_its_catalog(
    htmx: Client, fakebili: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fakebili.add_space_user(9001, "新UP主")
    fakebili.add_space_videos(9001, 3)
    with django_capture_on_commit_callbacks(execute=True):
        response = htmx.post(
            "/creators/follow",
            {"uid": "9001", "provider": "", "refresh_minutes": "30"},
        )
    assert response.status_code == 200
    creator = Creator.objects.get()
    assert (creator.uid, creator.refresh_minutes) == (9001, 30)
    body = response.content.decode()
    form, _, row = body.partition('hx-swap-oob="beforeend:#creator-list"')
    assert 'id="creator-follow"' in form
    assert 'value="9001"' not in form
    assert f'id="creator-{creator.pk}"' in row
    # The refresh ran (django-q2 in sync mode) against the fake Bilibili.
    creator.refresh_from_db()
    assert creator.status == Creator.Status.OK
    assert creator.name == "新UP主"
    assert creator.videos.count() == 3


def test_follow_without_javascript_redirects_back(
    browser: Client, fakebili: Any
) -> None:
    response = browser.post(
        "/creators/follow",
        {"uid": "9002", "provider": "bilibili", "refresh_minutes": "60"},
        follow=True,
    )
    assert response.redirect_chain == [("/creators/", 302)]
    assert Creator.objects.get().provider == "bilibili"
    assert "Following UID 9002." in response.content.decode()


def test_a_user_followed_already_is_refused_next_to_the_uid(
    browser: Client, fakebili: Any
) -> None:
    make_creator(uid=42)
    response = browser.post(
        "/creators/follow", {"uid": "42", "provider": "", "refresh_minutes": "60"}
    )
    assert response.status_code == 400
    assert "This user is already followed." in field_html(
        response.content.decode(), "uid"
    )
    assert Creator.objects.count() == 1


@pytest.mark.parametrize(
    ("uid", "message"),
    [("abc", "Enter a whole number."), ("0", "Enter a Bilibili UID")],
)
def test_a_bad_uid_is_refused(
    htmx: Client, fakebili: Any, uid: str, message: str
) -> None:
    response = htmx.post(
        "/creators/follow", {"uid": uid, "provider": "", "refresh_minutes": "60"}
    )
    assert response.status_code == 200  # htmx swaps 200s only
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="creator-follow"')
    assert message in field_html(body, "uid")
    assert not Creator.objects.exists()


# Edit, refresh, unfollow


def test_edit_swaps_the_row_for_a_form_with_the_uid_fixed(htmx: Client) -> None:
    creator = make_creator(name="UP主")
    form = htmx.get("/creators/42/edit").content.decode()
    assert form.lstrip().startswith(f'<li id="creator-edit-{creator.pk}"')
    assert "disabled" in field_html(form, "uid")
    assert 'hx-get="/creators/42/row"' in form  # Cancel
    response = htmx.post(
        "/creators/42/edit",
        {"uid": "999", "provider": "", "refresh_minutes": "120"},
    )
    row = response.content.decode()
    assert row.lstrip().startswith(
        f'<li id="creator-{creator.pk}" class="item creator">'
    )
    assert "every 120 minutes" in row
    creator.refresh_from_db()
    assert (creator.uid, creator.refresh_minutes) == (42, 120)
    # Only the interval changed: no refresh now.
    assert creator.refreshing_since is None


def test_a_new_provider_refreshes_at_once(htmx: Client, fakebili: Any) -> None:
    creator = make_creator()
    htmx.post(
        "/creators/42/edit",
        {"provider": "bilibili", "refresh_minutes": "60"},
    )
    creator.refresh_from_db()
    assert creator.provider == "bilibili"
    assert creator.refreshing_since is not None


def test_edit_errors_stay_in_the_form(htmx: Client) -> None:
    creator = make_creator()
    body = htmx.post(
        "/creators/42/edit", {"provider": "", "refresh_minutes": "1"}
    ).content.decode()
    assert f'id="creator-edit-{creator.pk}"' in body
    assert "greater than or equal to 5" in field_html(body, "refresh_minutes")
    assert Creator.objects.get().refresh_minutes == 60


def test_edit_without_javascript_shows_the_form_in_the_page(browser: Client) -> None:
    make_creator(uid=42)
    other = make_creator(uid=43)
    page = browser.get("/creators/42/edit").content.decode()
    assert "<html" in page
    assert 'action="/creators/42/edit"' in page
    assert f'id="creator-{other.pk}"' in page
    response = browser.post(
        "/creators/42/edit", {"provider": "", "refresh_minutes": "15"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/creators/#creator-")
    assert Creator.objects.get(uid=42).refresh_minutes == 15


def test_cancel_returns_the_row(htmx: Client, browser: Client) -> None:
    creator = make_creator()
    row = htmx.get("/creators/42/row").content.decode()
    assert row.lstrip().startswith(f'<li id="creator-{creator.pk}"')
    response = browser.get("/creators/42/row")
    assert response["Location"] == f"/creators/#creator-{creator.pk}"


def test_refresh_now_claims_the_user_and_says_so(htmx: Client, fakebili: Any) -> None:
    creator = make_creator(name="UP主")
    row = htmx.post("/creators/42/refresh").content.decode()
    assert row.lstrip().startswith(f'<li id="creator-{creator.pk}"')
    assert "UP主 is being refreshed." in row
    assert "Refreshing…" in row
    assert Creator.objects.get().refreshing_since is not None


def _hold_justoneapi() -> Creator:
    Configuration.objects.filter(pk=Configuration.load().pk).update(
        justoneapi_stop_reason="JustOneAPI code 303: daily quota used up.",
        justoneapi_stop_until=timezone.now() + timedelta(hours=3),
    )
    return make_creator(provider=Creator.Provider.JUSTONEAPI)


def test_refresh_now_says_why_it_cannot_be(htmx: Client) -> None:
    creator = _hold_justoneapi()
    response = htmx.post("/creators/42/refresh")
    assert response.status_code == 200
    row = response.content.decode()
    assert f'id="creator-{creator.pk}"' in row
    note = re.search(r'<div class="small alert creator-note"[^>]*>(.*?)</div>', row)
    assert note is not None
    assert "daily quota used up" in note.group(1)
    assert "Refreshes through JustOneAPI resume at" in note.group(1)
    assert Creator.objects.get().refreshing_since is None


def test_refresh_now_without_javascript_shows_the_refusal_as_an_error(
    browser: Client,
) -> None:
    _hold_justoneapi()
    response = browser.post("/creators/42/refresh", follow=True)
    assert response.status_code == 200
    assert '<li class="message-error">' in response.content.decode()
    assert "daily quota used up" in response.content.decode()


def test_refresh_from_the_detail_page_goes_back_there(
    browser: Client, fakebili: Any
) -> None:
    make_creator()
    response = browser.post("/creators/42/refresh", {"back": "detail"})
    assert response["Location"] == "/creators/42/"


def test_unfollow_asks_first_and_deletes_the_catalog(
    browser: Client, htmx: Client
) -> None:
    creator = make_creator(name="UP主")
    make_video(creator, 1)
    page = browser.get("/creators/").content.decode()
    confirm = re.search(
        r'action="/creators/42/unfollow"[^>]*hx-confirm="([^"]*)"', page
    )
    assert confirm is not None
    assert "Unfollow UP主?" in confirm.group(1)
    response = htmx.post("/creators/42/unfollow")
    assert response.status_code == 200
    assert response.content == b""
    assert not Creator.objects.exists()
    assert not CreatorVideo.objects.exists()


def test_unfollow_without_javascript_says_so(browser: Client) -> None:
    make_creator(name="UP主")
    response = browser.post("/creators/42/unfollow", follow=True)
    assert "Unfollowed UP主." in response.content.decode()


def test_the_actions_take_post_only_and_unknown_users_are_404(
    browser: Client,
) -> None:
    make_creator()
    assert browser.get("/creators/42/refresh").status_code == 405
    assert browser.get("/creators/42/unfollow").status_code == 405
    assert browser.get("/creators/7/").status_code == 404
    assert browser.get("/creators/7/edit").status_code == 404
    assert browser.post("/creators/7/refresh").status_code == 404
    assert browser.post("/creators/7/unfollow").status_code == 404


def test_the_live_renderer_pushes_the_row() -> None:
    creator = make_creator(name="UP主", status=Creator.Status.OK, video_count=3)
    make_video(creator, 1)
    html = RENDERERS["creator"](creator.pk)
    assert html.lstrip().startswith(
        f'<li id="creator-{creator.pk}" class="item creator">'
    )
    assert "1 of 3 videos catalogued" in html
    assert "Up to date" in html
    assert RENDERERS["creator"](999) == ""


# The detail page


def test_the_detail_page_shows_the_user_and_its_videos(browser: Client) -> None:
    creator = make_creator(name="UP主", face=FACE, video_count=2)
    make_video(
        creator,
        1,
        title="第一个视频",
        cover=COVER,
        duration=3725,
        play=123456,
        danmaku=789,
        category="日常",
        published=datetime(2024, 5, 6, 7, 8, tzinfo=timezone.get_current_timezone()),
    )
    make_video(creator, 2, duration=65)
    page = browser.get("/creators/42/").content.decode()
    assert "<h1>UP主</h1>" in page
    assert f'src="{proxied(FACE)}"' in page
    assert "2 of 2 videos catalogued" in page
    assert f'src="{proxied(COVER)}"' in page
    item = page[page.index('<li id="video-BV1xx411c001"') :]
    item = item[: item.index("</li>")]
    assert 'loading="lazy"' in item
    assert 'href="https://www.bilibili.com/video/BV1xx411c001"' in item
    assert "第一个视频" in item
    assert "2024-05-06" in item
    assert "1:02:05" in item
    assert "123,456" in item
    assert "789" in item
    assert "日常" in item
    assert "1:05" in page


def test_videos_are_sorted_filtered_and_paged_with_the_filters_kept(
    browser: Client,
) -> None:
    creator = make_creator()
    for n in range(1, 36):
        make_video(creator, n, category="游戏" if n % 2 else "日常")
    newest = browser.get("/creators/42/").content.decode()
    ids = video_ids(newest)
    assert len(ids) == 30
    assert ids[0] == "BV1xx411c035"
    assert "35 videos" in newest
    # The categories of this catalog are offered.
    assert '<option value="游戏">游戏</option>' in field_html(newest, "category")

    page = browser.get("/creators/42/", {"order": "play", "category": "游戏"})
    body = page.content.decode()
    ids = video_ids(body)
    assert ids == [f"BV1xx411c{n:03d}" for n in range(1, 36, 2)]
    assert "18 videos" in body
    assert "page=2" not in body

    first = browser.get("/creators/42/", {"order": "-play", "q": "视频"}).content
    body = first.decode()
    link = re.search(r'href="(\?[^"]*page=2[^"]*)" rel="next"', body)
    assert link is not None
    query = link.group(1).replace("&amp;", "&")
    assert "order=-play" in query and "q=" in query and "part" not in query
    second = browser.get("/creators/42/" + query).content.decode()
    assert video_ids(second) == [f"BV1xx411c{n:03d}" for n in range(5, 0, -1)]
    assert 'rel="prev"' in second
    assert "Page 2 of 2" in second


def test_videos_are_filtered_by_title_and_dates(browser: Client) -> None:
    creator = make_creator()
    day = timezone.now().replace(hour=12) - timedelta(days=10)
    make_video(creator, 1, title="旧的", published=day - timedelta(days=5))
    make_video(creator, 2, title="新的 vlog", published=day)
    make_video(creator, 3, title="最新 vlog", published=day + timedelta(days=5))
    body = browser.get("/creators/42/", {"q": "VLOG"}).content.decode()
    assert video_ids(body) == ["BV1xx411c003", "BV1xx411c002"]
    body = browser.get(
        "/creators/42/",
        {
            "since": f"{day - timedelta(days=1):%Y-%m-%d}",
            "until": f"{day + timedelta(days=1):%Y-%m-%d}",
        },
    ).content.decode()
    assert video_ids(body) == ["BV1xx411c002"]
    assert 'type="date"' in field_html(body, "since")


def test_bad_filters_are_form_errors(browser: Client) -> None:
    make_video(make_creator(), 1)
    response = browser.get(
        "/creators/42/", {"since": "2024-02-01", "until": "2024-01-01"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "“Published since” must be before “Published before”." in body
    assert "Correct the filters above to see the videos." in body
    response = browser.get("/creators/42/", {"order": "random"})
    assert "Select a valid choice." in field_html(response.content.decode(), "order")


def test_an_empty_catalog_says_so(browser: Client) -> None:
    make_creator()
    body = browser.get("/creators/42/").content.decode()
    assert "No videos known yet." in body
    make_video(Creator.objects.get(), 1)
    body = browser.get("/creators/42/", {"q": "nothing"}).content.decode()
    assert "No video matches these filters." in body


def test_the_plays_chart_needs_two_snapshots(browser: Client) -> None:
    creator = make_creator()
    start = timezone.now() - timedelta(days=3)
    body = browser.get("/creators/42/").content.decode()
    assert "Not enough data yet" in body
    assert 'class="chart"' not in body
    CreatorSnapshot.objects.create(
        creator=creator, at=start, videos=1, play=1200, danmaku=3
    )
    body = browser.get("/creators/42/").content.decode()
    assert "Not enough data yet" in body
    CreatorSnapshot.objects.create(
        creator=creator, at=start + timedelta(days=2), videos=2, play=98765, danmaku=9
    )
    body = browser.get("/creators/42/").content.decode()
    assert "Not enough data yet" not in body
    svg = body[body.index('<svg class="chart"') : body.index("</svg>") + 6]
    assert 'class="chart-line"' in svg
    assert "1,200" in svg and "98,765" in svg
    assert f"{timezone.localtime(start):%Y-%m-%d}" in svg
    assert f"{timezone.localtime(start + timedelta(days=2)):%Y-%m-%d}" in svg


def test_each_video_has_a_sparkline_of_its_plays_without_a_query_per_video(
    browser: Client,
) -> None:
    creator = make_creator()
    start = timezone.now() - timedelta(days=2)
    for n in range(1, 4):
        video = make_video(creator, n)
        for day, play in enumerate((10, 20 * n, 30 * n)):
            VideoSnapshot.objects.create(
                video=video, at=start + timedelta(days=day), play=play, danmaku=0
            )
    lone = make_video(creator, 9)
    VideoSnapshot.objects.create(video=lone, at=start, play=5, danmaku=0)
    body = browser.get("/creators/42/").content.decode()
    for n in range(1, 4):
        item = body[body.index(f'<li id="video-BV1xx411c{n:03d}"') :]
        item = item[: item.index("</li>")]
        assert '<svg class="sparkline"' in item
        assert "<polyline points=" in item
    lone_item = body[body.index('<li id="video-BV1xx411c009"') :]
    assert "sparkline" not in lone_item[: lone_item.index("</li>")]

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            browser.get("/creators/42/")
        return len(captured)

    few = count_queries()
    for n in range(10, 30):
        video = make_video(creator, n)
        VideoSnapshot.objects.create(video=video, at=start, play=1, danmaku=0)
        VideoSnapshot.objects.create(video=video, at=timezone.now(), play=2, danmaku=0)
    assert count_queries() == few


# The uploads page


def test_a_finished_upload_says_whether_it_is_visible_on_bilibili(
    browser: Client,
) -> None:
    now = timezone.now()
    seen = UploadJob.objects.create(
        status=UploadJob.Status.DONE, bvid="BV1seen", finished=now, visible_since=now
    )
    waiting = UploadJob.objects.create(
        status=UploadJob.Status.DONE, bvid="BV1wait", finished=now
    )
    failed = UploadJob.objects.create(status=UploadJob.Status.FAILED, finished=now)
    page = browser.get("/uploads/").content.decode()

    def job(pk: int) -> str:
        start = page.index(f'<li id="job-{pk}"')
        return page[start : page.index("</li>\n", page.index('class="actions"', start))]

    assert "Visible on Bilibili" in job(seen.pk)
    assert "Not yet visible" not in job(seen.pk)
    assert "Not yet visible on Bilibili" in job(waiting.pk)
    assert "visible on Bilibili" not in job(failed.pk).lower()
    # The row pushed live says it too.
    assert "Visible on Bilibili" in RENDERERS["upload_job"](seen.pk)


# The charts


def _points(*values: int) -> list[tuple[datetime, float]]:
    start = timezone.now()
    return [(start + timedelta(hours=i), v) for i, v in enumerate(values)]


def test_charts_need_two_points() -> None:
    assert charts.line_chart([], "x") == ""
    assert charts.line_chart(_points(5), "x") == ""
    assert charts.sparkline(_points(5)) == ""
    assert "<svg" in charts.line_chart(_points(5, 6), "x")


def test_a_level_line_and_points_at_one_time_still_draw() -> None:
    level = charts.sparkline(_points(7, 7, 7))
    assert "nan" not in level.lower()
    assert re.findall(r"[\d.]+,([\d.]+)", level) == ["12.0", "12.0", "12.0"]
    when = timezone.now()
    same = charts.line_chart([(when, 1), (when, 2)], "<label>")
    assert "nan" not in same.lower()
    assert "&lt;label&gt;" in same


def test_long_series_are_thinned_keeping_both_ends() -> None:
    points = _points(*range(1000))
    line = charts.sparkline(points)
    dots = re.search(r'points="([^"]*)"', line)
    assert dots is not None
    assert len(dots.group(1).split()) == charts.MAX_POINTS


def test_the_video_list_is_a_partial_for_htmx(htmx: Client) -> None:
    creator = make_creator()
    for n in range(1, 32):
        make_video(creator, n)
    body = htmx.get("/creators/42/", {"part": "videos", "q": "视频"}).content.decode()
    assert body.lstrip().startswith('<div id="creator-videos">')
    assert "<html" not in body
    # Its links lead to the whole page, not to the partial.
    assert 'href="?q=%E8%A7%86%E9%A2%91&amp;page=2"' in body
