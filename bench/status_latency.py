"""How long /api/v1/status and /api/v1/streamers take with 200 streamers, on a fresh SQLite
(or, with BILIUP_DB=postgres set, PostgreSQL) database, in this process through Django's
handler (no network). Baseline: GET /api/v1/users/biliup, which does the same session and
user lookups and nothing else.

    .venv/bin/python bench/status_latency.py [--streamers 200] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streamers", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

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

    def measure(path: str) -> list[float]:
        client.get(path)  # warm up
        timings = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.content
        return timings

    baseline = measure("/api/v1/users/biliup")
    results = {"/api/v1/users/biliup (baseline)": baseline}
    for path in ("/api/v1/status", "/api/v1/streamers"):
        results[path] = measure(path)

    base = statistics.median(baseline)
    db = os.environ.get("BILIUP_DB", "sqlite")
    print(f"{args.streamers} streamers, {args.requests} requests each, database: {db}")
    print(f"{'path':38} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
    for path, timings in results.items():
        median = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"{path:38} {median:10.2f} {p95:8.2f} {median / base:11.1f}")


if __name__ == "__main__":
    main()
