"""`python -m tests.demo` (what `bin/demo` runs): the whole site beside a fake Bilibili, with demo data.

It starts the fake Bilibili in this process (tests/fakebili), then the site as bin/start runs it
(`manage.py serve`: web server, job workers, recorder) on SQLite in a folder of its own
(data/demo, marked as the demo's), pointed at the fake. It makes the demo's data through the
site's own JSON API, as a user's script would: the admin `demo` with a generated password, a
Bilibili account logged in by QR code (the fake plays the phone), the upload template `demo`,
room 3 (23058) recorded with that template, and a followed creator. The room goes live for
--live-seconds of stream, then off for --offline-seconds, again and again: each live session is
recorded, uploaded, reviewed and published. Ctrl-C (or SIGTERM) stops the site, then the fake.

The demo drives the fake (it confirms the QR login there), so it lives in tests/ beside it; the
site knows neither. Nothing of the user's own setup reaches the site: every BILIUP_* variable but
the language and time zone is dropped, so the demo never opens the user's data or database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests import media
from tests.fakebili import flvloop
from tests.fakebili.live import SEED_ROOM
from tests.fakebili.server import FakeBilibili
from tests.livesite import descendants

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
ROOM = SEED_ROOM["room_id"]
ROOM_URL = f"https://live.bilibili.com/{SEED_ROOM['short_id']}"
ROOM_NAME = SEED_ROOM["uname"]
CREATOR_UID = 946974
CREATOR_VIDEOS = 45
USERNAME = "demo"
TEMPLATE = "demo"
# A folder holding this file is the demo's: --reset may delete it, and no other folder is used.
MARKER = ".biliup-demo"
LOGIN_FILE = "demo-login.json"
# The user's settings that may follow them into the demo; no other BILIUP_* variable does.
KEPT_VARIABLES = ("BILIUP_LANGUAGE", "BILIUP_TIME_ZONE")
# A first start migrates every database from nothing and gathers the static files.
STARTUP_SECONDS = 120
# serve gives its children 30 s to stop after SIGTERM.
STOP_SECONDS = 40
LEFTOVER_SECONDS = 5
# The fake's archives stay in review this long; the site asks about them this often.
REVIEW_SECONDS = 5
REVIEW_POLL_SECONDS = 2
# The site's live check interval (the lowest it allows).
CHECK_SECONDS = 5
FAILURE_FAULT = {
    "path": "/x/vu/*",
    "method": "POST",
    "kind": "code",
    "code": 16025,
    "message": "tag已经被封印了~",
    "times": 1,
}


class DemoError(Exception):
    """The demo cannot start or went wrong: the message tells the user what to do."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Site:
    url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, chars: int = 3000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- the end of {self.log} ---\n{text[-chars:]}"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run(args, stop)
    except DemoError as exc:
        sys.stderr.write(f"bin/demo: {exc}\n")
        return exc.status
    return 0


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bin/demo",
        description="Run biliup-site beside a fake Bilibili, with demo data, until Ctrl-C.",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=os.getenv("BILIUP_DEMO_PORT", "19159"),
        help="the site's port (BILIUP_DEMO_PORT; default 19159)",
    )
    parser.add_argument(
        "--fake-port",
        type=_port,
        default=os.getenv("BILIUP_DEMO_FAKE_PORT", "8500"),
        help="the fake Bilibili's port (BILIUP_DEMO_FAKE_PORT; default 8500, 0: any free one)",
    )
    parser.add_argument(
        "--bind",
        default="127.0.0.1",
        help="the site's address (default 127.0.0.1; 0.0.0.0 to reach it from elsewhere)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=BASE_DIR / "data" / "demo",
        help="the demo's own data folder (default data/demo)",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the demo's data folder first and start from nothing",
    )
    parser.add_argument(
        "--live-seconds",
        type=float,
        default=60,
        metavar="S",
        help="each live session of the demo room lasts S seconds of stream (default 60)",
    )
    parser.add_argument(
        "--offline-seconds",
        type=float,
        default=150,
        metavar="S",
        help="then the room is off air for S seconds (default 150: under Bilibili's hourly "
        "budget of 20 uploads per account)",
    )
    parser.add_argument(
        "--grace-seconds",
        type=int,
        default=10,
        metavar="S",
        help="the site's offline grace period: a session ends S seconds after its stream "
        "(default 10)",
    )
    return parser


def run(args: argparse.Namespace, stop: threading.Event) -> None:
    if args.port == 0:
        raise DemoError("--port must not be 0: the site needs a port you can open", 2)
    _check_port(args.bind, args.port, "the site", "--port", "BILIUP_DEMO_PORT")
    if args.fake_port:
        _check_port(
            "127.0.0.1",
            args.fake_port,
            "the fake Bilibili",
            "--fake-port",
            "BILIUP_DEMO_FAKE_PORT",
        )
    data_dir = _prepare(args.data_dir, reset=args.reset)
    logging.basicConfig(
        filename=data_dir / "fake.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        media.require_ffmpeg()
    except RuntimeError as exc:
        raise DemoError(
            f"{exc}: the fake's live room streams a clip ffmpeg makes (apt-get install ffmpeg)"
        ) from None
    say("Starting the fake Bilibili and the site...")
    # Made now, not on the recorder's first pull: a few seconds of ffmpeg.
    try:
        flvloop.make_clip()
    except (OSError, subprocess.SubprocessError) as exc:
        if stop.is_set():
            return
        raise DemoError(f"ffmpeg could not make the demo room's clip: {exc}") from None
    try:
        fake = FakeBilibili(args.fake_port)
    except OSError as exc:
        raise DemoError(
            f"the fake Bilibili cannot listen on port {args.fake_port} ({exc.strerror}): "
            "choose another with --fake-port N or BILIUP_DEMO_FAKE_PORT",
            2,
        ) from None
    _seed(fake)
    with fake, _site(data_dir, fake, args) as site:
        if not _wait_until_serving(site, stop):
            return
        session, password = _make_demo_data(site, fake, args.grace_seconds)
        _greet(site, fake, password, args)
        threads = [
            threading.Thread(
                target=_cycle,
                args=(fake, args.live_seconds, args.offline_seconds, stop),
                name="demo-live",
                daemon=True,
            ),
            threading.Thread(
                target=_watch,
                args=(session, site, stop),
                name="demo-watch",
                daemon=True,
            ),
        ]
        for thread in threads:
            thread.start()
        while not stop.wait(0.5):
            if site.process.poll() is not None:
                stop.set()
                raise DemoError(
                    f"the site stopped (exit {site.process.returncode}):\n{site.log_tail()}"
                )
        say("Stopping the site and the fake Bilibili...")
        for thread in threads:
            thread.join(timeout=5)
    say("Stopped.")


def _check_port(host: str, port: int, what: str, flag: str, variable: str) -> None:
    with socket.socket() as sock:
        # As the servers do: a connection of a run just ended (TIME_WAIT) must not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen()
        except OSError as exc:
            raise DemoError(
                f"{what} cannot listen on {host}:{port} ({exc.strerror}); is bin/start or "
                f"another bin/demo running? Stop it, or choose another port with {flag} N "
                f"or {variable}=N",
                2,
            ) from None


def _prepare(folder: Path, *, reset: bool) -> Path:
    """The demo's data folder, made (or emptied, with reset) and marked as the demo's. A folder
    that holds anything else is refused: it may be the user's real data."""
    folder = folder.resolve()
    marker = folder / MARKER
    if folder.is_dir() and any(folder.iterdir()) and not marker.exists():
        raise DemoError(
            f"{folder} is not empty and not a demo's data folder: choose another --data-dir",
            2,
        )
    if reset and folder.exists():
        shutil.rmtree(folder)
        say(f"Deleted the demo's data in {folder}.")
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text("biliup-site demo data: `bin/demo --reset` deletes this folder\n")
    return folder


def _seed(fake: FakeBilibili) -> None:
    """The fake's side of the demo: room 3 with a title, a creator with videos, a short review."""
    fake.add_room(ROOM, title="今晚打游戏")
    fake.add_space_user(CREATOR_UID, "演示UP主")
    fake.add_space_videos(CREATOR_UID, CREATOR_VIDEOS)
    fake.set_review(REVIEW_SECONDS)


def _site_env(data_dir: Path, fake: FakeBilibili) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("BILIUP_") or name in KEPT_VARIABLES
    }
    env.update(fake.env())
    env.update(
        BILIUP_DATA_DIR=str(data_dir),
        BILIUP_RECORDINGS_DIR=str(data_dir / "recordings"),
        BILIUP_REVIEW_POLL_SECONDS=str(REVIEW_POLL_SECONDS),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def _site(
    data_dir: Path, fake: FakeBilibili, args: argparse.Namespace
) -> Iterator[Site]:
    """`manage.py serve` running; stopped on exit, with every process it started."""
    log = data_dir / "serve.log"
    host = "127.0.0.1" if args.bind in ("0.0.0.0", "::") else args.bind
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--bind",
                args.bind,
                "--port",
                str(args.port),
            ],
            cwd=BASE_DIR,
            env=_site_env(data_dir, fake),
            stdout=out,
            stderr=subprocess.STDOUT,
            # Out of the terminal's process group: Ctrl-C reaches this process only, which then
            # stops the site in order (serve stops its children, the recorder closes its files).
            start_new_session=True,
        )
    try:
        yield Site(f"http://{host}:{args.port}", data_dir, log, process)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM serve, as a service manager would; then kill whatever it left behind."""
    started = descendants(process.pid)
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    deadline = time.monotonic() + LEFTOVER_SECONDS
    while (
        left := [pid for pid in started if _alive(pid)]
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        logger.warning("Killing %s, left running by the site", started[pid])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_until_serving(site: Site, stop: threading.Event) -> bool:
    """True once the site answers; False if the user stopped the demo meanwhile."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not stop.is_set():
        try:
            requests.get(f"{site.url}/api/v1/users/biliup", timeout=1)
            return True
        except (requests.ConnectionError, requests.Timeout):
            pass
        if site.process.poll() is not None:
            raise DemoError(
                f"the site exited with {site.process.returncode} at start:\n{site.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise DemoError(
                f"the site did not answer within {STARTUP_SECONDS} s:\n{site.log_tail()}"
            )
        stop.wait(0.2)
    return False


class _Api:
    """The site's JSON API as the demo's admin; a refusal is a DemoError."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.session = requests.Session()

    def call(
        self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)
    ) -> Any:
        url = f"{self.site.url}/api/v1/{path}"
        response = self.session.request(method, url, json=body, timeout=30)
        if response.status_code not in ok:
            raise DemoError(
                f"{method} {url} answered {response.status_code}: {response.text[:500]}\n"
                f"{self.site.log_tail()}"
            )
        return response.json() if response.content else None


def _make_demo_data(
    site: Site, fake: FakeBilibili, grace_seconds: int
) -> tuple[requests.Session, str]:
    """The demo's admin (logged in: the returned session), settings and rows, each made unless
    a run before made it. Returns the session and the admin's password."""
    api = _Api(site)
    password = _admin(api, site.data_dir)
    # Checks every 5 s, and a session ends soon after its stream does.
    api.call(
        "PUT",
        "configuration",
        {"event_loop_interval": CHECK_SECONDS, "delay": grace_seconds},
    )
    # Every run: the fake forgets its logins when it stops. The same mid updates the account.
    started = api.call("GET", "qrcode")
    fake.confirm_qr(started["qrcode_key"])
    account = api.call(
        "POST", "login_by_qrcode", {"qrcode_key": started["qrcode_key"]}
    )["filename"]
    templates = api.call("GET", "upload_streamers")
    if not any(t["template_name"] == TEMPLATE for t in templates):
        api.call(
            "POST",
            "upload_streamers",
            {
                "id": None,
                "template_name": TEMPLATE,
                "title": "{streamer} %Y-%m-%d {title}",
                "tid": 171,
                "tag": "录播,biliup",
                "user_cookie": account,
            },
        )
    streamers = api.call("GET", "streamers")
    if not any(s["url"] == ROOM_URL for s in streamers):
        api.call(
            "POST",
            "streamers",
            {"url": ROOM_URL, "remark": ROOM_NAME, "template_name": TEMPLATE},
        )
    api.call("POST", "creators", {"uid": CREATOR_UID}, ok=(201, 409))
    return api.session, password


def _admin(api: _Api, data_dir: Path) -> str:
    """Register the demo's admin on a new site, or log in on one a run before made; the
    password is kept in the data folder (written before registering, so never lost)."""
    path = data_dir / LOGIN_FILE
    if path.exists():
        password = json.loads(path.read_text())["password"]
    else:
        password = secrets.token_urlsafe(9)
        path.write_text(json.dumps({"username": USERNAME, "password": password}))
    body = {"username": USERNAME, "password": password}
    if not api.call("GET", "users/biliup", ok=(404,))["registered"]:
        api.call("POST", "users/register", body)
        return password
    try:
        api.call("POST", "users/login", body)
    except DemoError as exc:
        raise DemoError(
            f"cannot log in as {USERNAME} on the demo's site ({exc}); "
            "bin/demo --reset starts over"
        ) from None
    return password


def _greet(
    site: Site, fake: FakeBilibili, password: str, args: argparse.Namespace
) -> None:
    fault = json.dumps(FAILURE_FAULT, ensure_ascii=False)
    every = args.live_seconds + args.offline_seconds
    for line in (
        "",
        f"biliup-site demo: {site.url}/",
        f"  Log in as {USERNAME}, password {password}",
        f"  Room {SEED_ROOM['short_id']} ({ROOM}) on the fake Bilibili goes live for "
        f"{args.live_seconds:g} s every {every:g} s; each live session is recorded, uploaded "
        "and published (Dashboard, Uploads).",
        "  To see an upload fail (red, in the attention strip), make the fake refuse the next"
        " archive:",
        f"    curl -X POST {fake.url}/_fake/faults -H 'Content-Type: application/json' "
        f"-d '{fault}'",
        "  The red entry leads to the template's tags: change one, save, and Retry the job:"
        " it is published.",
        f"  The fake Bilibili: {fake.url} (its controls: README, 'The fake Bilibili')",
        f"  Data: {site.data_dir} (kept between runs; bin/demo --reset starts over); "
        f"the site's output: {site.log}",
        "  Ctrl-C stops everything.",
        "",
    ):
        say(line)


def _cycle(
    fake: FakeBilibili,
    live_seconds: float,
    offline_seconds: float,
    stop: threading.Event,
) -> None:
    """The demo room's broadcasts: live for live_seconds of stream (counted from the recorder's
    first pull), off air for offline_seconds, until stop."""
    while not stop.is_set():
        fake.set_live(ROOM, 1)
        fake.set_stream(ROOM, offline_after_seconds=live_seconds)
        say(f"Room {SEED_ROOM['short_id']} is live.")
        while not stop.wait(1) and _live(fake):
            pass
        if stop.is_set():
            return
        say(
            f"Room {SEED_ROOM['short_id']} is off air; live again in {offline_seconds:g} s."
        )
        stop.wait(offline_seconds)


def _live(fake: FakeBilibili) -> bool:
    return any(r["room_id"] == ROOM and r["live_status"] == 1 for r in fake.rooms())


def _watch(session: requests.Session, site: Site, stop: threading.Event) -> None:
    """Say when the room's state or an upload job's changes, as the pages show it."""
    seen: dict[str, str] = {}
    while not stop.wait(2):
        try:
            streamers = session.get(f"{site.url}/api/v1/streamers", timeout=10).json()
            jobs = session.get(f"{site.url}/api/v1/upload_jobs", timeout=10).json()
        except (requests.RequestException, ValueError):
            continue
        changes = {f"Streamer {s['remark']}": s.get("state", "") for s in streamers}
        changes.update({f"Upload job {j['id']}": _job_state(j) for j in jobs})
        for what, state in changes.items():
            if seen.get(what) != state:
                seen[what] = state
                say(f"{what}: {state}")


def _job_state(job: dict[str, Any]) -> str:
    if job["status"] == "failed":
        return f"failed: {job['error']}"
    if job["status"] != "done":
        return job["status"]
    if job.get("review_state") == "public":
        return f"published ({job['bvid']})"
    if job.get("review_state") == "rejected":
        return "rejected in review"
    return f"submitted as {job['bvid']}, in review"


if __name__ == "__main__":
    sys.exit(main())
