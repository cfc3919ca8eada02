"""Upload throughput: MB/s sending one file to the fake UPOS over loopback at 1, 3 and 8
threads, ours next to a raw baseline and to biliup 0.4.102's own uploader in the same run, and
the peak RSS of each.

The fake Bilibili (tests/fakebili) runs in a process of its own, so its CPU and memory count
for no tool, with what it receives kept in /dev/shm when there is room. All three send the
same file of random bytes made here (fsynced first), and the MD5 the fake computes at complete
is checked against the file's after every upload; the fake is then reset, which frees its copy.

- ours: one process per upload running what a django-q2 worker runs for a queued job, on a
  migrated SQLite database in a temp dir: uploads.tasks.upload(job_id) for a one-file job made
  by uploads.upload.create_job, its account logged in on the fake and the line set to bda2. That
  is the claim, preupload, init, chunks.send_parts with the worker's per-chunk bookkeeping (an
  UploadChunk row per acknowledged chunk, progress saved and published through channels-lite
  about once a second, a cancel check every second), complete and submit.
- baseline: one process per upload with nothing but requests: preupload and init (its own, so
  the fake checks it too), then every chunk read whole into memory (seek + read) and PUT from a
  ThreadPoolExecutor of the same size, one keep-alive Session per thread, with the same query and
  X-Upos-Auth; then complete. No bookkeeping.
- biliup: one process per upload running biliup 0.4.102's BiliBili.upload_file (PyPI's biliup,
  in a venv of its own that bench/biliup_uploader.py makes on the first run, outside the
  repository): its preupload, init, chunks read with file.read and PUT by `threads` asyncio
  tasks over aiohttp, and complete, with only its HTTP calls redirected to the fake. Its import
  of biliup (about 700 modules) is in its peak RSS: that is what running it costs.

MB/s is the file's bytes over the chunk window, from the first chunk PUT to the last one
acknowledged (for ours, the time spent in chunks.send_parts, timed by wrapping it; nothing in
it changes; for biliup, BiliBili._upload, wrapped the same way); MB = 2^20 bytes. CPU s is the
worker's CPU time (all its threads) within that window: what streaming and bookkeeping cost,
which the noise in MB/s does not blur. "whole s" adds the rest: ours from the task's start to
its end (claim, preupload, init, complete, submit; the fake hashes the file at complete), the
baseline and biliup from preupload to complete (biliup's submit is not run). Peak RSS is VmHWM
from /proc/<pid>/status, polled (as in bench/record.py: wait4's ru_maxrss can count the
parent's pages). Each round runs the tools back to back, the order rotating from round to
round, and a ratio is the median of the rounds' pairs, so drift falls on both sides.

Goals (issue #19): at 1 and 3 threads, ours at least 0.95x the raw baseline and at least 1.5x
biliup; ours' peak RSS under 120 MB whatever the file size (compare sizes in one run: --size
256M,1G). Where the fake and the uploader share a couple of CPUs, MB/s varies by tens of
percent from one upload to the next: use --rounds 3 or more there, and read the CPU s columns
too.

    .venv/bin/python bench/upload.py [--size 1G] [--threads 1,3,8] [--rounds 1] [--chunk-size N]
        [--tools ours,baseline,biliup] [--wan RTT_MS,CONN_MIBS,LINE_MIBS]

With --wan, the same three upload through an emulated WAN link to the fake's UPOS host instead
(bench/wan.py; the run and its table are in bench/upload_wan.py): --wan 40,2,16 (the default
--size there: 512M) is issue #25's line, 40 ms round trip, 2 MiB/s per connection, 16 MiB/s in
all.
"""

from __future__ import annotations

# Worker processes run this file too, and their peak RSS is what is measured: modules only the
# harness uses are imported inside the functions that use them (as in bench/record.py).
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
MID = 20250001  # the fake account that uploads
LINE = "bda2"
TOOLS = ("ours", "baseline", "biliup")
LABELS = {"ours": "ours", "baseline": "raw", "biliup": "biliup"}
POLL_SECONDS = 0.1
WARM_UP_SIZE = 3 * MiB
RSS_GOAL_MB = 120
# ours / the other tool's MB/s, at the thread counts of GOAL_THREADS.
RATIO_GOALS = {"baseline": 0.95, "biliup": 1.5}
GOAL_THREADS = (1, 3)
# The raw PUT has no default of its own: "at its default" it runs at the others' (both 3).
RAW_THREADS = 3
# What the fake's preupload hands out unless told (as Bilibili's).
FAKE_CHUNK_SIZE = 10 * MiB


# --- The workers: one process per upload, each printing its timings as one JSON line ------


def ours(path: Path, threads: int, credential: Path) -> None:
    """Upload `path` the way a django-q2 worker runs an upload job; `threads` 0 leaves the
    configuration's default."""
    import django

    django.setup()
    from accounts.models import BilibiliAccount
    from biliup_site.bilibili import chunks
    from biliup_site.models import Configuration
    from uploads import tasks, upload
    from uploads.models import UploadJob, UploadTemplate

    config = Configuration.load()
    config.threads = threads or Configuration._meta.get_field("threads").default
    # --cap and --line-ceiling (the defaults otherwise, as a new user has them).
    config.upload_rate_limit = int(os.environ.get("BENCH_CAP_KIB", "0"))
    config.upload_line_max_connections = (
        int(os.environ.get("BENCH_LINE_CEILING", "0"))
        or Configuration._meta.get_field("upload_line_max_connections").default
    )
    config.lines = LINE
    config.delete_after_upload = Configuration.DeletePolicy.KEEP
    config.save()
    account, _ = BilibiliAccount.objects.update_or_create(
        value="bench",
        defaults={
            "credential": json.loads(credential.read_text()),
            "mid": MID,
            "status": BilibiliAccount.Status.ACTIVE,
            # The site counts the account's preuploads of the last hour in this database, and
            # one bench run makes more than Bilibili's 20 (the fake's count is reset after
            # every upload). The check still runs; only its limit is the form's highest.
            "upload_budget": 1000,
        },
    )
    template = UploadTemplate(title="bench", tid=171, tags=["bench"], account=account)
    job = upload.create_job([path], template)

    # The chunk window. uploads/runner.py looks send_parts up at each call, so wrapping the
    # module attribute times the real call without changing it.
    window: dict[str, float] = {}
    send_parts = chunks.send_parts

    def timed(*args: Any, **kwargs: Any) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        send_parts(*args, **kwargs)
        window["seconds"] = time.perf_counter() - started
        window["cpu"] = time.process_time() - cpu

    chunks.send_parts = timed
    started = time.perf_counter()
    tasks.upload(job.pk)
    whole = time.perf_counter() - started

    job.refresh_from_db()
    if job.status != UploadJob.Status.DONE:
        raise SystemExit(f"the job ended {job.status}: {job.error}")
    file = job.files.get()
    report = {
        "window": window["seconds"],
        "window_cpu": window["cpu"],
        "whole": whole,
        "filename": file.remote_filename,
        "chunks": file.chunks.count(),
        "chunk_size": file.chunk_size,
        "threads": config.threads,
    }
    print(json.dumps(report))


def baseline(
    path: Path,
    threads: int,
    credential: Path,
    fake_url: str,
    upos_url: str | None = None,
) -> None:
    """Upload `path` with plain requests: chunks read into memory, PUT `threads` at a time (0:
    RAW_THREADS); the UPOS host reached under `upos_url` if given, else the fake's."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import PurePosixPath

    import requests

    size = path.stat().st_size
    threads = threads or RAW_THREADS
    started = time.perf_counter()
    http = requests.Session()
    for cookie in json.loads(credential.read_text())["cookie_info"]["cookies"]:
        http.cookies.set(cookie["name"], str(cookie["value"]))
    resp = http.get(
        f"{fake_url}/preupload",
        params={
            "probe_version": "20221109",
            "upcdn": LINE,
            "zone": "cs",
            "r": "upos",
            "profile": "ugcupos/bup",
            "ssl": "0",
            "version": "2.14.0",
            "build": "2140000",
            "name": path.name,
            "size": size,
        },
        timeout=30,
    )
    resp.raise_for_status()
    pre = resp.json()
    key = pre["upos_uri"].removeprefix("upos://")
    # The endpoint names a real UPOS host; the fake serves it with the host as the path's first
    # segment, as BILIUP_BILIBILI_UPOS_URL makes the product do.
    url = f"{upos_url or fake_url}/{pre['endpoint'].removeprefix('//')}/{key}"
    auth = {"X-Upos-Auth": pre["auth"]}
    resp = http.post(f"{url}?uploads&output=json", headers=auth, timeout=30)
    resp.raise_for_status()
    upload_id = resp.json()["upload_id"]

    chunk_size = int(pre["chunk_size"])
    starts = range(0, size, chunk_size)
    local = threading.local()

    def put(index: int, start: int) -> None:
        end = min(start + chunk_size, size)
        with path.open("rb") as f:
            f.seek(start)
            data = f.read(end - start)
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        resp = session.put(
            url,
            params={
                "partNumber": index + 1,
                "uploadId": upload_id,
                "chunk": index,
                "chunks": len(starts),
                "size": end - start,
                "start": start,
                "end": end,
                "total": size,
            },
            data=data,
            headers={**auth, "Content-Type": "application/octet-stream"},
            timeout=(10, 240),
        )
        resp.raise_for_status()

    window_started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(put, i, s) for i, s in enumerate(starts)]:
            future.result()
        window = time.perf_counter() - window_started
        window_cpu = time.process_time() - cpu

    resp = http.post(
        url,
        params={
            "output": "json",
            "name": path.name,
            "profile": "ugcupos/bup",
            "uploadId": upload_id,
            "biz_id": pre["biz_id"],
        },
        json={
            "parts": [
                {"partNumber": n, "eTag": "etag"} for n in range(1, len(starts) + 1)
            ]
        },
        headers=auth,
        timeout=(10, 120),
    )
    resp.raise_for_status()
    if resp.json().get("OK") != 1:
        raise SystemExit(f"complete refused: {resp.text}")
    report = {
        "window": window,
        "window_cpu": window_cpu,
        "whole": time.perf_counter() - started,
        "filename": PurePosixPath(key).stem,
        "chunks": len(starts),
        "chunk_size": chunk_size,
        "threads": threads,
    }
    print(json.dumps(report))


def setup() -> None:
    """Migrate the bench database (both of its SQLite files); import what the workers import,
    so that their byte code is compiled here, not in a measured process."""
    import django

    django.setup()
    from channels.layers import get_channel_layer
    from django.core.management import call_command

    import uploads.tasks  # noqa: F401

    call_command("migrate", verbosity=0)
    call_command("migrate", database="channels", verbosity=0)
    get_channel_layer()


# --- The benchmark -----------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    threads: int
    size: int
    window: float  # seconds, first chunk PUT to last acknowledged
    window_cpu: float  # CPU seconds (all threads) in the window
    whole: float  # seconds, with preupload, init, complete (and ours: claim, submit)
    peak_kb: int  # VmHWM
    chunks: int
    chunk_size: int

    @property
    def mbps(self) -> float:
        return self.size / MiB / self.window


class Fake:
    """The fake Bilibili in its own process, and its HTTP controls."""

    def __init__(self, workdir: Path, room: int) -> None:
        import shutil
        import subprocess

        self.log = workdir / "fakebili.log"
        out = workdir / "fakebili.out"
        env = dict(os.environ)
        # The fake writes what it receives to a temp file: in memory if there is room, so
        # that the disk's writeback does not slow the fake down at random moments.
        shm = Path("/dev/shm")
        if shm.is_dir() and shutil.disk_usage(shm).free > room:
            env["TMPDIR"] = str(shm)
        with out.open("wb") as stdout, self.log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.fakebili", "--port", "0"],
                stdout=stdout,
                stderr=stderr,
                cwd=ROOT,
                env=env,
            )
        # It writes its URL and settings in one write once it listens.
        deadline = time.monotonic() + 30
        while not out.read_text().endswith("\n"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"the fake did not start: {self.log.read_text()}")
            time.sleep(0.05)
        url, *settings = out.read_text().splitlines()
        self.url = url
        self.env = dict(line.split("=", 1) for line in settings)

    def control(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        import requests

        resp = requests.request(
            method, f"{self.url}/_fake/{path}", json=body or {}, timeout=60
        )
        resp.raise_for_status()
        return resp.json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def make_file(path: Path, size: int) -> str:
    """A file of random bytes (a misplaced chunk shows in the MD5); its MD5."""
    import hashlib

    digest = hashlib.md5()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 4 * MiB))
            out.write(block)
            digest.update(block)
            left -= len(block)
        # On disk before it is read: writeback while an upload runs would add noise.
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _peak_kb(pid: int) -> int | None:
    """VmHWM of a running process, None once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None  # a zombie: its memory is gone


def run(
    tool: str,
    command: list[str],
    path: Path,
    threads: int,
    fake: Fake,
    env: dict[str, str],
    workdir: Path,
    md5: str,
    chunk_size: int | None,
    upos_url: str | None = None,
) -> Result:
    """One upload by `tool` in a process of its own, measured and checked on the fake; its UPOS
    host under `upos_url` if given (for ours, set BILIUP_BILIBILI_UPOS_URL in `env` too).
    `threads` 0: the tool's default."""
    import subprocess

    credential = workdir / "credential.json"
    credential.write_text(json.dumps(fake.control("POST", f"accounts/{MID}/login")))
    argv = [*command, str(path), str(threads), str(credential), fake.url]
    if upos_url:
        argv.append(upos_url)
    out, err = workdir / f"{tool}.out", workdir / f"{tool}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            argv, stdout=stdout, stderr=stderr, cwd=ROOT, env=env
        )
    peak_kb = 0
    while True:
        pid, status, _ = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak_kb = max(peak_kb, _peak_kb(process.pid) or 0)
        time.sleep(POLL_SECONDS)
    process.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here
    if code != 0:
        raise RuntimeError(
            f"{tool} at {threads} threads exited {code}:\n{err.read_text()[-3000:]}"
        )
    report = json.loads(out.read_text().splitlines()[-1])
    files = {f["filename"]: f for f in fake.control("GET", "upos/files")}
    got = files.get(report["filename"], {}).get("md5")
    if got != md5:
        raise RuntimeError(
            f"{tool} at {threads} threads: the fake has MD5 {got}, not {md5}"
        )
    # Forget the upload, and the fake's copy of the file; the login goes with it.
    fake.control("POST", "reset")
    if chunk_size:
        fake.control("POST", "upos/config", {"chunk_size": chunk_size})
    return Result(
        tool=tool,
        threads=report.get("threads", threads),
        size=path.stat().st_size,
        window=report["window"],
        window_cpu=report["window_cpu"],
        whole=report["whole"],
        peak_kb=peak_kb,
        chunks=report["chunks"],
        chunk_size=report["chunk_size"],
    )


def parse_size(text: str) -> int:
    """The bytes in "1G", "256M", "512MiB" or "1048576" (binary multiples)."""
    import argparse
    import re

    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text.strip(), re.I)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 256M or 1G)")
    return int(float(match[1]) * 1024 ** " KMGT".index(match[2].upper() or " "))


def main() -> None:
    import argparse
    import shutil
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--size",
        type=lambda text: [parse_size(s) for s in text.split(",")],
        help="file sizes, comma-separated (256M, 1G, …; default 1G, with --wan 512M)",
    )
    parser.add_argument(
        "--threads",
        help="thread counts (default 1,3,8; with --wan, the equal count for all three, "
        "default ceil(line/cap)+2, beside each tool's default)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="uploads per tool and setting"
    )
    parser.add_argument(
        "--chunk-size",
        type=parse_size,
        help="the chunk size preupload hands out (the fake's default: 10M, as Bilibili's)",
    )
    parser.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help="which of ours, baseline (the raw PUT) and biliup to run",
    )
    parser.add_argument(
        "--wan",
        nargs="?",
        const="40,2,16",
        metavar="RTT_MS,CONN_MIBS,LINE_MIBS",
        help="upload through an emulated WAN link (bench/wan.py); alone: 40,2,16",
    )
    parser.add_argument(
        "--cap",
        type=int,
        default=0,
        metavar="KIB_S",
        help="ours' upload_rate_limit in KiB/s (with --wan: its 10 s windows are printed)",
    )
    parser.add_argument(
        "--line-ceiling",
        type=int,
        default=0,
        help="ours' upload_line_max_connections (default: the configuration's, 8)",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup()
        return
    if args.worker:
        tool, path, threads, credential, *rest = args.worker
        if tool == "ours":
            ours(Path(path), int(threads), Path(credential))
        else:
            baseline(Path(path), int(threads), Path(credential), *rest)
        return
    if args.wan:
        from bench import upload_wan

        wan = upload_wan.parse_figures(args.wan)

    import subprocess

    sizes: list[int] = args.size or [parse_size("512M" if args.wan else "1G")]
    counts = [
        int(n) for n in (args.threads or ("" if args.wan else "1,3,8")).split(",") if n
    ]
    tools = [t for t in TOOLS if t in args.tools.split(",")]
    # ours and the raw PUT are always at hand: --wan calibrates with the raw PUT.
    commands = {
        tool: [sys.executable, "-m", "bench.upload", "--worker", tool]
        for tool in ("ours", "baseline")
    }
    if "biliup" in tools:
        from bench import biliup_uploader

        commands["biliup"] = [str(biliup_uploader.python()), biliup_uploader.__file__]
    workdir = Path(tempfile.mkdtemp(prefix="biliup-bench-upload-"))
    fake: Fake | None = None
    try:
        fake = Fake(workdir, room=2 * max(sizes))
        env = {
            **os.environ,
            **fake.env,
            "DJANGO_SETTINGS_MODULE": "biliup_site.settings",
            "BILIUP_DATA_DIR": str(workdir / "data"),
            "BILIUP_TASKS_SYNC": "False",
            # This machine sets PYTHONDONTWRITEBYTECODE, so every worker would compile the
            # repository's modules from source, a transient in its peak RSS that a deployed
            # worker does not have. The workers' byte code goes to a temp dir instead, compiled
            # by the setup process and the warm-up uploads.
            "PYTHONPYCACHEPREFIX": str(workdir / "pycache"),
            "BENCH_CAP_KIB": str(args.cap),
            "BENCH_LINE_CEILING": str(args.line_ceiling),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [sys.executable, "-m", "bench.upload", "--setup"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=600,
        )
        if args.chunk_size:
            fake.control("POST", "upos/config", {"chunk_size": args.chunk_size})
        warm = workdir / "warm-up.flv"
        md5 = make_file(warm, WARM_UP_SIZE)
        for tool in tools:
            run(tool, commands[tool], warm, 2, fake, env, workdir, md5, args.chunk_size)
        warm.unlink()
        if args.wan:

            def upload(
                tool: str, path: Path, md5: str, threads: int, upos_url: str
            ) -> Result:
                # Only ours reads the UPOS base from its settings; the others from argv.
                wan_env = {**env, "BILIUP_BILIBILI_UPOS_URL": upos_url}
                return run(tool, commands[tool], path, threads, fake, wan_env, workdir, md5, args.chunk_size, upos_url)  # fmt: skip

            upload_wan.bench(
                wan,
                sizes[0],
                args.chunk_size or FAKE_CHUNK_SIZE,
                tools,
                counts,
                args.rounds,
                fake.url,
                workdir,
                upload,
                make_file,
                cap_mibs=args.cap / 1024 if args.cap else None,
            )
            return

        print(
            f"{os.cpu_count()} CPUs, {len(os.sched_getaffinity(0))} usable by this process; "
            "the fake in its own process, on loopback"
        )
        results: list[Result] = []
        order = 0
        for size in sizes:
            path = workdir / "upload.flv"
            md5 = make_file(path, size)
            for threads in counts:
                for _ in range(args.rounds):
                    # Each tool goes first, second and last in turn.
                    turn = tools[order % len(tools) :] + tools[: order % len(tools)]
                    order += 1
                    for tool in turn:
                        r = run(tool, commands[tool], path, threads, fake, env, workdir, md5, args.chunk_size)  # fmt: skip
                        results.append(r)
                        print(
                            f"  {size // MiB} MiB, {threads} threads, {LABELS[tool]}: "
                            f"{r.mbps:.0f} MB/s, {r.peak_kb / 1024:.1f} MB peak RSS"
                        )
            path.unlink()
        print_table(sizes, counts, tools, results)
    finally:
        if fake is not None:
            fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def print_table(
    sizes: list[int], counts: list[int], tools: list[str], results: list[Result]
) -> None:
    import statistics

    def pick(size: int, threads: int, tool: str) -> list[Result]:
        return [
            r for r in results if (r.size, r.threads, r.tool) == (size, threads, tool)
        ]

    print(
        "\nMB/s = file bytes / chunk window (first chunk PUT to last acknowledged); ours/raw and\n"
        "ours/biliup = the median of the rounds' ratios (each round's uploads ran back to back);\n"
        "RSS = peak VmHWM, the max of rounds; CPU s = the process's CPU in the chunk window; whole\n"
        "s = with preupload, init and complete (ours: also claim and submit). MB/s, CPU s and whole\n"
        "s are medians of rounds; MB = 2^20 bytes. MB/s, RSS, CPU s and whole s give "
        + " / ".join(LABELS[t] for t in tools)
        + "."
    )
    others = [t for t in tools if t != "ours"] if "ours" in tools else []
    # (other tool, threads) -> every round's ours/other, all sizes
    ratios: dict[tuple[str, int], list[float]] = {}
    ours_rss: dict[int, float] = {}
    for size in sizes:
        first = pick(size, counts[0], tools[0])[0]
        print(
            f"\n{size / MiB:.0f} MiB file, {first.chunks} chunks of {first.chunk_size / MiB:g} MiB\n"
            f"{'threads':>7} {'MB/s':>20} "
            + "".join(f"{'ours/' + LABELS[o]:>12}" for o in others)
            + f"  {'peak RSS MB':>20}  {'CPU s':>18}  {'whole s':>18}"
        )
        for n in counts:
            row = {tool: pick(size, n, tool) for tool in tools}
            mbps = [statistics.median(r.mbps for r in row[t]) for t in tools]
            rss = [max(r.peak_kb for r in row[t]) / 1024 for t in tools]
            cpu = [statistics.median(r.window_cpu for r in row[t]) for t in tools]
            whole = [statistics.median(r.whole for r in row[t]) for t in tools]
            shown = []
            for other in others:
                # A round's uploads ran back to back: their ratio shares that moment's drift.
                pairs = [o.mbps / b.mbps for o, b in zip(row["ours"], row[other], strict=True)]  # fmt: skip
                ratios.setdefault((other, n), []).extend(pairs)
                shown.append(f"{statistics.median(pairs):12.2f}")
            if "ours" in tools:
                ours_rss[size] = max(ours_rss.get(size, 0.0), rss[tools.index("ours")])

            def cells(values: list[float], digits: int) -> str:
                return " / ".join(f"{v:.{digits}f}" for v in values)

            print(
                f"{n:>7} {cells(mbps, 0):>20}{''.join(shown)}  {cells(rss, 1):>20}  "
                f"{cells(cpu, 2):>18}  {cells(whole, 2):>18}"
            )

    print()
    for other in others:
        goal = RATIO_GOALS[other]
        medians = {n: statistics.median(ratios[other, n]) for n in counts}
        judged = [n for n in counts if n in GOAL_THREADS]
        missed = [n for n in judged if medians[n] < goal]
        verdict = f"missed at {missed} threads" if missed else "met"
        print(
            f"goal ours >= {goal}x {LABELS[other]} at {'/'.join(map(str, GOAL_THREADS))} "
            "threads (median of every round, all sizes; range): "
            + ", ".join(
                f"{n} threads {r:.2f} ({min(ratios[other, n]):.2f}-{max(ratios[other, n]):.2f})"
                + ("" if n in GOAL_THREADS else " (no goal)")
                for n, r in medians.items()
            )
            + (f" -> {verdict}" if judged else " -> not run at those thread counts")
        )
    if not ours_rss:
        return
    peak = max(ours_rss.values())
    print(
        f"goal ours' peak RSS < {RSS_GOAL_MB} MB: {peak:.1f} MB at most -> "
        + ("met" if peak < RSS_GOAL_MB else "missed")
    )
    if len(sizes) > 1:
        spread = max(ours_rss.values()) - min(ours_rss.values())
        print(
            "ours' peak RSS by file size: "
            + ", ".join(
                f"{rss:.1f} MB at {s / MiB:.0f} MiB" for s, rss in ours_rss.items()
            )
            + f" (spread {spread:.1f} MB)"
        )
    else:
        print("ours' peak RSS at one file size only; compare sizes with --size 256M,1G")


if __name__ == "__main__":
    main()
