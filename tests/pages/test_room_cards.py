"""Room cards on the dashboard and the streamers page: the live title, the cover through the image
proxy (kept on disk and in the browser), the area, the online count while live, and the quality
recorded against the best offered."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from biliup_site.live import PROGRESS_GROUP
from recorder import cards
from recorder.models import Streamer
from tests.factories import make_streamer

pytestmark = pytest.mark.django_db

COVER = "https://i0.hdslb.com/bfs/live/new_room_cover/abc123.jpg"


def live_streamer(**fields: Any) -> Streamer:
    card = {
        "remark": "主播A",
        "platform": "bilibili",
        "live_title": "今晚打游戏 " * 8,
        "live_cover": COVER,
        "live_area": "英雄联盟",
        "live_parent_area": "网游",
        "live_online": 321,
        "live_seen": timezone.now(),
    }
    return make_streamer(**(card | fields))


def proxied(url: str) -> str:
    return escape(f"/api/v1/proxy?url={quote(url, safe='')}")


@pytest.mark.parametrize("path", ["/", "/streamers/"])
def test_a_live_room_shows_its_title_cover_area_and_online_count(
    browser: Client, path: str
) -> None:
    streamer = live_streamer(
        state=Streamer.State.RECORDING,
        progress={
            "bytes": 5 * 1024 * 1024,
            "duration": 3725,
            "segments": 2,
            "stream": "flv/avc",
            "qn": 10000,
            "origin_qn": 10000,
        },
    )
    page = browser.get(path).content.decode()
    assert f'id="room-cover-{streamer.pk}"' in page
    assert f'<img src="{proxied(COVER)}"' in page
    assert escape(streamer.live_title) in page
    assert "网游 · 英雄联盟" in page
    assert "321 online" in page
    assert "1:02:05" in page and "5.0\xa0MB" in page
    assert "Original (10000), the best offered" in page
    # A new cover changes the key: the dashboard's cards reload to show it.
    assert f'data-key="recording-False-2-{streamer.cover_key}"' in page


def test_a_recording_below_the_best_says_both_qualities(browser: Client) -> None:
    live_streamer(
        state=Streamer.State.RECORDING,
        progress={"segments": 1, "stream": "flv/avc", "qn": 250, "origin_qn": 10000},
    )
    page = browser.get("/").content.decode()
    assert "Ultra HD (250) of the best Original (10000)" in page


def test_an_offline_room_keeps_its_title_and_cover_without_an_online_count(
    browser: Client,
) -> None:
    live_streamer(live_online=None)
    page = browser.get("/").content.decode()
    assert "今晚打游戏" in page and proxied(COVER) in page
    assert 'class="room-online"' not in page


def test_a_room_without_a_card_shows_a_placeholder(browser: Client) -> None:
    streamer = make_streamer(url="https://www.twitch.tv/someone", remark="Someone")
    page = browser.get("/").content.decode()
    cover = page.split(f'id="room-cover-{streamer.pk}"')[1].split("</div>")[0]
    assert "<img" not in cover and ">S</span>" in cover
    assert 'class="room-live"' not in page


def test_a_change_on_the_card_is_pushed(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(
        "biliup_site.live.notify",
        lambda group, event, *, kind, pk: sent.append((group, pk)),
    )
    streamer = live_streamer()
    assert not cards.store(
        streamer, cards.Card("今晚打游戏 " * 8, COVER, "英雄联盟", "网游", 321)
    )
    assert sent == []
    assert cards.store(streamer, cards.Card("新标题", COVER, "英雄联盟", "网游", 400))
    assert sent == [(PROGRESS_GROUP, streamer.pk)]
    streamer.refresh_from_db()
    assert (streamer.live_title, streamer.live_online) == ("新标题", 400)


def test_the_cover_is_fetched_once_then_served_from_the_disk_cache(
    api: Any, fakebili: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    path = "/bfs/live/new_room_cover/23058.jpg"
    url = {"url": fakebili.url + path}
    first = api.get("/api/v1/proxy", url)
    assert first.status_code == 200
    assert first["Content-Type"] == "image/jpeg"
    assert "max-age=604800" in first["Cache-Control"]
    etag = first["ETag"]
    assert etag.startswith('"')

    again = api.get("/api/v1/proxy", url)
    assert again.content == first.content and again["ETag"] == etag
    revalidated = api.get("/api/v1/proxy", url, HTTP_IF_NONE_MATCH=etag)
    assert revalidated.status_code == 304
    assert fakebili.hits(path) == 1

    # A host taken off the list is refused, cached or not.
    settings.PROXY_ALLOWED_HOSTS = ["*.hdslb.com"]
    assert api.get("/api/v1/proxy", url).status_code == 403


def test_the_disk_cache_can_be_turned_off(
    api: Any, fakebili: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    settings.PROXY_CACHE_DAYS = 0
    path = "/bfs/live/new_room_cover/1.jpg"
    for _ in range(2):
        assert api.get("/api/v1/proxy", {"url": fakebili.url + path}).status_code == 200
    assert fakebili.hits(path) == 2
    assert not (tmp_path / "cache").exists()


def test_the_pushed_fragment_carries_the_title_and_online_count() -> None:
    from biliup_site.consumers import render_streamer

    streamer = live_streamer(state=Streamer.State.RECORDING, progress={"segments": 1})
    with translation.override("en"):
        html = render_streamer(streamer.pk)
    assert html.lstrip().startswith(f'<div id="streamer-state-{streamer.pk}"')
    assert "今晚打游戏" in html and "321 online" in html
    # The cover is not pushed: its key is, so the dashboard's cards reload when it changes.
    assert "<img" not in html and streamer.cover_key in html
