"""Uploads run by the real processes of `manage.py serve` against the fake Bilibili: a live session
becomes one archive while progress shows, and an upload worker killed with SIGKILL mid-file is
resumed by the next one, re-sending no more than the chunks it had in flight (the adaptive
controller had opened more than `threads`), with exactly one archive."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakebili.server import FakeBilibili
from tests.livesite import (
    Site,
    collect_messages,
    holder_of,
    open_progress_socket,
    register_admin,
    running_site,
)
from tests.polling import wait_for

pytestmark = pytest.mark.integration

ROOM = 23058
MiB = 1024 * 1024


@pytest.fixture
def fake() -> Iterator[FakeBilibili]:
    with FakeBilibili() as fake:
        yield fake


def _site_env(fake: FakeBilibili) -> dict[str, str]:
    return {
        **fake.env(),
        "BILIUP_UPLOAD_RETRY_SECONDS": "0.1",
        "BILIUP_SUBMIT_RETRY_SECONDS": "0.1",
        "BILIUP_REVIEW_POLL_SECONDS": "1",
    }


def _log_in(session: requests.Session, site: Site, fake: FakeBilibili) -> str:
    """A Bilibili account through the site's QR login, confirmed on the fake."""
    started = session.get(f"{site.url}/api/v1/qrcode", timeout=10).json()
    fake.confirm_qr(started["qrcode_key"])
    done = session.post(
        f"{site.url}/api/v1/login_by_qrcode",
        json={"qrcode_key": started["qrcode_key"]},
        timeout=10,
    )
    assert done.status_code == 200, done.text
    return done.json()["filename"]


def _template(session: requests.Session, site: Site, account: str) -> str:
    r = session.post(
        f"{site.url}/api/v1/upload_streamers",
        json={
            "id": None,
            "template_name": "录播",
            "title": "{streamer} %Y-%m-%d {title}",
            "tid": 171,
            "tag": "录播",
            "user_cookie": account,
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return "录播"


def _jobs(session: requests.Session, site: Site) -> list[dict[str, Any]]:
    return session.get(f"{site.url}/api/v1/upload_jobs", timeout=10).json()


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_a_live_session_is_uploaded_as_it_records_and_becomes_one_archive(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    fake.add_room(ROOM, speed=1, title="今晚打游戏", uname="主播A")
    # As on Bilibili, the archive is in review for a while before it is public.
    fake.set_review(3)
    with running_site(tmp_path / "site", **_site_env(fake)) as site:
        session = register_admin(site)
        session.put(
            f"{site.url}/api/v1/configuration",
            json={"delay": 0, "disk_reserve": 0, "event_loop_interval": 5},
            timeout=10,
        ).raise_for_status()
        template = _template(session, site, _log_in(session, site, fake))
        session.post(
            f"{site.url}/api/v1/streamers",
            json={
                "url": f"https://live.bilibili.com/{ROOM}",
                "remark": "主播A",
                "split_time": 10,
                "template_name": template,
            },
            timeout=10,
        ).raise_for_status()
        socket = open_progress_socket(site, session)
        messages = collect_messages(socket)
        fake.set_live(ROOM, 1)
        fake.set_stream(ROOM, offline_after_seconds=24)

        # A segment is uploaded while the room is still live.
        def uploaded_while_live() -> bool:
            jobs = _jobs(session, site)
            live = fake.rooms()[0]["live_status"] == 1
            return bool(
                live
                and jobs
                and any(f["status"] == "uploaded" for f in jobs[0]["files"])
            )

        wait_for(
            uploaded_while_live,
            30,
            f"no segment uploaded while live\n{site.log_tail()}",
        )
        wait_for(
            lambda: _jobs(session, site)[0]["status"] == "done",
            60,
            f"the session's job did not finish\n{site.log_tail()}",
        )
        [job] = _jobs(session, site)
        assert job["bvid"].startswith("BV") and job["error"] == ""
        [archive] = fake.archives()
        assert archive["bvid"] == job["bvid"]
        on_fake = {f["filename"]: f["md5"] for f in fake.upos_files()}
        files = job["files"]
        assert len(files) >= 3
        assert [v["filename"] for v in archive["videos"]] == [
            f["remote_filename"] for f in files
        ]
        assert [on_fake[f["remote_filename"]] for f in files] == [
            _md5(Path(f["path"])) for f in files
        ]
        assert archive["body"]["title"].startswith("主播A ")
        # The progress socket showed the job moving, then its bvid.
        wait_for(
            lambda: any(
                m["job"]["status"] == "done"
                for m in messages
                if m["type"] == "upload_job"
            ),
            10,
            f"no done message on the progress socket; saw {_statuses(messages)}",
        )
        socket.close()
        statuses = [m["job"]["status"] for m in messages if m["type"] == "upload_job"]
        # Between segments the job left its worker: `waiting` for the next segment, which
        # queues it again. A message carries the row as the consumer reads it, so a short
        # `waiting` spell (the next segment closing at once, as on a loaded machine) may show
        # only as `queued` again after it started; and bytes were sent before the end.
        started = next(i for i, status in enumerate(statuses) if status != "queued")
        assert {"waiting", "queued"} & set(statuses[started:]), statuses
        assert any(
            m["job"]["bytes_done"] > 0 and m["job"]["status"] != "done"
            for m in messages
            if m["type"] == "upload_job"
        )
        done = next(
            m["job"]
            for m in messages
            if m["type"] == "upload_job" and m["job"]["status"] == "done"
        )
        assert done["bvid"] == job["bvid"]
        # The archive goes through review to public, as the uploads page shows.
        assert job["review_state"] in ("reviewing", "public")
        wait_for(
            lambda: _jobs(session, site)[0]["review_state"] == "public",
            30,
            f"the archive's review did not end public\n{site.log_tail()}",
        )
        page = session.get(f"{site.url}/uploads/", timeout=10).text
        assert "badge-public" in page and job["bvid"] in page
        # The archive is then looked for, and found, in the account's own catalog.
        wait_for(
            lambda: _jobs(session, site)[0]["visible"],
            30,
            f"the archive was not seen in its account's catalog\n{site.log_tail()}",
        )


def _statuses(messages: list[dict[str, Any]]) -> list[str]:
    return [
        f"{m['job']['status']}:{m['job']['bytes_done']}"
        if m["type"] == "upload_job"
        else str(m.get("error") or m["type"])
        for m in messages
    ]


def test_a_killed_upload_worker_is_resumed_from_its_last_acknowledged_chunk(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    fake.configure_upos(chunk_size=1 * MiB)
    fake.set_upos_faults(delay=0.3)  # slow chunks: time to grow, and to kill mid-file
    with running_site(tmp_path / "site", **_site_env(fake)) as site:
        session = register_admin(site)
        session.put(
            f"{site.url}/api/v1/configuration",
            json={
                "threads": 3,
                "event_loop_interval": 5,
                "upload_line_max_connections": 8,
            },
            timeout=10,
        ).raise_for_status()
        account = _log_in(session, site, fake)
        path = site.recordings_dir / "big.flv"
        path.write_bytes(os.urandom(60 * MiB))
        r = session.post(
            f"{site.url}/api/v1/uploads",
            json={
                "files": ["big.flv"],
                "params": {"user_cookie": account, "tid": 171, "tag": "a"},
            },
            timeout=10,
        )
        assert r.status_code == 200, r.text

        # Killed once the controller has opened more connections than it started with: the
        # chunks in flight then are more than `threads`, and at most the line's ceiling.
        wait_for(
            lambda: (
                (jobs := _jobs(session, site))
                and jobs[0]["connections"] > 3
                and jobs[0]["bytes_done"] >= 8 * MiB
            ),
            60,
            f"the upload did not start or grow\n{site.log_tail()}",
        )
        worker = holder_of(path, site)
        assert worker is not None, "no process has the file open"
        os.kill(worker, signal.SIGKILL)
        killed_at = fake.upos_uploads()[0]["puts"]

        wait_for(
            lambda: _jobs(session, site)[0]["status"] == "done",
            90,
            f"the job was not resumed\n{site.log_tail()}",
        )
        [job] = _jobs(session, site)
        assert job["attempts"] == 2
        [state] = fake.upos_uploads()
        # 60 chunks in all; those in flight when the worker died (at most 8) go again.
        assert 60 <= state["puts"] <= 60 + 8, (state["puts"], killed_at)
        assert max(state["puts_by_part"].values()) <= 2
        [archive] = fake.archives()
        assert archive["bvid"] == job["bvid"]
        [on_fake] = fake.upos_files()
        assert on_fake["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
