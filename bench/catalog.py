"""Creator catalog refresh speed: how long a followed user's first sync takes against the strict
fake with the real pace, and what storing costs next to a raw walk of the same pages.

The fake Bilibili runs in a process of its own (python -m tests.fakebili), every strict rule on,
holding one user with --videos videos. Django runs here on a migrated SQLite database in a temp
dir. Two parts:

- paced: creators.catalogs.refresh() of a freshly followed user with --paced-videos videos,
  exactly as a worker runs it: app-signed pages through the per-host pace (bilibili/pace.py),
  with the burst rule on. It prints the time, the pace's floor (BILIBILI_PACE_SECONDS per gap between
  calls) and the fake's refusals, which must be none.
- storage: the pace set to zero and the fake's burst rule off, so that only our work is timed.
  ours is refresh() of a freshly followed user (its videos deleted between rounds): every page of
  the app list, each stored (bulk insert, a snapshot per video, a totals snapshot) with its
  heartbeat, then the user card; and an incremental refresh after 5 new videos (one page read,
  5 inserted, the rest updated). The baseline is plain requests on one keep-alive Session,
  walking the same pages by cursor, app-signed, parsing the JSON, storing nothing. Each round runs
  both back to back; the figures are medians over the rounds.

On 2 cores, 2,000 videos, before the pace: a first sync ran at 0.25-0.38x the raw walk
(1,300-1,600 videos/s), an incremental refresh took about 7x one raw page (42 ms against 6 ms).
Paced, a first sync is bound by the pace: about 0.47 s a page of 20, some 40 videos/s.

    .venv/bin/python bench/catalog.py [--videos 2000] [--paced-videos 400] [--rounds 3]
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


def signed(params: dict[str, object]) -> dict[str, str]:
    from biliup_site.bilibili.sign import APP_KEYS, app_sign

    return app_sign(params, APP_KEYS["BiliTV"])


def raw_walk(url: str) -> int:
    import requests

    sess = requests.Session()
    cursor, seen = None, 0
    while True:
        params: dict[str, object] = {"vmid": UID, "order": "pubdate", "ps": 20}
        if cursor:
            params["aid"] = cursor
        data = sess.get(
            f"{url}/x/v2/space/archive/cursor", params=signed(params), timeout=30
        ).json()["data"]
        seen += len(data["item"])
        if not data["has_next"]:
            return seen
        cursor = data["item"][-1]["param"]


def add_videos(url: str, uid: int, count: int) -> None:
    import requests

    left = count
    while left:
        batch = min(left, 500)
        requests.post(
            f"{url}/_fake/space/{uid}/videos",
            json={"count": batch, "ctime": 1_600_000_000 + (count - left) * 60},
            timeout=60,
        ).raise_for_status()
        left -= batch


def paced_sync(url: str, videos: int) -> None:
    """One first sync with the real pace and every rule on."""
    import requests
    from django.conf import settings

    from creators import catalogs
    from creators.models import Creator

    uid = UID + 1
    add_videos(url, uid, videos)
    creator = Creator.objects.create(uid=uid)
    started = time.perf_counter()
    catalogs.refresh(creator)
    took = time.perf_counter() - started
    creator.refresh_from_db()
    assert creator.videos.count() == videos, creator.status_reason
    refusals = requests.get(f"{url}/_fake/space/refusals", timeout=10).json()
    pages = -(-videos // 20)
    floor = pages * settings.BILIBILI_PACE_SECONDS  # the pages' gaps and the card's
    print(
        f"paced        {videos} videos, {pages} pages in {took:.1f} s"
        f" ({videos / took:.0f} videos/s; the pace's floor {floor:.1f} s);"
        f" refused: {len(refusals['refusals'])}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=2000)
    parser.add_argument("--paced-videos", type=int, default=400)
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
    from django.conf import settings

    from creators import catalogs
    from creators.models import Creator

    try:
        paced_sync(url, args.paced_videos)
        # The storage part times our work only: no pace, and no burst rule to trip without it.
        settings.BILIBILI_PACE_SECONDS = settings.BILIBILI_PACE_JITTER = 0.0
        requests.post(
            f"{url}/_fake/rules", json={"space_burst": False}, timeout=10
        ).raise_for_status()
        add_videos(url, UID, args.videos)
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
                params=signed({"vmid": UID, "ps": 20}),
                timeout=30,
            ).json()
            page_raw.append(time.perf_counter() - started)

        total = Creator.objects.get(uid=UID).video_count
        print("storage (no pace, burst rule off):")
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
