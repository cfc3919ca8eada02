"""A job's progress travels from a real qcluster worker, through the channel layer, to a socket.

Unit tests run tasks inline over an in-memory layer; only separate processes show that a worker
can reach daphne's consumers. The site here is real, started with `manage.py serve` by
tests/livesite.py (the one tests/integration/conftest.py shares, as new) and driven over loopback
HTTP and WebSocket only, so this test never touches pytest-django's test database. It follows the
suite's profile (BILIUP_DB, BILIUP_REDIS_URL), on a database, queue and channel prefix of its own.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection

from tests.integration.shared import Shared
from tests.livesite import (
    Site,
    add_account,
    open_progress_socket,
    register_admin,
    upload_segment,
)

pytestmark = pytest.mark.integration

JOB_SECONDS = 20
IDLE_SECONDS = 7
# The account has no login (no cookies.json is written): the worker says so and fails the job.
NO_LOGIN = "has no login: log in, then retry"


@pytest.fixture(scope="module")
def site(shared_for_module: Shared) -> Site:
    return shared_for_module.site


@pytest.fixture(scope="module")
def admin(site: Site) -> requests.Session:
    """Logged in as the first admin, with a Bilibili account to upload with."""
    session = register_admin(site)
    add_account(session, site, "cookies.json")
    return session


def _job_messages(
    ws: ClientConnection, job_id: int, until: str, site: Site
) -> list[dict[str, Any]]:
    """The socket's messages about one job, up to the first with status `until`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        try:
            message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        except TimeoutError:
            break
        if message.get("type") == "upload_job" and message["job"]["id"] == job_id:
            seen.append(message["job"])
            if message["job"]["status"] == until:
                return seen
    pytest.fail(
        f"No {until!r} message for job {job_id} within {JOB_SECONDS} s; saw {seen}\n{site.log_tail()}"
    )


def test_worker_progress_reaches_the_browser_socket(
    site: Site, admin: requests.Session
) -> None:
    with open_progress_socket(site, admin) as ws:
        segment = upload_segment(admin, site, "seg.flv", "x", account="cookies.json")
        jobs = admin.get(f"{site.url}/api/v1/upload_jobs", timeout=10).json()
        job_id = jobs[0]["id"]
        seen = _job_messages(ws, job_id, "failed", site)

    # The claim (running) and the failure are two events, but the consumer re-reads the row, so
    # a slow first delivery may already show the final state.
    assert {job["status"] for job in seen} <= {"running", "failed"}
    assert seen[-1]["attempts"] == 1
    assert NO_LOGIN in seen[-1]["error"]
    assert [f["path"] for f in seen[-1]["files"]] == [str(segment)]


def test_a_socket_idle_for_longer_than_the_layers_poll_stays_open(
    site: Site, admin: requests.Session
) -> None:
    # channels-redis waits 5 s for a message at a time; with redis-py 8's default 5 s read
    # timeout an idle consumer died with TimeoutError (close 1011) at scale.
    with open_progress_socket(site, admin) as ws:
        time.sleep(IDLE_SECONDS)
        upload_segment(admin, site, "idle.flv", "x", account="cookies.json")
        job_id = admin.get(f"{site.url}/api/v1/upload_jobs", timeout=10).json()[0]["id"]
        assert _job_messages(ws, job_id, "failed", site)[-1]["id"] == job_id


def test_it_refuses_an_anonymous_socket(site: Site) -> None:
    # Closing in connect(), before accept, makes daphne turn the handshake down with a 403.
    with pytest.raises(InvalidStatus) as refused:
        open_progress_socket(site, None)

    assert refused.value.response.status_code == 403
