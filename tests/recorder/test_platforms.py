from __future__ import annotations

import pytest

from recorder import platforms
from recorder.models import Streamer
from tests.conftest import JsonClient


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://live.bilibili.com/123456", "bilibili"),
        ("https://live.bilibili.com/blanc/76?spm_id_from=x", "bilibili"),
        ("http://live.bilibili.com/h5/3", "bilibili"),
        ("https://b23.tv/abcDEF1", "bilibili"),
        ("https://www.twitch.tv/somebody", "twitch"),
        ("https://www.huya.com/123456", "huya"),
        ("https://live.douyin.com/123456", "douyin"),
    ],
)
def test_it_recognises_supported_rooms(url: str, platform: str) -> None:
    assert platforms.recognise(url) == platform


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/live",
        "https://space.bilibili.com/123",
        "https://live.bilibili.com/",
    ],
)
def test_it_refuses_what_no_recorder_supports(url: str) -> None:
    with pytest.raises(platforms.UnsupportedUrl):
        platforms.recognise(url)


def test_the_room_id_is_read_from_bilibili_urls() -> None:
    assert platforms.bilibili_room("https://live.bilibili.com/blanc/76?x=1") == "76"
    assert platforms.bilibili_room("https://b23.tv/abc") is None


@pytest.mark.django_db
def test_an_unsupported_url_is_a_400_and_leaves_no_row(api: JsonClient) -> None:
    r = api.post("/api/v1/streamers", {"url": "https://example.com/live"})
    assert r.status_code == 400
    assert r.json()["error"].startswith("url: No recorder supports this URL")
    assert not Streamer.objects.exists()


@pytest.mark.django_db
def test_the_platform_is_stored_and_shown(api: JsonClient) -> None:
    assert (
        api.post("/api/v1/streamers", {"url": "https://www.twitch.tv/somebody"}).json()[
            "platform"
        ]
        == "twitch"
    )
    assert Streamer.objects.get().platform == "twitch"
