"""How long a worker's progress event takes to reach a browser's WebSocket.

Run from the project root, on demand (pytest does not collect it):

    .venv/bin/python bench/ws_latency.py            # embedded: SQLite, ORM broker, channels-lite
    .venv/bin/python bench/ws_latency.py --scale    # and then PostgreSQL + Redis as well

Each profile gets a fresh data folder (and, for --scale, its own Postgres database, django-q2
queue and channels-redis prefix) and the real start command, `manage.py serve` (daphne and the
qclusters), all on loopback; tests/livesite.py starts and stops it. Three figures per profile, each
against a baseline taken in the same run:

- baseline: a plain HTTP GET of /api/v1/openapi.json on the same daphne (keep-alive);
- layer: a separate process calls `biliup_site.live.notify(...)`, exactly as a worker does, and
  the time to the socket message is measured (channel layer + consumer re-reading the row);
- pages: the same publishes, timed to the pages' /ws/pages/ socket, whose consumer renders the
  job's HTML partial (what a browser tab swaps in);
- upload: POST /api/v1/uploads returning → the job's first and final socket messages, which adds
  the django-q2 broker pickup (ORM polling every 0.5 s when embedded) and the worker's claim.

With --recording N, each profile's site records N rooms of the fake Bilibili meanwhile
(bench/busy.py: the recorder service's heartbeats and progress events share the database, the
channel layer and the CPUs). Goal: WebSocket progress latency (layer and pages) p95 < 250 ms
with 50 rooms recording (issue 18); the figures are printed against it, nothing is asserted.

    .venv/bin/python bench/ws_latency.py --recording 50 [--format flv] [--bitrate 1M]

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
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from websockets.exceptions import ConnectionClosed

# The project root, for `tests` (and, in the publisher, `biliup_site`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import livesite

MESSAGE_SECONDS = 15
GOAL_P95_MS = 250
ACCOUNT = "cookies.json"


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- The publisher: a separate process, like a django-q2 worker -----------------------------


def publish_from_stdin() -> None:
    """For each line (a job id) on stdin, publish job.changed for it and write the publish time."""
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


# --- Measuring --------------------------------------------------------------------------


class Socket:
    """A logged-in /ws/progress/ socket; a thread stamps each message as it arrives."""

    def __init__(
        self,
        site: livesite.Site,
        session: requests.Session,
        path: str = "/ws/progress/",
    ) -> None:
        self.ws = livesite.open_progress_socket(site, session, path)
        self.messages: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            for raw in self.ws:
                self.messages.put((now(), self.parse(raw)))

    @staticmethod
    def parse(raw: str | bytes) -> dict[str, Any]:
        return json.loads(raw)

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


class PageSocket(Socket):
    """/ws/pages/: HTML partials; the job's id is read off the fragment's root element."""

    @staticmethod
    def parse(raw: str | bytes) -> dict[str, Any]:
        text = raw if isinstance(raw, str) else raw.decode()
        match = re.search(r'id="job-(\d+)"', text)
        return {"job": {"id": int(match.group(1))}} if match else {}


def measure(
    site: livesite.Site,
    args: argparse.Namespace,
    http: requests.Session | None = None,
) -> dict[str, list[float]]:
    """The figures of one site; `http`: its admin's session, when already registered."""
    if http is None:
        http = livesite.register_admin(site, "bench", "bench-password-1")
    livesite.add_account(http, site, ACCOUNT)
    results: dict[str, list[float]] = {
        "baseline": [],
        "layer": [],
        "pages": [],
        "first": [],
        "final": [],
    }

    for _ in range(args.requests):
        started = now()
        http.get(f"{site.url}/api/v1/openapi.json", timeout=10).raise_for_status()
        results["baseline"].append(now() - started)

    ws = Socket(site, http)
    pages = PageSocket(site, http, "/ws/pages/")
    try:
        job_id = 0
        for i in range(args.jobs):
            ws.drain()
            livesite.upload_segment(
                http, site, f"seg{i}.flv", f"bench {i}", account=ACCOUNT
            )
            posted = now()
            # The API answers {}; a fresh site numbers its jobs 1, 2, 3...
            job_id = i + 1
            results["first"].append(ws.wait_for(job_id) - posted)
            results["final"].append(ws.wait_for(job_id, "failed") - posted)
            time.sleep(random.uniform(0, 0.5))

        publisher = subprocess.Popen(
            [sys.executable, __file__, "--publish-stdin"],
            cwd=livesite.BASE_DIR,
            env=site.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert publisher.stdin is not None and publisher.stdout is not None
        try:
            for i in range(args.pings + 1):
                ws.drain()
                pages.drain()
                publisher.stdin.write(f"{job_id}\n")
                publisher.stdin.flush()
                published = float(publisher.stdout.readline())
                received = ws.wait_for(job_id)
                rendered = pages.wait_for(job_id)
                # The first publish pays for Django's start-up and the layer's connection.
                if i:
                    results["layer"].append(received - published)
                    results["pages"].append(rendered - published)
                time.sleep(random.uniform(0, 0.1))
        finally:
            publisher.stdin.close()
            publisher.wait(timeout=10)
    finally:
        ws.close()
        pages.close()
    return results


# --- Reporting ----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


ROWS = [
    ("baseline", "HTTP GET /api/v1/openapi.json"),
    ("layer", "notify() -> socket message"),
    ("pages", "notify() -> /ws/pages/ HTML"),
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


def measure_logged(
    site: livesite.Site, args: argparse.Namespace, http: requests.Session | None = None
) -> dict[str, list[float]]:
    """measure(), the site's log shown if it fails."""
    try:
        return measure(site, args, http)
    except BaseException:
        sys.stderr.write(site.log_tail() + "\n")
        raise


def goal(recording: int, results: dict[str, list[float]]) -> None:
    for key in ("layer", "pages"):
        p95 = percentile(results[key], 0.95) * 1000
        verdict = "met" if p95 < GOAL_P95_MS else "NOT met"
        say(
            f"  goal with {recording} recording: {key} p95 < {GOAL_P95_MS} ms: "
            f"{p95:.0f} ms, {verdict}"
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
    parser.add_argument(
        "--recording", type=int, help="N rooms of the fake record meanwhile"
    )
    parser.add_argument("--format", default="flv", choices=("flv", "ts", "fmp4"))
    parser.add_argument("--bitrate", default="1M", help="the rooms' clip bitrate")
    parser.add_argument("--publish-stdin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish_stdin:
        publish_from_stdin()
        return

    profiles: dict[str, dict[str, str | None]] = {
        # Whatever this shell has set: embedded means neither server.
        "embedded": {"BILIUP_DB": None, "BILIUP_REDIS_URL": None},
        "scale": {"BILIUP_DB": "postgres", "BILIUP_REDIS_URL": args.redis_url},
    }
    started = now()
    for name in ["embedded", "scale"] if args.scale else ["embedded"]:
        with tempfile.TemporaryDirectory(prefix=f"biliup-bench-{name}-") as tmp:
            say(f"== {name}: starting the site in {tmp}")
            if args.recording is None:
                with livesite.running_site(
                    Path(tmp),
                    label="bench",
                    BILIUP_LOG_LEVEL="WARNING",
                    **profiles[name],
                ) as site:
                    results = measure_logged(site, args)
            else:
                from bench import busy

                with busy.recording_site(
                    args.recording,
                    args.format,
                    args.bitrate,
                    Path(tmp),
                    **profiles[name],
                ) as recording:
                    results = measure_logged(recording.site, args, recording.session)
                    say(f"  {recording.recording()} rooms recording at the end")
            report(name, results)
            if args.recording is not None:
                goal(args.recording, results)
    say(f"\ntotal {now() - started:.0f} s")


if __name__ == "__main__":
    main()
