"""A job's progress travels from a real qcluster worker, through the channel layer, to a socket.

Unit tests run tasks inline over an in-memory layer; only separate processes show that a worker
can reach daphne's consumers. The site here is real: `manage.py migrate`, daphne and `qcluster`
as subprocesses on a fresh data folder, driven over loopback HTTP and WebSocket only, so this
test never touches pytest-django's test database. It follows the suite's profile: with
BILIUP_DB=postgres it makes (and drops) its own database, and with BILIUP_REDIS_URL it gets its
own django-q2 queue and channels-redis prefix, so a `serve` or a second run on the same Redis
cannot take its tasks or its events.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

pytestmark = pytest.mark.integration

BASE_DIR = settings.BASE_DIR
STARTUP_SECONDS = 20
JOB_SECONDS = 20
NOT_AVAILABLE = "not available in this version yet"


@dataclass
class Site:
    """A running biliup-site: its address, its data folder and its processes' logs."""

    url: str
    data_dir: Path
    recordings_dir: Path
    logs: list[Path] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/ws/progress/"

    def log_tails(self) -> str:
        """The end of each process's output, to explain a failure."""
        tails = []
        for path in self.logs:
            text = path.read_text(errors="replace") if path.exists() else ""
            tails.append(f"--- {path.name} ---\n{text[-3000:]}")
        return "\n".join(tails)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _site_env(data_dir: Path, run_id: str) -> dict[str, str]:
    env = {
        **os.environ,
        "BILIUP_DATA_DIR": str(data_dir),
        "BILIUP_RECORDINGS_DIR": str(data_dir / "recordings"),
        "BILIUP_ALLOWED_HOSTS": "127.0.0.1",
        "BILIUP_TASKS_SYNC": "False",
        "BILIUP_WORKERS": "2",
        "BILIUP_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    if env.get("BILIUP_DB") == "postgres":
        env["BILIUP_DB_NAME"] = f"biliup_it_{run_id}"
    if env.get("BILIUP_REDIS_URL"):
        # django-q2 names its Redis list after the cluster, and the default name is shared by
        # every site on that Redis; Q_CLUSTER_NAME gives this run a queue of its own.
        env["Q_CLUSTER_NAME"] = f"biliup-it-{run_id}"
        env["BILIUP_REDIS_PREFIX"] = (
            f"{env.get('BILIUP_REDIS_PREFIX', 'biliup')}-it-{run_id}"
        )
    return env


def _postgres(env: dict[str, str]) -> Any:
    import psycopg

    return psycopg.connect(
        host=env.get("BILIUP_DB_HOST", "127.0.0.1"),
        port=int(env.get("BILIUP_DB_PORT", "5432")),
        user=env.get("BILIUP_DB_USER", "postgres"),
        password=env.get("BILIUP_DB_PASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    )


@contextlib.contextmanager
def _own_database(env: dict[str, str]) -> Iterator[None]:
    """A Postgres database for this run only (nothing to do on SQLite: the data dir is fresh)."""
    if env.get("BILIUP_DB") != "postgres":
        yield
        return
    name = env["BILIUP_DB_NAME"]
    with _postgres(env) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        with _postgres(env) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _forget_redis_keys(env: dict[str, str]) -> None:
    """Drop this run's queue, stats and channel keys; they would only expire slowly."""
    if not env.get("BILIUP_REDIS_URL"):
        return
    import redis

    client = redis.Redis.from_url(env["BILIUP_REDIS_URL"])
    try:
        for pattern in (
            f"django_q:{env['Q_CLUSTER_NAME']}:*",
            f"{env['BILIUP_REDIS_PREFIX']}*",
        ):
            keys = list(client.scan_iter(match=pattern))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


def _manage(env: dict[str, str], log: Path, *args: str) -> None:
    with log.open("ab") as out:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} failed:\n{log.read_text()}"
    )


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_serving(site: Site, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            requests.get(f"{site.url}/api/v1/users/biliup", timeout=1)
            return
        except requests.ConnectionError:
            pass
        for process in processes:
            # Waiting on the children paces the polling and notices one that died at start.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.05)
                pytest.fail(f"{process.args} exited early:\n{site.log_tails()}")
    pytest.fail(
        f"daphne did not answer within {STARTUP_SECONDS} s:\n{site.log_tails()}"
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("site")
    env = _site_env(data_dir, secrets.token_hex(4))
    port = _free_port()
    site = Site(
        url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        recordings_dir=data_dir / "recordings",
    )
    site.recordings_dir.mkdir()
    processes: list[subprocess.Popen[bytes]] = []
    with _own_database(env):
        try:
            _manage(env, data_dir / "migrate.log", "migrate", "--noinput")
            if not env.get("BILIUP_REDIS_URL"):
                # The SQLite channel layer keeps its tables in their own database file.
                _manage(
                    env,
                    data_dir / "migrate.log",
                    "migrate",
                    "--noinput",
                    "--database",
                    "channels",
                )
            site.logs = [data_dir / "daphne.log", data_dir / "qcluster.log"]
            daphne = [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "biliup_site.asgi:application",
            ]
            processes.append(_start(daphne, env, site.logs[0]))
            processes.append(
                _start([sys.executable, "manage.py", "qcluster"], env, site.logs[1])
            )
            _wait_until_serving(site, processes)
            yield site
        finally:
            for process in processes:
                _stop(process)
            _forget_redis_keys(env)


@pytest.fixture(scope="module")
def admin(site: Site) -> requests.Session:
    """Logged in as the first admin, with a Bilibili account to upload with."""
    session = requests.Session()
    response = session.post(
        f"{site.url}/api/v1/users/register",
        json={"username": "alice", "password": "alice-password-1"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    response = session.post(
        f"{site.url}/api/v1/users",
        json={"key": "bilibili-cookies", "value": "cookies.json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return session


def _open_socket(site: Site, session: requests.Session | None) -> ClientConnection:
    headers = {}
    if session is not None:
        headers["Cookie"] = (
            f"{settings.SESSION_COOKIE_NAME}={session.cookies[settings.SESSION_COOKIE_NAME]}"
        )
    return connect(
        site.ws_url, origin=site.url, additional_headers=headers, open_timeout=10
    )


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
        f"No {until!r} message for job {job_id} within {JOB_SECONDS} s; saw {seen}\n{site.log_tails()}"
    )


def test_worker_progress_reaches_the_browser_socket(
    site: Site, admin: requests.Session
) -> None:
    (site.recordings_dir / "seg.flv").write_bytes(b"FLV\x01" + bytes(1020))

    with _open_socket(site, admin) as ws:
        response = admin.post(
            f"{site.url}/api/v1/uploads",
            json={
                "files": ["seg.flv"],
                "params": {"user_cookie": "cookies.json", "title": "x"},
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        jobs = admin.get(f"{site.url}/api/v1/upload_jobs", timeout=10).json()
        job_id = jobs[0]["id"]
        seen = _job_messages(ws, job_id, "failed", site)

    # The claim (running) and the failure are two events, but the consumer re-reads the row, so
    # a slow first delivery may already show the final state.
    assert {job["status"] for job in seen} <= {"running", "failed"}
    assert seen[-1]["attempts"] == 1
    assert NOT_AVAILABLE in seen[-1]["error"]
    assert [f["path"] for f in seen[-1]["files"]] == [
        str(site.recordings_dir / "seg.flv")
    ]


def test_it_refuses_an_anonymous_socket(site: Site) -> None:
    # Closing in connect(), before accept, makes daphne turn the handshake down with a 403.
    with pytest.raises(InvalidStatus) as refused:
        _open_socket(site, None)

    assert refused.value.response.status_code == 403
