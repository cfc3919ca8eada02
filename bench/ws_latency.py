"""How long a worker's progress event takes to reach a browser's WebSocket.

Run from the project root, on demand (pytest does not collect it):

    .venv/bin/python bench/ws_latency.py            # embedded: SQLite, ORM broker, channels-lite
    .venv/bin/python bench/ws_latency.py --scale    # and then PostgreSQL + Redis as well

Each profile gets a fresh data folder (and, for --scale, its own Postgres database, django-q2
queue and channels-redis prefix), `manage.py migrate`, a real daphne and a real `qcluster`, all on
loopback. Three figures per profile, each against a baseline taken in the same run:

- baseline: a plain HTTP GET of /api/v1/openapi.json on the same daphne (keep-alive);
- layer: a separate process calls `biliup_site.live.notify(...)`, exactly as a worker does, and
  the time to the socket message is measured (channel layer + consumer re-reading the row);
- upload: POST /api/v1/uploads returning → the job's first and final socket messages, which adds
  the django-q2 broker pickup (ORM polling every 0.5 s when embedded) and the worker's claim.

Publish and receive times come from CLOCK_MONOTONIC, which is system-wide on Linux, so the two
processes' readings compare. Triggers are spaced at random so they do not phase-lock with the
pollers (channels-lite every 100 ms, the ORM broker every 500 ms).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
PROGRESS_GROUP = "progress"
STARTUP_SECONDS = 30
MESSAGE_SECONDS = 15


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- The publisher: a separate process, like a django-q2 worker -----------------------------


def publish_from_stdin() -> None:
    """For each line (a job id) on stdin, publish job.changed for it and write the publish time."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biliup_site.settings")
    import django

    django.setup()
    from biliup_site import live

    for line in sys.stdin:
        pk = int(line)
        started = now()
        live.notify(live.PROGRESS_GROUP, "job.changed", kind="upload_job", pk=pk)
        sys.stdout.write(f"{started!r}\n")
        sys.stdout.flush()


# --- The site under test -------------------------------------------------------------------


@dataclass
class Profile:
    name: str
    env: dict[str, str]


def embedded_profile(data_dir: Path) -> Profile:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILIUP_")}
    return Profile("embedded", env | site_env(data_dir))


def scale_profile(data_dir: Path, redis_url: str) -> Profile:
    run_id = secrets.token_hex(4)
    env = {k: v for k, v in os.environ.items() if k != "BILIUP_DATA_DIR"}
    env |= site_env(data_dir) | {
        "BILIUP_DB": "postgres",
        "BILIUP_DB_NAME": f"biliup_bench_{run_id}",
        "BILIUP_REDIS_URL": redis_url,
        "BILIUP_REDIS_PREFIX": f"biliup-bench-{run_id}",
        # django-q2's Redis queue is named after the cluster: one of our own, so a running
        # `serve` on the same Redis cannot take the bench's tasks.
        "Q_CLUSTER_NAME": f"biliup-bench-{run_id}",
    }
    return Profile("scale", env)


def site_env(data_dir: Path) -> dict[str, str]:
    return {
        "BILIUP_DATA_DIR": str(data_dir),
        "BILIUP_RECORDINGS_DIR": str(data_dir / "recordings"),
        "BILIUP_ALLOWED_HOSTS": "127.0.0.1",
        "BILIUP_TASKS_SYNC": "False",
        "BILIUP_WORKERS": "2",
        "BILIUP_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def postgres(env: dict[str, str]) -> Any:
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
def running_site(profile: Profile, data_dir: Path) -> Iterator[str]:
    """Migrate, start daphne and qcluster, yield the base URL; stop and clean up after."""
    env = profile.env
    scale = env.get("BILIUP_DB") == "postgres"
    if scale:
        with postgres(env) as conn:
            conn.execute(f'CREATE DATABASE "{env["BILIUP_DB_NAME"]}"')
    processes: list[subprocess.Popen[bytes]] = []
    log = (data_dir / "site.log").open("ab")
    try:
        migrations = [["migrate", "--noinput"]]
        if not env.get("BILIUP_REDIS_URL"):
            migrations.append(["migrate", "--noinput", "--database", "channels"])
        for args in migrations:
            subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=120,
            )
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        for argv in (
            [*daphne, "biliup_site.asgi:application"],
            [sys.executable, "manage.py", "qcluster"],
        ):
            processes.append(
                subprocess.Popen(
                    argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            )
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, processes)
        yield url
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        if scale:
            with postgres(env) as conn:
                conn.execute(
                    f'DROP DATABASE IF EXISTS "{env["BILIUP_DB_NAME"]}" WITH (FORCE)'
                )
            forget_redis_keys(env)


def wait_until_serving(url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    import requests

    deadline = now() + STARTUP_SECONDS
    while now() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("A site process exited at start; see site.log")
        try:
            requests.get(f"{url}/api/v1/users/biliup", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit(f"daphne did not answer within {STARTUP_SECONDS} s")


def forget_redis_keys(env: dict[str, str]) -> None:
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


# --- Measuring --------------------------------------------------------------------------


class Socket:
    """A logged-in /ws/progress/ socket; a thread stamps each message as it arrives."""

    def __init__(self, url: str, cookie: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(
            url.replace("http://", "ws://", 1) + "/ws/progress/",
            origin=url,
            additional_headers={"Cookie": cookie},
            open_timeout=10,
        )
        self.messages: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            for raw in self.ws:
                self.messages.put((now(), json.loads(raw)))

    def drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.messages.get_nowait()

    def wait_for(self, job_id: int, status: str | None = None) -> float:
        """Arrival time of the next message about the job (with that status, if given)."""
        deadline = now() + MESSAGE_SECONDS
        while (left := deadline - now()) > 0:
            try:
                arrived, message = self.messages.get(timeout=left)
            except queue.Empty:
                break
            job = message.get("job", {})
            if job.get("id") == job_id and status in (None, job.get("status")):
                return arrived
        raise SystemExit(f"No message for job {job_id} within {MESSAGE_SECONDS} s")

    def close(self) -> None:
        self.ws.close()
        self.reader.join(timeout=5)


def measure(
    url: str, profile: Profile, data_dir: Path, args: argparse.Namespace
) -> dict[str, list[float]]:
    import requests

    http = requests.Session()
    response = http.post(
        f"{url}/api/v1/users/register",
        json={"username": "bench", "password": "bench-password-1"},
        timeout=10,
    )
    response.raise_for_status()
    http.post(
        f"{url}/api/v1/users",
        json={"key": "bilibili-cookies", "value": "cookies.json"},
        timeout=10,
    ).raise_for_status()
    results: dict[str, list[float]] = {
        "baseline": [],
        "layer": [],
        "first": [],
        "final": [],
    }

    for _ in range(args.requests):
        started = now()
        http.get(f"{url}/api/v1/openapi.json", timeout=10).raise_for_status()
        results["baseline"].append(now() - started)

    ws = Socket(url, f"biliup.sid={http.cookies['biliup.sid']}")
    try:
        recordings = data_dir / "recordings"
        recordings.mkdir(exist_ok=True)
        job_id = 0
        for i in range(args.jobs):
            (recordings / f"seg{i}.flv").write_bytes(b"FLV\x01" + bytes(1020))
            ws.drain()
            response = http.post(
                f"{url}/api/v1/uploads",
                json={
                    "files": [f"seg{i}.flv"],
                    "params": {"user_cookie": "cookies.json", "title": f"bench {i}"},
                },
                timeout=10,
            )
            posted = now()
            response.raise_for_status()
            # The API answers {}; a fresh site numbers its jobs 1, 2, 3...
            job_id = i + 1
            results["first"].append(ws.wait_for(job_id) - posted)
            results["final"].append(ws.wait_for(job_id, "failed") - posted)
            time.sleep(random.uniform(0, 0.5))

        publisher = subprocess.Popen(
            [sys.executable, __file__, "--publish-stdin"],
            cwd=BASE_DIR,
            env=profile.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert publisher.stdin is not None and publisher.stdout is not None
        try:
            for i in range(args.pings + 1):
                ws.drain()
                publisher.stdin.write(f"{job_id}\n")
                publisher.stdin.flush()
                published = float(publisher.stdout.readline())
                received = ws.wait_for(job_id)
                # The first publish pays for Django's start-up and the layer's connection.
                if i:
                    results["layer"].append(received - published)
                time.sleep(random.uniform(0, 0.1))
        finally:
            publisher.stdin.close()
            publisher.wait(timeout=10)
    finally:
        ws.close()
    return results


# --- Reporting ----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


ROWS = [
    ("baseline", "HTTP GET /api/v1/openapi.json"),
    ("layer", "notify() -> socket message"),
    ("first", "POST /uploads -> first message"),
    ("final", "POST /uploads -> 'failed' message"),
]


def report(profile: str, results: dict[str, list[float]]) -> None:
    base = statistics.median(results["baseline"])
    say(f"\n{profile} profile (ms; x = median / baseline median)")
    say(f"  {'measure':<36}{'n':>5}{'median':>9}{'p95':>9}{'max':>9}{'x base':>9}")
    for key, label in ROWS:
        values = results[key]
        median = statistics.median(values)
        say(
            f"  {label:<36}{len(values):>5}{median * 1000:>9.1f}"
            f"{percentile(values, 0.95) * 1000:>9.1f}{max(values) * 1000:>9.1f}"
            f"{median / base:>9.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", action="store_true", help="also measure PostgreSQL + Redis"
    )
    parser.add_argument(
        "--redis-url",
        default=os.getenv("BILIUP_REDIS_URL") or "redis://127.0.0.1:6379/1",
        help="Redis for --scale (default: $BILIUP_REDIS_URL or redis://127.0.0.1:6379/1)",
    )
    parser.add_argument("--jobs", type=int, default=30, help="upload jobs per profile")
    parser.add_argument(
        "--pings", type=int, default=100, help="notify() publishes per profile"
    )
    parser.add_argument(
        "--requests", type=int, default=100, help="baseline HTTP GETs per profile"
    )
    parser.add_argument("--publish-stdin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish_stdin:
        publish_from_stdin()
        return

    started = now()
    for name in ["embedded", "scale"] if args.scale else ["embedded"]:
        with tempfile.TemporaryDirectory(prefix=f"biliup-bench-{name}-") as tmp:
            data_dir = Path(tmp)
            if name == "embedded":
                profile = embedded_profile(data_dir)
            else:
                profile = scale_profile(data_dir, args.redis_url)
            say(f"== {name}: starting the site in {data_dir}")
            try:
                with running_site(profile, data_dir) as url:
                    results = measure(url, profile, data_dir, args)
            except BaseException:
                log = data_dir / "site.log"
                if log.exists():
                    sys.stderr.write(log.read_text(errors="replace")[-5000:])
                raise
            report(name, results)
    say(f"\ntotal {now() - started:.0f} s")


if __name__ == "__main__":
    main()
