"""A live room recorded by the real processes: the recorder service finds it and records it,
stopping `manage.py serve` closes the segment it was writing instead of killing it, and a
recorder killed with SIGKILL leaves a segment the next one repairs, in the same session, with the
time it was down listed as a gap."""

from __future__ import annotations

import os
import signal
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from biliup_site.models import Configuration
from tests import media
from tests.fakebili.server import FakeBilibili
from tests.livesite import (
    configure,
    register_admin,
    running_site,
    segment_being_written,
)
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
    with running_site(tmp_path / "site", **fake.env()) as site:
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

        # A few seconds of media in the segment, as the recorder counts it: bytes would not
        # do (the CDN opens a pull with a whole GOP, and a loaded machine delivers in bursts).
        def recorded_seconds() -> float:
            rows = session.get(f"{site.url}/api/v1/streamers", timeout=10).json()
            return float((rows[0].get("progress") or {}).get("duration") or 0)

        wait_for(lambda: recorded_seconds() > 3, 30, "the segment did not grow")
    # serve has stopped (running_site checks that nothing was left running).
    assert not list(folder.glob("*.part"))
    [segment] = folder.glob("*.flv")
    probe = media.probe(segment)
    assert probe.decode_errors == ""
    assert probe.duration > 2


def test_a_recorder_killed_with_sigkill_is_recovered_and_the_session_goes_on(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    with running_site(tmp_path / "site", **fake.env()) as site:
        session = register_admin(site)
        api = f"{site.url}/api/v1"
        configure(session, site, event_loop_interval=5, delay=0)
        fake.configure_room(ROOM, danmaku_interval=0.5)  # chat beside the segments
        session.post(
            f"{api}/streamers",
            json={
                "url": f"https://live.bilibili.com/{ROOM}",
                "remark": "demo",
                "split_time": 600,
            },
            timeout=10,
        ).raise_for_status()
        folder = site.recordings_dir / "demo"
        part, writer = segment_being_written(site, folder, 120_000, 40)
        chat = part.with_name(part.name.removesuffix(".flv.part") + ".xml")
        wait_for(lambda: chat.exists() and b"<d p=" in chat.read_bytes(), 20, "no chat")

        os.kill(writer, signal.SIGKILL)
        # Killed mid-session, the chat beside the segment still parses.
        ET.parse(chat)

        # serve starts the recorder again; its watcher sees the dead recording at its first
        # round, repairs the half-written segment and records on in the same session. The
        # round may have read the default interval before the PUT above took: its 30 s, the
        # 5 s interval's spread, then the repair.
        recovered = part.with_name(part.name.removesuffix(".part"))
        default_interval = Configuration._meta.get_field("event_loop_interval").default
        wait_for(
            recovered.exists,
            default_interval + 30,
            "the killed segment was not recovered",
        )
        wait_for(lambda: any(folder.glob("*.part")), 30, "the recording did not go on")
        fake.set_live(ROOM, 0)
        wait_for(
            lambda: (
                session.get(f"{api}/streamers", timeout=10).json()[0]["status"]
                == "Idle"
            ),
            30,
            "the recording did not end with the broadcast",
        )
        [info] = session.get(f"{api}/streamer_info", timeout=10).json()
        files = session.get(f"{api}/streamer_info/{info['id']}/files", timeout=10)
        paths = sorted(Path(f["file_path"]) for f in files.json())
        chats = {Path(f["file_path"]): f["danmaku"] for f in files.json()}

        # The record job that ended with the broadcast is on record in django-q2's admin: its
        # result is saved once the job returns, a moment after it freed the streamer.
        def on_record() -> bool:
            admin = session.get(f"{site.url}/admin/django_q/success/", timeout=10)
            assert admin.status_code == 200
            return "record-1" in admin.text

        wait_for(on_record, 20, "the record job is not in django-q2's successes")

    assert len(paths) == 2
    assert recovered in paths
    # The time the recorder was down: from the killed segment's last write to the new one.
    [gap] = info["gaps"]
    assert gap["seconds"] > 0
    assert not list(folder.glob("*.part"))
    for path in paths:
        probe = media.probe(path)
        assert probe.decode_errors == "", path
        assert probe.streams == ["h264", "aac"]
    assert media.probe(recovered, decode=False).duration > 2
    # The recovered segment keeps its chat, counted; the next one has its own.
    assert chats[recovered]["path"] == str(chat)
    assert chats[recovered]["counts"]["danmaku"] >= 1
    for path in paths:
        assert ET.parse(path.with_suffix(".xml")).getroot().tag == "i"
