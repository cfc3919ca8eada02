"""A live room recorded by the real processes: the watcher finds it, a recorder worker records it,
and stopping `manage.py serve` closes the segment it was writing instead of killing it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media
from tests.fakebili.server import FakeBilibili
from tests.livesite import register_admin, running_site
from tests.polling import wait_for

pytestmark = pytest.mark.integration

ROOM = 23058


@pytest.fixture
def fake() -> Iterator[FakeBilibili]:
    with FakeBilibili() as fake:
        fake.add_room(ROOM, speed=1)
        fake.set_live(ROOM, 1)
        yield fake


def test_stopping_the_site_closes_the_segment_being_recorded(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    hosts = {
        f"BILIUP_BILIBILI_{name}_URL": fake.url
        for name in ("API", "PASSPORT", "MEMBER", "LIVE_API", "APP_API")
    }
    with running_site(tmp_path / "site", **hosts) as site:
        session = register_admin(site)
        session.post(
            f"{site.url}/api/v1/streamers",
            json={
                "url": f"https://live.bilibili.com/{ROOM}",
                "remark": "demo",
                "split_time": 60,
            },
            timeout=10,
        ).raise_for_status()
        folder = site.recordings_dir / "demo"
        wait_for(lambda: any(folder.glob("*.flv.part")), 30, "no segment was started")
        wait_for(
            lambda: (
                session.get(f"{site.url}/api/v1/streamers", timeout=10).json()[0][
                    "status"
                ]
                == "Working"
            ),
            10,
            "the streamer did not show Working",
        )
        # A few seconds of real-time stream (the clip runs at about 40 kB/s).
        wait_for(
            lambda: sum(p.stat().st_size for p in folder.glob("*.part")) > 120_000,
            20,
            "the segment did not grow",
        )
    # serve has stopped (running_site checks that nothing was left running).
    assert not list(folder.glob("*.part"))
    [segment] = folder.glob("*.flv")
    probe = media.probe(segment)
    assert probe.decode_errors == ""
    assert probe.duration > 2
