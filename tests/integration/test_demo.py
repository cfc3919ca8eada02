"""bin/demo's entry (`python -m tests.demo`) on free ports: it prints the URL and the login, the
room records, its upload is published, and Ctrl-C stops it with no process left behind; a port in
use or a folder that is not the demo's is refused before anything starts."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.livesite import BASE_DIR, descendants, free_port
from tests.polling import wait_for

pytestmark = [
    pytest.mark.integration,
    # The demo runs the site on SQLite in a folder of its own whatever the profile says, so the
    # scale profile would run the same thing again.
    pytest.mark.skipif(
        os.environ.get("BILIUP_DB") == "postgres",
        reason="the demo always runs the embedded profile",
    ),
]


@dataclass
class Demo:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def find(self, pattern: str) -> str | None:
        match = re.search(pattern, self.output)
        return match.group(1) if match else None


def _start(*args: str) -> Demo:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.demo", *args],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group, as a terminal's foreground job: the test's Ctrl-C reaches it only.
        start_new_session=True,
    )
    demo = Demo(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            demo.lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return demo


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    demo = _start(
        "--port",
        str(free_port()),
        "--fake-port",
        str(free_port()),
        "--data-dir",
        str(tmp_path / "demo"),
        # One short session, then none for the rest of the test.
        "--live-seconds",
        "8",
        "--offline-seconds",
        "600",
        "--grace-seconds",
        "2",
    )
    yield demo
    if demo.process.poll() is None:
        for pid in descendants(demo.process.pid):
            os.kill(pid, signal.SIGKILL)
        demo.process.kill()
        demo.process.wait()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_the_demo_publishes_a_recording_and_stops_cleanly(demo: Demo) -> None:
    wait_for(
        lambda: demo.find(r"password (\S+)"),
        120,
        f"the demo printed no login\n{demo.output}",
    )
    url = demo.find(r"biliup-site demo: (http://\S+)/")
    password = demo.find(r"Log in as demo, password (\S+)")
    assert url and password, demo.output
    assert "/_fake/faults" in demo.output  # how to see a failure
    assert requests.get(f"{url}/", timeout=10).status_code == 200

    session = requests.Session()
    login = session.post(
        f"{url}/api/v1/users/login",
        json={"username": "demo", "password": password},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    assert session.get(f"{url}/api/v1/creators", timeout=10).json()
    assert [
        t["template_name"]
        for t in session.get(f"{url}/api/v1/upload_streamers", timeout=10).json()
    ] == ["demo"]

    def states() -> list[str]:
        return [
            s["state"]
            for s in session.get(f"{url}/api/v1/streamers", timeout=10).json()
        ]

    wait_for(
        lambda: states() == ["recording"],
        60,
        f"the demo room is not recording\n{demo.output}",
    )

    def published() -> bool:
        jobs = session.get(f"{url}/api/v1/upload_jobs", timeout=10).json()
        return any(
            j["status"] == "done" and j["review_state"] == "public" for j in jobs
        )

    wait_for(published, 90, f"no upload was published\n{demo.output}")
    wait_for(
        lambda: "published (BV" in demo.output,
        10,
        f"the demo did not say so\n{demo.output}",
    )

    # Ctrl-C: the demo stops the site's processes and the fake, and exits 0.
    processes = descendants(demo.process.pid)
    commands = " ".join(processes.values())
    assert "daphne" in commands and "qcluster" in commands and "recorder" in commands
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=60) == 0, demo.output
    wait_for(
        lambda: not [pid for pid in processes if _alive(pid)],
        5,
        f"left running: {processes}",
    )
    assert demo.lines[-1] == "Stopped."


def test_a_port_in_use_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = _start(
            "--port", str(port), "--data-dir", str(tmp_path / "demo")
        )  # fmt: skip
        assert demo.process.wait(timeout=30) == 2
    wait_for(lambda: demo.lines, 5, "no message")
    assert f"127.0.0.1:{port}" in demo.output and "--port" in demo.output
    assert not (tmp_path / "demo").exists()


def test_a_folder_that_is_not_the_demos_is_never_used(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "biliup.sqlite3").write_bytes(b"the user's own")
    demo = _start(
        "--port", str(free_port()), "--fake-port", "0", "--data-dir", str(folder), "--reset"
    )  # fmt: skip
    assert demo.process.wait(timeout=30) == 2
    wait_for(lambda: demo.lines, 5, "no message")
    assert "not a demo's data folder" in demo.output
    assert (folder / "biliup.sqlite3").read_bytes() == b"the user's own"
