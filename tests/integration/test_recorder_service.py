"""The recorder service at scale: many rooms recorded by one process, `download_limit` (set
through the API while everything runs) the only limit; and, against one PostgreSQL, a second
machine's recorder taking over a room whose recorder froze, without the room being recorded
twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.fakebili.server import FakeBilibili
from tests.livesite import (
    BASE_DIR,
    Site,
    configure,
    descendants,
    holder_of,
    register_admin,
    running_site,
    segment_being_written,
    sized,
)
from tests.polling import wait_for

pytestmark = pytest.mark.integration

FIRST_ROOM = 24000
ROOMS = 20


@pytest.fixture
def fake() -> Iterator[FakeBilibili]:
    with FakeBilibili() as fake:
        for n in range(ROOMS):
            fake.add_room(FIRST_ROOM + n, speed=1, uname=f"主播{n}")
        yield fake


def add_streamers(session: requests.Session, site: Site, count: int) -> None:
    for n in range(count):
        session.post(
            f"{site.url}/api/v1/streamers",
            json={
                "url": f"https://live.bilibili.com/{FIRST_ROOM + n}",
                "remark": f"room-{n}",
            },
            timeout=10,
        ).raise_for_status()


def states(session: requests.Session, site: Site) -> dict[str, str]:
    rows = session.get(f"{site.url}/api/v1/streamers", timeout=10).json()
    return {row["inner"]["remark"]: row["status"] for row in rows}


def part_sizes(site: Site) -> dict[str, int]:
    return {
        part.parent.name: size
        for part, size in sized(site.recordings_dir.glob("*/*.part"))
    }


def test_download_limit_is_the_only_limit_and_one_process_records_every_room(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    with running_site(tmp_path / "site", **fake.env()) as site:
        session = register_admin(site)
        configure(session, site, event_loop_interval=5, download_limit=2)
        add_streamers(session, site, ROOMS)
        for n in range(ROOMS):
            fake.set_live(FIRST_ROOM + n, 1)
        wait_for(lambda: len(part_sizes(site)) == 2, 60, "two rooms did not start")
        wait_for(
            lambda: list(states(session, site).values()).count("Working") == 2,
            20,
            "two rooms did not show Working",
        )
        assert len(part_sizes(site)) == 2  # the limit holds while the others are live

        # Raised through the API, nothing else changed: every room records, in one process.
        configure(session, site, download_limit=ROOMS)
        wait_for(
            lambda: len(part_sizes(site)) == ROOMS,
            60,
            "not every room started once the limit was raised",
        )
        first = part_sizes(site)
        wait_for(
            lambda: all(size > first[name] for name, size in part_sizes(site).items()),
            30,
            "not every room's file grew",
        )
        holders = {
            holder_of(part, site) for part in site.recordings_dir.glob("*/*.part")
        }
        recorder = [
            pid for pid, cmd in descendants(site.serve_pid).items() if "recorder" in cmd
        ]
        assert holders == set(recorder), (holders, recorder)
        assert all(status == "Working" for status in states(session, site).values())


def scale_profile() -> bool:
    return os.environ.get("BILIUP_DB") == "postgres"


@pytest.mark.skipif(
    not scale_profile(),
    reason="two machines share one PostgreSQL (the scale profile); SQLite is one machine's",
)
def test_a_second_machines_recorder_takes_over_a_frozen_one_and_never_records_twice(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    room = FIRST_ROOM
    # A short heartbeat timeout on both machines, so the takeover comes within the test.
    env = {**fake.env(), "BILIUP_RECORDER_STALE_SECONDS": "6"}
    with running_site(tmp_path / "site", **env) as site:
        session = register_admin(site)
        api = f"{site.url}/api/v1"
        configure(session, site, event_loop_interval=5, delay=0)
        add_streamers(session, site, 1)
        fake.set_live(room, 1)
        folder = site.recordings_dir / "room-0"
        first_part, machine_a = segment_being_written(site, folder, 50_000, 40)
        # The second machine: the same database and queue, another host name.
        machine_b = subprocess.Popen(
            [sys.executable, "manage.py", "recorder"],
            cwd=BASE_DIR,
            env={**site.env, "BILIUP_HOSTNAME": "machine-b"},
            stdout=(tmp_path / "machine-b.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            # Machine A freezes (a hung box, a lost network): no heartbeat, its pid alive.
            os.kill(machine_a, signal.SIGSTOP)
            try:
                wait_for(
                    lambda: _worker_of(site).startswith("machine-b:"),
                    40,
                    "machine B did not take the room over",
                )
                wait_for(
                    lambda: _b_bytes(folder, site) > 50_000,
                    30,
                    "machine B did not record",
                )
            finally:
                os.kill(machine_a, signal.SIGCONT)
            # Machine A wakes up: its next heartbeat finds the room taken, and it stops writing
            # without touching the row or the session, which are machine B's now.
            wait_for(
                lambda: not _writes_in(machine_a, folder),
                30,
                "machine A went on recording a room machine B holds",
            )
            grown = _b_bytes(folder, site)
            wait_for(
                lambda: _b_bytes(folder, site) > grown + 20_000,
                30,
                "machine B stopped recording when machine A woke up",
            )
            assert _worker_of(site).startswith("machine-b:")
            fake.set_live(room, 0)
            wait_for(
                lambda: not any(folder.glob("*.part")),
                40,
                "machine B did not end the recording",
            )
            [info] = session.get(f"{api}/streamer_info", timeout=10).json()

            def files() -> list[dict[str, object]]:
                return session.get(
                    f"{api}/streamer_info/{info['id']}/files", timeout=10
                ).json()

            # Machine A's segment and machine B's, one session. A segment is renamed from its
            # .part before its row is written, so the row may come a moment after.
            wait_for(
                lambda: len(files()) >= 2,
                20,
                "the session does not list both machines' segments",
            )
        finally:
            machine_b.send_signal(signal.SIGTERM)
            machine_b.wait(40)


def _writes_in(pid: int, folder: Path) -> bool:
    """The process has a file of the folder open (one since deleted too: machine B's repair of
    the segment machine A left writes a new file)."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if fd.readlink().as_posix().startswith(folder.as_posix()):
                return True
        except OSError:
            continue
    return False


def _b_bytes(folder: Path, site: Site) -> int:
    """The size of the segments being written by a process outside the site (machine B)."""
    return sum(
        size
        for part, size in sized(folder.glob("*.part"))
        if holder_of(part, site) is None
    )


def _worker_of(site: Site) -> str:
    """The streamer's owner as the database has it (the API does not show it)."""
    env = site.env
    with psycopg.connect(
        host=env["BILIUP_DB_HOST"],
        port=int(env.get("BILIUP_DB_PORT", "5432")),
        user=env["BILIUP_DB_USER"],
        password=env.get("BILIUP_DB_PASSWORD", ""),
        dbname=env["BILIUP_DB_NAME"],
        autocommit=True,
    ) as db:
        row = db.execute("SELECT worker FROM recorder_streamer").fetchone()
    return row[0] if row else ""
