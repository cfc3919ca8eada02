"""How long /api/v1/status and /api/v1/streamers take with 200 streamers, on a fresh SQLite
(or, with BILIUP_DB=postgres set, PostgreSQL) database, in this process through Django's
handler (no network). Baseline: GET /api/v1/users/biliup, which does the same session and
user lookups and nothing else.

    .venv/bin/python bench/status_latency.py [--streamers 200] [--requests 200]

With --recording N, the same requests go over HTTP (keep-alive, one client) to a real site
(`manage.py serve`, bench/busy.py) while N rooms of the fake Bilibili record, the recorder's
heartbeats writing to the same database: what a user's page sees on a busy machine. Goal:
/api/v1/status p99 < 250 ms with 50 rooms recording (issue 18). Figures only, nothing asserted.

    .venv/bin/python bench/status_latency.py --recording 50 [--format flv] [--bitrate 1M]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PATHS = ("/api/v1/users/biliup", "/api/v1/status", "/api/v1/streamers")
GOAL_P99_MS = 250


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streamers", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--recording", type=int, help="over HTTP, while N rooms record on a real site"
    )
    parser.add_argument("--format", default="flv", choices=("flv", "ts", "fmp4"))
    parser.add_argument("--bitrate", default="1M", help="the rooms' clip bitrate")
    args = parser.parse_args()
    if args.recording is not None:
        measure_recording(args)
        return

    os.environ.setdefault("BILIUP_DATA_DIR", tempfile.mkdtemp(prefix="biliup-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "biliup_site.settings"
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import BilibiliAccount
    from recorder.models import Streamer
    from uploads.models import UploadJob, UploadTemplate

    call_command("migrate", verbosity=0)
    if os.environ.get("BILIUP_DB") == "postgres":
        Streamer.objects.all().delete()
        UploadTemplate.objects.all().delete()
    account, _ = BilibiliAccount.objects.get_or_create(value="bench.json")
    templates = [
        UploadTemplate.objects.create(template_name=f"bench-{i}", account=account)
        for i in range(10)
    ]
    for i in range(args.streamers):
        streamer = Streamer.objects.create(
            url=f"https://live.bilibili.com/{1000 + i}",
            remark=f"streamer {i}",
            upload_template=templates[i % 10],
            state="recording" if i % 7 == 0 else "idle",
        )
        if i % 5 == 0:
            UploadJob.objects.create(
                streamer=streamer, account=account, status="running"
            )
    user, _ = User.objects.get_or_create(username="bench")
    client = Client()
    client.force_login(user)

    def get(path: str) -> int:
        return client.get(path).status_code

    results = {path: timed(get, path, args.requests) for path in PATHS}
    db = os.environ.get("BILIUP_DB", "sqlite")
    report(
        f"{args.streamers} streamers, {args.requests} requests each, database: {db}",
        results,
    )


def timed(
    get: Callable[[str], int], path: str, count: int, pause: float = 0.0
) -> list[float]:
    """`count` timings of GET path in ms, after one to warm up; `pause`: up to that many
    seconds at random between requests, so they do not phase-lock with the site's timers."""
    get(path)
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        status = get(path)
        timings.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        time.sleep(random.uniform(0, pause))
    return timings


def report(title: str, results: dict[str, list[float]]) -> None:
    base = statistics.median(results[PATHS[0]])
    print(title)
    print(
        f"{'path':38} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} {'x baseline':>11}"
    )
    for path, timings in results.items():
        cuts = statistics.quantiles(timings, n=100)
        label = f"{path} (baseline)" if path == PATHS[0] else path
        median = statistics.median(timings)
        print(
            f"{label:38} {median:10.2f} {cuts[94]:8.2f} {cuts[98]:8.2f} {median / base:11.1f}"
        )


def measure_recording(args: argparse.Namespace) -> None:
    """The requests over HTTP to a site recording args.recording rooms."""
    from bench import busy

    with (
        tempfile.TemporaryDirectory(prefix="biliup-bench-status-") as tmp,
        busy.recording_site(
            args.recording, args.format, args.bitrate, Path(tmp)
        ) as site,
    ):
        session = site.session

        def get(path: str) -> int:
            return session.get(site.site.url + path, timeout=30).status_code

        results = {path: timed(get, path, args.requests, pause=0.05) for path in PATHS}
        recording = site.recording()
    report(
        f"over HTTP, {args.recording} {args.format} rooms recording ({recording} at the end), "
        f"{args.requests} requests each, {os.cpu_count()} CPUs",
        results,
    )
    p99 = statistics.quantiles(results["/api/v1/status"], n=100)[98]
    verdict = "met" if p99 < GOAL_P99_MS else "NOT met"
    print(f"goal: /api/v1/status p99 < {GOAL_P99_MS} ms: {p99:.0f} ms, {verdict}")


if __name__ == "__main__":
    main()
