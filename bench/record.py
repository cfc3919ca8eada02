"""What a recording costs: CPU seconds and peak RSS per recorded stream, ours next to
`ffmpeg -c copy`, at 1, 10 and 50 concurrent fake streams; and the time to check 500 rooms
(issue 4, item 9).

Everything runs on loopback against the fake Bilibili (tests/fakebili), in this process's
threads, with every strict rule on (WBI-signed play info, a CDN that wants browser headers and
sends FLV close-delimited from its second host). Each room loops a noisy 720p H.264 + AAC clip
made here by ffmpeg (its measured bitrate is printed) at real time, and ends its broadcast after
--seconds of stream time, so every recorder gets the same seconds of the same stream. The rooms
alternate between the two CDN hosts, the close-delimited one first: with --streams 1 the stream
comes close-delimited, with more half of them do and half come chunked.

- ours: one process per stream, as a django-q2 worker records one streamer, running the
  loop of Recorder._pump_flv (recorder/recording.py) without the database: the product's CDN
  client (cdn.session(), open_stream, Stream.chunks: bounded reads, whatever the framing) →
  ChunkStream → flv.FlvReader → flv.Segmenter (split_time 3600) writing to a temp dir.
- ffmpeg: `ffmpeg -v error -user_agent … -referer … -i <url> -c copy -f flv <out>`, one process
  per stream.

Per process: total CPU (user + system, from wait4), the steady CPU rate (from /proc/<pid>/stat,
from a second after its first output bytes to a second before its stream ends; start-up and
exit excluded, the same way for both tools: a Python interpreter's exit alone costs some 50 ms,
which a long-lived worker does not pay per recording) and peak RSS (/proc/<pid>/status VmHWM, polled; wait4's ru_maxrss is no use here, it
counts the parent's pages when the child is spawned with vfork). The ratios are ours/ffmpeg in
the same run. Goals: CPU no more than ffmpeg's, under 30 MB RSS per stream.

Then 500 rooms (a tenth of them live) are checked by recorder.watch.check_all(spread=0) in a
Django process on a fresh SQLite database, with enqueue_recording stubbed out. Goal: well within
one 30 s check interval.

    .venv/bin/python bench/record.py [--streams 1,10,50] [--seconds 20] [--bitrate 6M] [--rooms 500]
"""

from __future__ import annotations

# A worker process runs this file too, and its peak RSS is what is measured: modules that only
# the harness uses (argparse, shutil, signal, statistics, subprocess, tempfile: 1.3 MB) are
# imported inside the functions that use them, so that a worker holds what a recording needs.
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLK_TCK = os.sysconf("SC_CLK_TCK")
POLL_SECONDS = 0.2
# After a process's first output bytes, before its steady window opens; and before its stream's
# end (--seconds after those first bytes), when the window closes.
SETTLE_SECONDS = 1.0
FIRST_STREAM_ROOM = 700_000
FIRST_CHECK_ROOM = 800_000
CHECK_RUNS = 3


@dataclass
class Run:
    """One recording process and what was measured of it."""

    tool: str
    directory: Path
    process: subprocess.Popen[bytes]
    data_at: float | None = None  # when its output first had bytes
    samples: list[tuple[float, int]] = field(default_factory=list)  # (time, CPU ticks)
    peak_kb: int = 0  # VmHWM: peak resident set, shared library pages included
    anon_kb: int = 0  # the largest RssAnon seen: private memory, what each stream adds
    cpu: float | None = None  # seconds, from wait4
    exit_code: int | None = None

    @property
    def steady_rate(self) -> float | None:
        """CPU seconds per second over the steady window, None if it was too short."""
        if len(self.samples) < 2 or self.samples[-1][0] - self.samples[0][0] < 1:
            return None
        (t0, c0), (t1, c1) = self.samples[0], self.samples[-1]
        return (c1 - c0) / CLK_TCK / (t1 - t0)


# --- The worker: our recording path, one process per stream ------------------------------


def worker(url: str, directory: Path) -> None:
    """Record `url` until it ends; print what was recorded as one JSON line.

    The loop is Recorder._pump_flv's: the CDN client's chunks counted (Recorder._counted),
    ChunkStream, FlvReader, Segmenter.feed, and per tag Recorder._beat's clock check (its
    database write is every few seconds).
    """
    from biliup_site.bilibili import cdn
    from recorder import flv
    from recorder.chunks import ChunkStream

    startup = sum(os.times()[:2])
    names = (directory / f"segment-{n:03}.flv" for n in itertools.count())
    segments: list[flv.Segment] = []
    tags = received = 0
    last_beat = 0.0

    def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal received
        for chunk in chunks:
            received += len(chunk)
            yield chunk

    with (
        flv.Segmenter(
            lambda: next(names), split_time=3600, on_closed=segments.append
        ) as segmenter,
        cdn.open_stream(cdn.session(), url, 10) as stream,
    ):
        if stream.status_code != 200:
            raise SystemExit(f"the CDN answered HTTP {stream.status_code}")
        chunks = counted(stream.chunks())
        for tag in flv.FlvReader(ChunkStream(chunks)):
            segmenter.feed(tag)
            tags += 1
            now = time.monotonic()
            if now - last_beat >= 5:
                last_beat = now
    report = {
        "startup_cpu": startup,
        "tags": tags,
        "bytes": received,
        "segments": len(segments),
        "seconds": sum(s.duration for s in segments),
    }
    print(json.dumps(report))


# --- The 500-room check, in its own Django process ---------------------------------------


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


# --- The benchmark -----------------------------------------------------------------------


def make_clip(path: Path, bitrate: str) -> float:
    """A 10 s 1280x720 25 fps clip (keyframe every 2 s, AAC 128k); its bitrate in Mbit/s.

    testsrc2 compresses far below any target bitrate; per-frame noise lets x264 reach it.
    """
    import subprocess

    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-nostdin",
            "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25,noise=alls=40:allf=t",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", "10",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
            "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", "2M",
            "-c:a", "aac", "-b:a", "128k",
            "-f", "flv", str(path),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    from tests import media

    return path.stat().st_size * 8 / media.probe(path, decode=False).duration / 1e6


def stream_url(api: str, room_id: int, host: int) -> str:
    """The room's HTTP-FLV URL on CDN host `host` (0: chunked, 1: close-delimited) from play
    info (host + base_url + extra, §6.4), asked for WBI-signed with nav's keys (§7.3)."""
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
    playurl = body["data"]["playurl_info"]["playurl"]
    codec = playurl["stream"][0]["format"][0]["codec"][0]
    info = codec["url_info"][host % len(codec["url_info"])]
    return f"{info['host']}{codec['base_url']}{info['extra']}"


def compile_worker() -> None:
    """Write the .pyc files of this repository's modules that a worker runs.

    This machine sets PYTHONDONTWRITEBYTECODE, so none are ever written, and each worker would
    compile recorder/flv.py and this file from source: a transient of some 1.5 MB in its peak
    RSS that a deployed worker, its modules compiled once, does not have.
    """
    import py_compile

    for name in ("recorder/__init__.py", "recorder/flv.py", "recorder/amf.py", "recorder/chunks.py", "bench/record.py", "biliup_site/bilibili/cdn.py", "biliup_site/bilibili/http.py"):  # fmt: skip
        py_compile.compile(str(ROOT / name), doraise=True)


def spawn(tool: str, url: str, directory: Path) -> Run:
    import subprocess

    directory.mkdir(parents=True)
    if tool == "ffmpeg":
        from biliup_site.bilibili import http

        out = directory / "out.flv"
        # The headers the CDN wants (cdn.session() sends the same).
        headers = ["-user_agent", http.BROWSER_UA, "-referer", http.LIVE_REFERER]
        argv = ["ffmpeg", "-nostdin", "-v", "error", *headers, "-i", url, "-c", "copy", "-f", "flv", str(out)]  # fmt: skip
    else:
        # As a module, not a script: its code then comes from the .pyc (compile_worker()).
        argv = [sys.executable, "-m", "bench.record", "--worker", url, str(directory)]
    # Files, not pipes: nothing can block on a full pipe while we poll.
    with (
        open(directory.parent / f"{directory.name}.out", "wb") as stdout,
        open(directory.parent / f"{directory.name}.err", "wb") as stderr,
    ):
        process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, cwd=ROOT)
    return Run(tool, directory, process)


def _proc(pid: int) -> tuple[int, int, int] | None:
    """(CPU ticks so far, VmHWM kB, RssAnon kB) of a running process, None once it has exited."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    kb = {
        name: int(value.split()[0])
        for name, _, value in (line.partition(":") for line in status.splitlines())
        if name in ("VmHWM", "RssAnon")
    }
    if len(kb) < 2:
        return None  # a zombie: its memory is gone
    return ticks, kb["VmHWM"], kb["RssAnon"]


def _has_output(directory: Path) -> bool:
    return any(p.stat().st_size > 0 for p in directory.iterdir() if p.is_file())


def watch(runs: list[Run], deadline: float, seconds: float) -> None:
    """Poll every run until all have exited (those past the deadline are killed); sample the
    CPU of each in its steady window, while its stream of `seconds` is recorded."""
    import signal

    pending = list(runs)
    while pending:
        now = time.monotonic()
        for run in list(pending):
            pid, status, usage = os.wait4(run.process.pid, os.WNOHANG)
            if pid:
                run.cpu = usage.ru_utime + usage.ru_stime
                run.exit_code = os.waitstatus_to_exitcode(status)
                run.process.returncode = run.exit_code  # reaped here, not by Popen
                pending.remove(run)
                continue
            sample = _proc(run.process.pid)
            if sample is None:
                continue  # exiting: wait4 gets it next round
            ticks, hwm, anon = sample
            run.peak_kb = max(run.peak_kb, hwm)
            run.anon_kb = max(run.anon_kb, anon)
            if run.data_at is None and _has_output(run.directory):
                run.data_at = now
            if (
                run.data_at is not None
                and SETTLE_SECONDS <= now - run.data_at <= seconds - SETTLE_SECONDS
            ):
                run.samples.append((now, ticks))
            if now > deadline:
                run.process.send_signal(signal.SIGKILL)
        time.sleep(POLL_SECONDS)


def recorded_seconds(run: Run) -> float:
    from tests import media

    return sum(
        media.probe(path, decode=False).duration
        for path in sorted(run.directory.glob("*.flv"))
    )


def measure(
    fake: Any, rooms: list[int], tool: str, seconds: float, workdir: Path
) -> dict[str, Any]:
    """Record one stream per room with `tool`, all at once; the per-stream figures."""
    import shutil
    import statistics

    for room in rooms:
        fake.set_live(room, 0)  # end whatever a previous phase left running
        fake.set_live(room, 1)
        fake.set_stream(room, offline_after_seconds=seconds)
    # The first stream (and every other one) from the close-delimited host.
    urls = [stream_url(fake.url, room, i + 1) for i, room in enumerate(rooms)]
    phase = workdir / f"{tool}-{len(rooms)}"
    phase.mkdir()
    start = time.monotonic()
    runs = [spawn(tool, url, phase / f"s{i:03}") for i, url in enumerate(urls)]
    watch(runs, deadline=start + 3 * seconds + 60, seconds=seconds)
    wall = time.monotonic() - start
    failed = [r for r in runs if r.exit_code != 0]
    for run in failed[:3]:
        err = (phase / f"{run.directory.name}.err").read_text(errors="replace")
        print(f"  {tool} {run.directory.name} exited {run.exit_code}: {err[-500:]}")
    startup = []
    if tool == "ours":
        for run in runs:
            out = (phase / f"{run.directory.name}.out").read_text().strip()
            if out:
                startup.append(json.loads(out.splitlines()[-1])["startup_cpu"])
    rates = [r.steady_rate for r in runs if r.steady_rate is not None]
    result = {
        "wall": wall,
        "failed": len(failed),
        "cpu": statistics.mean(r.cpu or 0.0 for r in runs),
        "rate": statistics.mean(rates) if rates else float("nan"),
        "rss": statistics.mean(r.peak_kb for r in runs) / 1024,
        "rss_max": max(r.peak_kb for r in runs) / 1024,
        "anon": statistics.mean(r.anon_kb for r in runs) / 1024,
        "recorded": statistics.mean(recorded_seconds(r) for r in runs),
        "startup": statistics.mean(startup) if startup else None,
    }
    shutil.rmtree(phase)
    return result


def run_check(fake: Any, count: int, workdir: Path) -> dict[str, Any]:
    import subprocess

    for i in range(count):
        room = FIRST_CHECK_ROOM + i
        fake.add_room(room, uid=room)
        if i % 10 == 0:
            fake.set_live(room, 1)
    env = {
        **os.environ,
        **fake.env(),
        "DJANGO_SETTINGS_MODULE": "biliup_site.settings",
        "BILIUP_DATA_DIR": str(workdir / "data"),
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
        raise RuntimeError(f"the room check failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import argparse
    import shutil
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", default="1,10,50", help="concurrent stream counts")
    parser.add_argument(
        "--seconds", type=float, default=20, help="stream time per recording"
    )
    parser.add_argument("--bitrate", default="6M", help="the clip's video bitrate")
    parser.add_argument("--rooms", type=int, default=500, help="rooms to check")
    parser.add_argument(
        "--worker", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS
    )
    parser.add_argument("--check-rooms", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    if args.check_rooms:
        check_rooms(args.check_rooms)
        return

    from tests.fakebili.server import FakeBilibili

    counts = [int(n) for n in args.streams.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="biliup-bench-record-"))
    try:
        clip = workdir / "clip.flv"
        mbps = make_clip(clip, args.bitrate)
        print(
            f"clip: 1280x720 25 fps H.264 + AAC, {mbps:.2f} Mbit/s measured "
            f"(target video {args.bitrate}); {args.seconds:g} s per recording; {os.cpu_count()} CPUs"
        )
        results: dict[tuple[int, str], dict[str, Any]] = {}
        compile_worker()
        with FakeBilibili() as fake:
            rooms = [FIRST_STREAM_ROOM + i for i in range(max(counts))]
            for room in rooms:
                fake.add_room(room, uid=room, speed=1, clip=str(clip))
            for n in counts:
                for tool in ("ffmpeg", "ours"):
                    results[n, tool] = measure(
                        fake, rooms[:n], tool, args.seconds, workdir
                    )
            check = run_check(fake, args.rooms, workdir)
        print_table(counts, results, args.seconds)
        best = min(check["seconds"])
        print(
            f"\n{args.rooms} rooms checked by recorder.watch.check_all (pool of {check['pool']}, "
            f"{check['live']} live): {', '.join(f'{s:.2f}' for s in check['seconds'])} s "
            f"→ best {best:.2f} s, {args.rooms / best:.0f} rooms/s "
            f"({best / 30 * 100:.1f}% of a 30 s interval)"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _ratio(ours: dict[str, Any], base: dict[str, Any], key: str) -> float:
    """ours / ffmpeg; nan when ffmpeg's figure is 0 (a short --seconds leaves its steady window
    with no CPU tick at all) or unknown."""
    if not base[key] or math.isnan(base[key]):
        return float("nan")
    return ours[key] / base[key]


def print_table(
    counts: list[int], results: dict[tuple[int, str], dict[str, Any]], seconds: float
) -> None:
    import statistics

    print(
        "\nper stream: CPU s = whole process (wait4); steady % = CPU after start-up, % of one core;\n"
        "RSS = peak VmHWM (mean, max), shared libraries included; anon = peak RssAnon (private);\n"
        "rec. s = recorded duration (ffprobe); x = ours / ffmpeg in this run\n"
    )
    print(
        f"{'streams':>7} {'tool':6} {'CPU s':>6} {'steady %':>8} {'RSS MB':>6} {'max':>5} "
        f"{'anon MB':>7} {'rec. s':>6} {'wall s':>6} {'fail':>4} "
        f"{'CPU x':>6} {'steady x':>8} {'RSS x':>5} {'anon x':>6}"
    )
    for n in counts:
        base = results[n, "ffmpeg"]
        for tool in ("ffmpeg", "ours"):
            r = results[n, tool]
            ratios = ""
            if tool == "ours":
                ratios = (
                    f" {_ratio(r, base, 'cpu'):6.2f} {_ratio(r, base, 'rate'):8.2f} "
                    f"{_ratio(r, base, 'rss'):5.2f} {_ratio(r, base, 'anon'):6.2f}"
                )
            print(
                f"{n:>7} {tool:6} {r['cpu']:6.3f} {r['rate'] * 100:8.2f} {r['rss']:6.1f} "
                f"{r['rss_max']:5.1f} {r['anon']:7.1f} {r['recorded']:6.2f} {r['wall']:6.1f} "
                f"{r['failed']:>4}{ratios}"
            )
    slow = [
        f"{n} ({tool})"
        for (n, tool), r in results.items()
        if r["wall"] > seconds * 1.15 + 3
    ]
    if slow:
        # The fake paces every stream from this one Python process; when it cannot keep up,
        # streams run slower than real time and each process's CPU is spread over more seconds.
        print(
            f"\nslower than real time at {', '.join(slow)} streams (the fake shares the CPUs): "
            f"steady % there is per wall second, so understated; CPU s is still per "
            f"{seconds:g} s of stream."
        )
    startups = [results[n, "ours"]["startup"] for n in counts]
    startups = [s for s in startups if s is not None]
    if startups:
        print(
            f"\nours' CPU s includes a Python start-up (interpreter, requests, recorder.flv) of "
            f"{statistics.mean(startups):.3f} s per process, which a long-lived django-q2 "
            f"worker pays once, not per recording."
        )


if __name__ == "__main__":
    main()
