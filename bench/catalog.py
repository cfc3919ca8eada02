"""Creator catalog refresh speed: videos/s of a first sync and the time of an incremental
refresh, ours next to a raw walk of the same pages in the same run.

The fake Bilibili runs in a process of its own (python -m tests.fakebili), holding one user with
--videos videos. Django runs here on a migrated SQLite database in a temp dir.

- ours: creators.catalogs.refresh() of a freshly followed user (its videos deleted between
  rounds), which is what a django-q2 worker runs: every page of the app list, each stored (bulk
  insert, a snapshot per video, a totals snapshot) with its heartbeat, then the user card; and an
  incremental refresh after 5 new videos (one page read, 5 inserted, the rest updated).
- baseline: plain requests on one keep-alive Session, walking the same pages by cursor and
  parsing the JSON, nothing stored.

Each round runs both back to back; the figures are medians over the rounds. The raw walk stores
nothing, so the ratio is what storing costs: on 2 cores, 2,000 videos, a first sync ran at
0.25-0.38x the raw walk (1,300-1,600 videos/s), an incremental refresh took about 7x one raw
page (42 ms against 6 ms; 13x before it skipped unchanged rows).

    .venv/bin/python bench/catalog.py [--videos 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
UID = 946974


def start_fake() -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakebili", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    env = {}
    while len(env) < 10:
        key, _, value = proc.stdout.readline().strip().partition("=")
        if not key:
            break
        env[key] = value
    return proc, url, env


def raw_walk(url: str) -> int:
    import requests

    sess = requests.Session()
    cursor, seen = None, 0
    while True:
        params = {"vmid": UID, "order": "pubdate", "ps": 20}
        if cursor:
            params["aid"] = cursor
        data = sess.get(
            f"{url}/x/v2/space/archive/cursor", params=params, timeout=30
        ).json()["data"]
        seen += len(data["item"])
        if not data["has_next"]:
            return seen
        cursor = data["item"][-1]["param"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    fake, url, fake_env = start_fake()
    data_dir = tempfile.mkdtemp(prefix="bench-catalog-")
    os.environ.update(fake_env)
    os.environ.update(
        {"BILIUP_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "biliup_site.settings"}
    )
    import django
    import requests

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from creators import catalogs
    from creators.models import Creator

    try:
        left = args.videos
        while left:
            batch = min(left, 500)
            requests.post(
                f"{url}/_fake/space/{UID}/videos",
                json={
                    "count": batch,
                    "ctime": 1_600_000_000 + (args.videos - left) * 60,
                },
                timeout=60,
            ).raise_for_status()
            left -= batch
        raw_walk(url)  # warm up both sides' connections and caches
        first_ours, first_raw, incr_ours, page_raw = [], [], [], []
        for _ in range(args.rounds):
            Creator.objects.all().delete()
            creator = Creator.objects.create(uid=UID)
            started = time.perf_counter()
            catalogs.refresh(creator)
            first_ours.append(time.perf_counter() - started)
            creator.refresh_from_db()
            assert creator.videos.count() == creator.video_count, creator.status_reason

            started = time.perf_counter()
            seen = raw_walk(url)
            first_raw.append(time.perf_counter() - started)
            assert seen == creator.video_count

            requests.post(
                f"{url}/_fake/space/{UID}/videos", json={"count": 5}, timeout=10
            ).raise_for_status()
            started = time.perf_counter()
            catalogs.refresh(creator)
            incr_ours.append(time.perf_counter() - started)

            sess = requests.Session()
            started = time.perf_counter()
            sess.get(
                f"{url}/x/v2/space/archive/cursor",
                params={"vmid": UID, "ps": 20},
                timeout=30,
            ).json()
            page_raw.append(time.perf_counter() - started)

        total = Creator.objects.get(uid=UID).video_count
        ours_rate = total / statistics.median(first_ours)
        raw_rate = total / statistics.median(first_raw)
        print(f"videos: {total}, rounds: {args.rounds}")
        print(
            f"first sync   ours {ours_rate:8.0f} videos/s   raw walk {raw_rate:8.0f}"
            f" videos/s   ratio {ours_rate / raw_rate:.2f}x"
        )
        incr, page = statistics.median(incr_ours), statistics.median(page_raw)
        print(
            f"incremental  ours {incr * 1000:8.1f} ms        raw page {page * 1000:8.1f}"
            f" ms         ratio {incr / page:.1f}x the page"
        )
    finally:
        fake.terminate()
        fake.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
