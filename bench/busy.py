"""A real biliup-site with N rooms recording, for the benchmarks of issue 18 (record.py, and the
--recording option of status_latency.py and ws_latency.py).

The fake Bilibili runs in a process of its own (`python -m tests.fakebili`, every strict rule
on), so that its CPU is neither ours nor the site's and can be measured apart. Each room loops
a clip made here by ffmpeg (noisy 720p H.264 + AAC, so x264 reaches the asked bitrate) at real
time, in FLV or in TS or fMP4 HLS (the room's origin). Rooms alternate between the CDN's two
hosts, the close-delimited one (cn-gotcha04) first: half the FLV pulls come close-delimited,
half chunked. The site is `manage.py serve` on a fresh data folder (tests/livesite.py), its
admin registered, download_limit set to N and the live check to every 5 s over the API, and
one streamer per room added over the API: the recorder finds the rooms live by itself.

No pytest here, and nothing is asserted: the benchmarks print what they measure.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import livesite  # noqa: E402 (after the path above)

FIRST_ROOM = 700_000
FORMATS = ("flv", "ts", "fmp4")
# The CDN hosts, alternated by room: close-delimited first (cdn.py's HOSTS).
HOSTS = ("cn-gotcha04", "cn-gotcha01")
STARTUP_SECONDS = 30
TIMEOUT = 30
# The live check every 5 s (the least the configuration takes); a recording ends 2 s after its
# room goes offline.
CONFIGURATION = {
    "event_loop_interval": 5,
    "delay": 2,
    "disk_reserve": 0,
}


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- The fake Bilibili, in its own process -----------------------------------------------


@dataclass
class Fake:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def control(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """Call one of the fake's /_fake/ controls; its JSON answer."""
        response = requests.request(
            method, f"{self.url}/_fake/{path}", json=body, timeout=TIMEOUT
        )
        if response.status_code != 200:
            raise RuntimeError(f"{method} /_fake/{path}: {response.text}")
        return response.json()

    def sent(self) -> dict[int, int]:
        """Media bytes sent so far, per room (tests/fakebili/cdn.py sent_bytes)."""
        return {int(k): v for k, v in self.control("GET", "cdn/sent").items()}


@contextlib.contextmanager
def fake_bilibili(log: Path) -> Iterator[Fake]:
    """Start `python -m tests.fakebili` (its log into `log`); stop it on exit."""
    with log.open("ab") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakebili"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        if not select.select([fd], [], [], STARTUP_SECONDS)[0]:
            raise RuntimeError(f"the fake did not start; see {log}")
        # One write of a few hundred bytes (under PIPE_BUF): the URL, then KEY=value lines.
        lines = os.read(fd, 65536).decode().splitlines()
        env = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
        yield Fake(lines[0].strip(), env, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_clip(path: Path, bitrate: str) -> float:
    """A 10 s 1280x720 25 fps clip (keyframe every 2 s, AAC 128k); its bitrate in Mbit/s.

    testsrc2 compresses far below any target bitrate; per-frame noise lets x264 reach it.
    """
    if not path.exists():
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


def stream_byte_rate(clip: Path, fmt: str) -> float:
    """Bytes per second of stream the fake sends in `fmt`: the FLV clip's, or its HLS media's
    (made by the fake on set_origin, cached on disk under the clip's name)."""
    from tests import media
    from tests.fakebili import hls

    if fmt == "flv":
        return clip.stat().st_size / media.probe(clip, decode=False).duration
    made = hls.load(clip, fmt)
    size = sum(s.size for s in made.segments) + (
        made.init.stat().st_size if made.init else 0
    )
    return size / made.length


# --- The rooms ------------------------------------------------------------------------------


def room_ids(n: int) -> list[int]:
    return [FIRST_ROOM + i for i in range(n)]


def prepare_rooms(fake: Fake, n: int, fmt: str, clip: Path) -> list[int]:
    """N offline rooms looping `clip` at real time in `fmt`, hosts alternating."""
    rooms = room_ids(n)
    formats = "flv,ts,fmp4" if fmt == "flv" else fmt
    for i, room in enumerate(rooms):
        fake.control(
            "POST",
            "rooms",
            {
                "room_id": room,
                "uid": room,
                "speed": 1,
                "clip": str(clip),
                "cdn_hosts": [HOSTS[i % len(HOSTS)]],
            },
        )
        fake.control("POST", f"rooms/{room}/live", {"status": 0})
        # FLV rooms offer HLS too, as Bilibili's do; the recorder takes FLV first.
        fake.control("POST", f"rooms/{room}/origin", {"formats": formats})
    return rooms


def set_live(fake: Fake, rooms: list[int], status: int) -> None:
    for room in rooms:
        fake.control("POST", f"rooms/{room}/live", {"status": status})


# --- The site ---------------------------------------------------------------------------------


@dataclass
class Busy:
    """A running site with `rooms` recording (or about to)."""

    site: livesite.Site
    fake: Fake
    session: requests.Session
    rooms: list[int]
    fmt: str

    def streamers(self) -> list[dict[str, Any]]:
        response = self.session.get(
            f"{self.site.url}/api/v1/streamers", timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    def recording(self) -> int:
        """How many streamers record, media flowing (bytes in their progress)."""
        return sum(
            1
            for row in self.streamers()
            if row["state"] == "recording" and (row.get("progress") or {}).get("bytes")
        )

    def wait_recording(self, seconds: float) -> bool:
        """Wait until every room records; False if some do not within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.recording() >= len(self.rooms):
                return True
            time.sleep(1)
        return False

    def wait_idle(self, seconds: float) -> bool:
        """Wait until no streamer records (their files closed); False on timeout."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not any(row["state"] == "recording" for row in self.streamers()):
                return True
            time.sleep(1)
        return False

    def disk_bytes(self, room: int) -> int:
        """Bytes of the room's recorded files (finished or .part; not HLS' .idx)."""
        return sum(
            p.stat().st_size
            for p in self.site.recordings_dir.rglob(f"r{room}_*")
            if p.is_file() and not p.name.endswith(".idx")
        )


def recorder_pids(site: livesite.Site) -> list[int]:
    """The recorder's processes: the service (`manage.py recorder`), or, before it, the recorder
    qcluster (the child of serve with Q_CLUSTER_NAME=<queue>-recorder) and its workers."""
    children = livesite.descendants(site.serve_pid)
    root = next((p for p, cmd in children.items() if "manage.py recorder" in cmd), None)
    if root is None:
        for pid, cmd in children.items():
            if "manage.py qcluster" not in cmd:
                continue
            with contextlib.suppress(OSError):
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                if any(
                    e.startswith(b"Q_CLUSTER_NAME=") and e.endswith(b"-recorder")
                    for e in environ
                ):
                    root = pid
                    break
    if root is None:
        return []
    return [root, *livesite.descendants(root)]


def site_pids(site: livesite.Site) -> list[int]:
    """serve and every process below it: web, the jobs cluster, the recorder."""
    return [site.serve_pid, *livesite.descendants(site.serve_pid)]


@contextlib.contextmanager
def busy_site(
    fake: Fake,
    n: int,
    fmt: str,
    clip: Path,
    data_dir: Path,
    *,
    label: str = "bench",
    wait: bool = True,
    **env: str | None,
) -> Iterator[Busy]:
    """A site recording N rooms of the fake in `fmt` (n may be 0: the same site, idle). With
    `wait`, yields once every room records (or after a deadline, saying so)."""
    rooms = prepare_rooms(fake, n, fmt, clip) if n else []
    with livesite.running_site(
        data_dir,
        label=label,
        **{
            **fake.env,
            "BILIUP_LOG_LEVEL": "WARNING",
            # Today's recorder cluster runs one recording per worker (ignored once the
            # recorder service replaces it).
            "BILIUP_RECORDER_WORKERS": str(max(n, 2)),
            **env,
        },
    ) as site:
        session = livesite.register_admin(site, "bench", "bench-password-1")
        session.put(
            f"{site.url}/api/v1/configuration",
            json={**CONFIGURATION, "download_limit": max(n, 1)},
            timeout=TIMEOUT,
        ).raise_for_status()
        for room in rooms:
            session.post(
                f"{site.url}/api/v1/streamers",
                json={
                    "url": f"https://live.bilibili.com/{room}",
                    "remark": f"bench {room}",
                    "filename_prefix": f"r{room}_%Y%m%d%H%M%S",
                },
                timeout=TIMEOUT,
            ).raise_for_status()
        busy = Busy(site, fake, session, rooms, fmt)
        set_live(fake, rooms, 1)
        try:
            if wait and rooms:
                started = time.monotonic()
                if busy.wait_recording(60 + n):
                    say(
                        f"  {n} {fmt} rooms recording after {time.monotonic() - started:.0f} s"
                    )
                else:
                    say(
                        f"  only {busy.recording()} of {n} rooms record after {60 + n} s"
                    )
            yield busy
        finally:
            set_live(fake, rooms, 0)


@contextlib.contextmanager
def recording_site(
    n: int, fmt: str, bitrate: str, workdir: Path, **env: str | None
) -> Iterator[Busy]:
    """The whole set-up for a latency benchmark: a clip, the fake, and a site recording N rooms."""
    clip = workdir / f"clip-{bitrate}.flv"
    mbps = make_clip(clip, bitrate)
    say(
        f"clip {mbps:.2f} Mbit/s; starting the fake and a site recording {n} {fmt} rooms"
    )
    with (
        fake_bilibili(workdir / "fake.log") as fake,
        busy_site(fake, n, fmt, clip, workdir / "site", **env) as busy,
    ):
        yield busy
