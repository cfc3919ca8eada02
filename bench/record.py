"""What recordings cost the real site (issue 18, "Recorder at scale"), next to `ffmpeg -c copy`
on the same rooms; and the time to check 500 rooms.

    .venv/bin/python bench/record.py [--streams 1,20,100] [--seconds 30] [--bitrate 1M]
        [--formats flv,ts,fmp4] [--minutes M] [--rooms 500]

For each format and N, bench/busy.py starts `manage.py serve` on a fresh data folder with N
streamers whose rooms on the fake Bilibili (its own process, every strict rule on) loop a noisy
720p clip at real time, half of them from the close-delimited CDN host, half chunked. Once every
room records (media bytes in its progress), and SETTLE_SECONDS more, a steady window of
--seconds opens; the same window rules then serve the baseline, run right after on the same
rooms: N `ffmpeg -v error -user_agent <browser UA> -referer <live referer> -i <signed play URL>
-c copy -f flv|mpegts|mp4 out` processes (fMP4: fragmented, as ours keeps it).

Measured over the window, from /proc:
- CPU: user + system ticks of the recorder's processes (the `manage.py recorder` service and its
  threads; before it existed, the recorder qcluster and its workers), per stream-second, in ms.
  Stream-seconds are the media the fake sent in the window (its per-room byte counters, divided
  by the format's byte rate), for ours and for ffmpeg alike; "rt" is stream-seconds per wall
  second per room (1.00: real time). The recorder's other duties (the live checks, heartbeats,
  database writes) are in its figure; ffmpeg has none.
- RSS: VmRSS and Pss (/proc/<pid>/smaps_rollup) of the recorder at the window's end, and the
  marginal RSS per added recording, (RSS at N2 - RSS at N1) / (N2 - N1) between consecutive N;
  the whole site's RSS and PSS (serve, web, jobs cluster, recorder); ffmpeg's Pss per process.
- The fake's own CPU (% of one core): a pure-Python server; when it is near a whole core, or rt
  falls under 0.95, the fake, not the recorder, is the limit, and the output says so.
- No dropped data: after the window the rooms go offline, the recordings close, and each room's
  bytes on disk are set against the bytes the fake sent it in that phase (disk/sent; a GOP the
  CDN resends on a reconnect is sent twice but recorded once, FLV headers are rewritten).

--minutes M (soak): the largest N of the first format keeps recording M minutes more, and each
minute the recorder's RSS, Pss, open fds (/proc/<pid>/fd) and threads are printed: flat is the
goal.

Goals: CPU per stream no more than ffmpeg's (ratio <= 1); marginal RSS per added recording
under 5 MB; the whole site under 600 MB with 20 rooms recording; disk/sent 1.00 for every room;
flat soak figures. The status
and WebSocket latency goals with 50 rooms recording are status_latency.py's and
ws_latency.py's (--recording 50). Everything prints figures; nothing is asserted.

Then 500 rooms (a tenth of them live) are checked by recorder.watch.check_all(spread=0) in a
Django process on a fresh SQLite database, recordings not started. Goal: well within one 30 s
check interval.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import busy  # noqa: E402 (after the path above)

CLK_TCK = os.sysconf("SC_CLK_TCK")
SETTLE_SECONDS = 3.0
FIRST_CHECK_ROOM = 800_000
CHECK_RUNS = 3
FFMPEG_FORMAT = {
    "flv": ["-f", "flv"],
    "ts": ["-f", "mpegts"],
    "fmp4": ["-f", "mp4", "-movflags", "+frag_keyframe+empty_moov+default_base_moof"],
}
say = busy.say


# --- /proc ----------------------------------------------------------------------------------


@dataclass
class Sample:
    """Sums over some processes at one moment."""

    at: float
    cpu: float = 0.0  # seconds, user + system
    rss: int = 0  # kB
    pss: int = 0  # kB
    threads: int = 0
    fds: int = 0


def sample(pids: list[int], memory: bool = True) -> Sample:
    """CPU, and with `memory` RSS, Pss, threads and fds, of the processes still alive."""
    found = Sample(time.monotonic())
    for pid in pids:
        proc = Path(f"/proc/{pid}")
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
            if memory:
                status = _fields((proc / "status").read_text())
                pss = _fields((proc / "smaps_rollup").read_text()).get("Pss", 0)
                fds = len(os.listdir(proc / "fd"))
        except OSError:
            continue  # it exited meanwhile
        found.cpu += cpu
        if memory:
            found.rss += status.get("VmRSS", 0)
            found.threads += status.get("Threads", 0)
            found.pss += pss
            found.fds += fds
    return found


def _fields(text: str) -> dict[str, int]:
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0])
    return values


@dataclass
class Window:
    """What one steady window measured, for ours or ffmpeg."""

    wall: float
    cpu: float  # seconds, the measured processes
    fake_cpu: float
    stream_seconds: float  # media the fake sent in the window, in seconds of stream
    n: int
    end: Sample  # the measured processes at the window's end

    @property
    def ms_per_stream_second(self) -> float:
        return (
            self.cpu / self.stream_seconds * 1000 if self.stream_seconds else math.nan
        )

    @property
    def rt(self) -> float:
        return self.stream_seconds / (self.n * self.wall) if self.wall else math.nan


def measure_window(
    fake: busy.Fake, pids: list[int], n: int, seconds: float, byte_rate: float
) -> Window:
    """CPU of `pids` and of the fake over `seconds`, and the media the fake sent meanwhile."""
    sent0, fake0, s0 = (
        fake.sent(),
        sample([fake.process.pid], False),
        sample(pids, False),
    )
    time.sleep(seconds)
    s1, fake1, sent1 = sample(pids), sample([fake.process.pid], False), fake.sent()
    sent = sum(sent1.values()) - sum(sent0.values())
    return Window(
        wall=s1.at - s0.at,
        cpu=s1.cpu - s0.cpu,
        fake_cpu=fake1.cpu - fake0.cpu,
        stream_seconds=sent / byte_rate,
        n=n,
        end=s1,
    )


# --- Ours: the site ---------------------------------------------------------------------------


def measure_ours(
    fake: busy.Fake,
    n: int,
    fmt: str,
    clip: Path,
    args: argparse.Namespace,
    workdir: Path,
    soak: bool,
) -> dict[str, Any]:
    byte_rate = busy.stream_byte_rate(clip, fmt)
    before = fake.sent()
    result: dict[str, Any] = {}
    with busy.busy_site(fake, n, fmt, clip, workdir / f"site-{fmt}-{n}") as site:
        recording = site.recording()
        time.sleep(SETTLE_SECONDS)
        pids = busy.recorder_pids(site.site)
        if not pids:
            raise RuntimeError(
                f"no recorder process under serve:\n{site.site.log_tail()}"
            )
        window = measure_window(fake, pids, n, args.seconds, byte_rate)
        whole = sample(busy.site_pids(site.site))
        result.update(window=window, site=whole, recording=recording, pids=len(pids))
        if soak:
            run_soak(site, args.minutes)
        busy.set_live(fake, site.rooms, 0)
        closed = site.wait_idle(60 + n)
        after = fake.sent()
        ratios = []
        for room in site.rooms:
            sent = after.get(room, 0) - before.get(room, 0)
            ratios.append((site.disk_bytes(room) / sent if sent else math.nan, room))
        result.update(ratios=ratios, closed=closed)
    shutil.rmtree(workdir / f"site-{fmt}-{n}", ignore_errors=True)
    return result


def run_soak(site: busy.Busy, minutes: int) -> None:
    say(f"\nsoak: {len(site.rooms)} {site.fmt} rooms recording for {minutes} min")
    say(
        f"  {'min':>3} {'RSS MB':>7} {'PSS MB':>7} {'fds':>5} {'threads':>7} {'recording':>9}"
    )
    for minute in range(minutes + 1):
        if minute:
            time.sleep(60)
        s = sample(busy.recorder_pids(site.site))
        say(
            f"  {minute:>3} {s.rss / 1024:7.1f} {s.pss / 1024:7.1f} {s.fds:>5} "
            f"{s.threads:>7} {site.recording():>9}"
        )


# --- The baseline: ffmpeg ---------------------------------------------------------------------


def stream_url(api: str, room_id: int, fmt: str) -> str:
    """The room's play URL in `fmt` (its first CDN host), from play info asked WBI-signed with
    nav's keys (§6.4, §7.3), as the recorder asks for it."""
    import requests

    from biliup_site.bilibili import http
    from biliup_site.bilibili.sign import wbi_keys_from_urls, wbi_mixin_key, wbi_sign

    wbi = requests.get(f"{api}/x/web-interface/nav", timeout=10).json()["data"][
        "wbi_img"
    ]
    mixin = wbi_mixin_key(*wbi_keys_from_urls(wbi["img_url"], wbi["sub_url"]))
    params = {
        "room_id": room_id,
        "protocol": "0,1",
        "format": "0,1,2",
        "codec": "0,1",
        "qn": 10000,
        "platform": "web",
        "web_location": "444.8",
    }
    response = requests.get(
        f"{api}/xlive/web-room/v2/index/getRoomPlayInfo",
        params=wbi_sign(params, mixin),
        headers={"User-Agent": http.BROWSER_UA, "Referer": http.LIVE_REFERER},
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    if body["code"] != 0:
        raise RuntimeError(f"play info of room {room_id}: {body}")
    for stream in body["data"]["playurl_info"]["playurl"]["stream"]:
        for offered in stream["format"]:
            if offered["format_name"] == fmt:
                codec = offered["codec"][0]
                info = codec["url_info"][0]
                return f"{info['host']}{codec['base_url']}{info['extra']}"
    raise RuntimeError(f"room {room_id} offers no {fmt}")


def wait_listed(urls: list[str]) -> None:
    """Wait until each HLS playlist lists a segment: ffmpeg gives up on an empty one (a
    broadcast's first seconds), where the recorder polls on."""
    import requests

    from biliup_site.bilibili import http

    browser = {"User-Agent": http.BROWSER_UA, "Referer": http.LIVE_REFERER}
    deadline = time.monotonic() + 30
    for url in urls:
        while time.monotonic() < deadline:
            if "#EXTINF" in requests.get(url, headers=browser, timeout=10).text:
                break
            time.sleep(0.5)


def measure_ffmpeg(
    fake: busy.Fake,
    n: int,
    fmt: str,
    clip: Path,
    args: argparse.Namespace,
    workdir: Path,
) -> dict[str, Any]:
    from biliup_site.bilibili import http

    rooms = busy.room_ids(n)
    busy.set_live(fake, rooms, 1)
    folder = workdir / f"ffmpeg-{fmt}-{n}"
    folder.mkdir()
    headers = ["-user_agent", http.BROWSER_UA, "-referer", http.LIVE_REFERER]
    urls = [stream_url(fake.url, room, fmt) for room in rooms]
    if fmt != "flv":
        wait_listed(urls)
    processes = []
    try:
        for room, url in zip(rooms, urls, strict=True):
            out = folder / f"r{room}.{fmt}"
            argv = ["ffmpeg", "-nostdin", "-v", "error", *headers, "-i", url, "-c", "copy", *FFMPEG_FORMAT[fmt], str(out)]  # fmt: skip
            with (folder / f"r{room}.err").open("wb") as err:
                processes.append(
                    (out, subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err))
                )
        deadline = time.monotonic() + 60 + n
        while time.monotonic() < deadline and not all(
            out.exists() and out.stat().st_size > 0 for out, _ in processes
        ):
            time.sleep(0.5)
        started = sum(1 for out, _ in processes if out.exists() and out.stat().st_size)
        time.sleep(SETTLE_SECONDS)
        pids = [p.pid for _, p in processes]
        window = measure_window(
            fake, pids, n, args.seconds, busy.stream_byte_rate(clip, fmt)
        )
        failed = [p for _, p in processes if p.poll() not in (None, 0)]
        for p in failed[:2]:
            err = folder / f"{Path(p.args[-1]).stem}.err"
            say(f"  ffmpeg exited {p.returncode}: {err.read_text()[-300:]}")
        return {"window": window, "recording": started, "failed": len(failed)}
    finally:
        for _, p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for _, p in processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        busy.set_live(fake, rooms, 0)
        shutil.rmtree(folder, ignore_errors=True)


# --- The 500-room check, in its own Django process -------------------------------------------


def check_rooms(count: int) -> None:
    """Time recorder.watch.check_all over `count` streamers; print the timings as JSON."""
    import django

    django.setup()
    from django.core.management import call_command

    from recorder import watch
    from recorder.models import Streamer

    call_command("migrate", verbosity=0)
    Streamer.objects.bulk_create(
        Streamer(
            url=f"https://live.bilibili.com/{FIRST_CHECK_ROOM + i}", platform="bilibili"
        )
        for i in range(count)
    )
    # Only the check is measured: a live room must not start a recording here.
    Streamer.enqueue_recording = lambda self: None  # type: ignore[method-assign]
    timings, live = [], 0
    for _ in range(CHECK_RUNS):
        start = time.perf_counter()
        live = watch.check_all(spread=0)
        timings.append(time.perf_counter() - start)
    print(json.dumps({"seconds": timings, "live": live, "pool": watch.POOL}))


def run_check(fake: busy.Fake, count: int, workdir: Path) -> None:
    for i in range(count):
        room = FIRST_CHECK_ROOM + i
        fake.control("POST", "rooms", {"room_id": room, "uid": room})
        if i % 10 == 0:
            fake.control("POST", f"rooms/{room}/live", {"status": 1})
    env = {
        **os.environ,
        **fake.env,
        "DJANGO_SETTINGS_MODULE": "biliup_site.settings",
        "BILIUP_DATA_DIR": str(workdir / "check-data"),
    }
    out = subprocess.run(
        [sys.executable, __file__, "--check-rooms", str(count)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        say(f"\nthe {count}-room check failed (skipped):\n{out.stderr[-1500:]}")
        return
    check = json.loads(out.stdout.strip().splitlines()[-1])
    best = min(check["seconds"])
    say(
        f"\n{count} rooms checked by recorder.watch.check_all (pool of {check['pool']}, "
        f"{check['live']} live): {', '.join(f'{s:.2f}' for s in check['seconds'])} s "
        f"-> best {best:.2f} s, {count / best:.0f} rooms/s ({best / 30 * 100:.1f}% of a 30 s "
        "interval)"
    )


# --- Reporting --------------------------------------------------------------------------------


def report(
    counts: list[int],
    formats: list[str],
    results: dict[tuple[str, int, str], dict[str, Any]],
    args: argparse.Namespace,
) -> None:
    mb = 1024.0
    say(
        f"\n{os.cpu_count()} CPUs; window {args.seconds:g} s after all record + "
        f"{SETTLE_SECONDS:g} s. CPU in ms per stream-second; x = ours / ffmpeg; rt = stream-s per "
        "wall s per room;\nrec = the recorder's processes at the window's end (RSS, PSS in MB, "
        "threads, fds); site = every process of serve; ffmpeg PSS per process; fake = its CPU in "
        "% of one core;\ndisk/sent = each room's recorded bytes / the bytes the fake sent it (min "
        "over the rooms)"
    )
    say(
        f"{'fmt':>4} {'N':>4} {'rec':>4} {'ours':>6} {'ffmpeg':>6} {'x':>5} {'rt':>9} "
        f"{'rec RSS':>7} {'rec PSS':>7} {'thr':>4} {'fds':>4} {'site RSS':>8} {'site PSS':>8} "
        f"{'ff PSS':>6} {'fake %':>11} {'disk/sent':>9}"
    )
    for fmt in formats:
        for n in counts:
            ours, base = results.get((fmt, n, "ours")), results.get((fmt, n, "ffmpeg"))
            if ours is None:
                continue
            w: Window = ours["window"]
            b: Window | None = base["window"] if base else None
            ratios = [r for r, _ in ours["ratios"] if not math.isnan(r)]
            ratio = _x(
                w.ms_per_stream_second, b.ms_per_stream_second if b else math.nan
            )
            say(
                f"{fmt:>4} {n:>4} {ours['recording']:>4} {w.ms_per_stream_second:6.2f} "
                f"{b.ms_per_stream_second if b else math.nan:6.2f} {ratio:5.2f} "
                f"{w.rt:4.2f}/{b.rt if b else math.nan:4.2f} "
                f"{w.end.rss / mb:7.1f} {w.end.pss / mb:7.1f} {w.end.threads:>4} {w.end.fds:>4} "
                f"{ours['site'].rss / mb:8.1f} {ours['site'].pss / mb:8.1f} "
                f"{b.end.pss / mb / n if b else math.nan:6.1f} "
                f"{w.fake_cpu / w.wall * 100:5.0f}/{b.fake_cpu / b.wall * 100 if b else math.nan:<5.0f} "
                f"{min(ratios) if ratios else math.nan:9.3f}"
            )
    for fmt in formats:
        done = [n for n in counts if (fmt, n, "ours") in results]
        for low, high in zip(done, done[1:], strict=False):
            wl, wh = (results[fmt, k, "ours"]["window"] for k in (low, high))
            lo, hi = wl.end, wh.end
            # CPU per wall second of the whole recorder, so its fixed duties cancel out.
            cpu = (wh.cpu / wh.wall - wl.cpu / wl.wall) / (high - low) * 1000
            say(
                f"{fmt}: marginal per added recording, N {low} -> {high}: RSS "
                f"{(hi.rss - lo.rss) / (high - low) / mb:.2f} MB, PSS "
                f"{(hi.pss - lo.pss) / (high - low) / mb:.2f} MB, CPU {cpu:.2f} ms/s"
            )
    notes = []
    for (fmt, n, tool), r in results.items():
        w = r["window"]
        if w.rt < 0.95 or w.fake_cpu / w.wall > 0.85:
            notes.append(
                f"{fmt} N={n} {tool}: the fake used {w.fake_cpu / w.wall * 100:.0f}% of a core "
                f"and delivered {w.rt:.2f}x real time: the fake, not the recorder, may be the limit"
            )
        if r["recording"] < n:
            notes.append(f"{fmt} N={n} {tool}: only {r['recording']} of {n} recorded")
        if tool == "ours":
            short = [(x, room) for x, room in r["ratios"] if not x >= 0.99]
            if short:
                notes.append(
                    f"{fmt} N={n}: {len(short)} rooms with disk/sent < 0.99: "
                    + ", ".join(f"{room} {x:.3f}" for x, room in short[:5])
                )
            if not r["closed"]:
                notes.append(f"{fmt} N={n}: recordings still open 60 s after offline")
    for note in notes:
        say("note: " + note)


def _x(ours: float, base: float) -> float:
    return ours / base if base and not math.isnan(base) else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,20,100", help="concurrent recordings")
    parser.add_argument("--seconds", type=float, default=30, help="the steady window")
    parser.add_argument("--bitrate", default="1M", help="the clip's video bitrate")
    parser.add_argument("--formats", default="flv,ts,fmp4")
    parser.add_argument("--minutes", type=int, default=0, help="soak minutes")
    parser.add_argument(
        "--rooms", type=int, default=500, help="rooms to check; 0: none"
    )
    parser.add_argument("--no-ffmpeg", action="store_true", help="skip the baseline")
    parser.add_argument("--check-rooms", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check_rooms:
        check_rooms(args.check_rooms)
        return

    counts = [int(n) for n in args.streams.split(",")]
    formats = [f for f in args.formats.split(",") if f]
    if set(formats) - set(busy.FORMATS):
        parser.error(f"formats are some of {', '.join(busy.FORMATS)}")
    workdir = Path(tempfile.mkdtemp(prefix="biliup-bench-record-"))
    results: dict[tuple[str, int, str], dict[str, Any]] = {}
    try:
        clip = workdir / "clip.flv"
        mbps = busy.make_clip(clip, args.bitrate)
        say(
            f"clip: 1280x720 25 fps H.264 + AAC, {mbps:.2f} Mbit/s measured (target video "
            f"{args.bitrate}); {os.cpu_count()} CPUs; work in {workdir}"
        )
        with busy.fake_bilibili(workdir / "fake.log") as fake:
            for fmt in formats:
                for n in counts:
                    soak = bool(args.minutes) and fmt == formats[0] and n == max(counts)
                    say(f"== {fmt}, N={n}: ours")
                    results[fmt, n, "ours"] = measure_ours(
                        fake, n, fmt, clip, args, workdir, soak
                    )
                    if not args.no_ffmpeg:
                        say(f"== {fmt}, N={n}: ffmpeg")
                        results[fmt, n, "ffmpeg"] = measure_ffmpeg(
                            fake, n, fmt, clip, args, workdir
                        )
            report(counts, formats, results, args)
            if args.rooms:
                run_check(fake, args.rooms, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
