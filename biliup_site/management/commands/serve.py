"""Run the whole system in one command: daphne (HTTP + WebSocket), the django-q2 clusters and
the live-detection loop.

Children that die are restarted with a back-off; SIGINT/SIGTERM stop them all cleanly, so the
recorder can close its segments.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand

logger = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0

    def start(self) -> None:
        # A session (process group) of its own: qcluster forks workers, and stopping the group
        # stops them too, even when their parent died without cleaning up.
        self.process = subprocess.Popen(
            self.argv, env={**os.environ, **self.env}, start_new_session=True
        )
        logger.info("Started %s (pid %s)", self.name, self.process.pid)

    def signal_group(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)


class Command(BaseCommand):
    help = "Start the web server (daphne) and the job workers (django-q2), and keep them running."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=os.getenv("BILIUP_BIND", "0.0.0.0"))
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument(
            "--no-migrate", action="store_true", help="Don't apply migrations first"
        )

    def handle(
        self, *args: Any, bind: str, port: int, no_migrate: bool, **options: Any
    ) -> None:
        if not no_migrate:
            # Every database: embedded, the channel layer has its own SQLite file.
            for alias in settings.DATABASES:
                call_command("migrate", database=alias, interactive=False, verbosity=0)
        # WhiteNoise serves the pages' CSS and JS from STATIC_ROOT (in the data folder): gather
        # them on every start, so an upgrade never serves stale files. Only changed files copy.
        call_command("collectstatic", interactive=False, verbosity=0)
        self.shutdown = False
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        python, manage = sys.executable, str(settings.BASE_DIR / "manage.py")
        # The web process enqueues to the default cluster: no stray Q_CLUSTER_NAME may reach it.
        os.environ.pop("Q_CLUSTER_NAME", None)
        self.children = [
            Child(
                "web",
                [
                    python,
                    "-m",
                    "daphne",
                    "-b",
                    bind,
                    "-p",
                    str(port),
                    "biliup_site.asgi:application",
                ],
            ),
            Child("jobs", [python, manage, "qcluster"]),
            Child(
                "recorder",
                [python, manage, "qcluster"],
                env={"Q_CLUSTER_NAME": settings.RECORDER_CLUSTER},
            ),
            # Live detection: checks every room once per interval, enqueues recordings.
            Child("watch", [python, manage, "watch"]),
        ]
        for child in self.children:
            child.start()
        self.greet(bind, port)
        while not self.shutdown:
            self.restart_dead()
            time.sleep(0.5)
        self.stop_all()

    def on_signal(self, signum: int, frame: Any) -> None:
        self.shutdown = True

    def greet(self, bind: str, port: int) -> None:
        host = "127.0.0.1" if bind in ("0.0.0.0", "::") else bind
        self.stdout.write(
            f"biliup-site {settings.VERSION} on http://{host}:{port}/  (data: {settings.DATA_DIR})"
        )
        if not User.objects.exists():
            self.stdout.write(
                "No admin account yet. Create it now, before anyone else can:\n"
                f"  curl -X POST http://{host}:{port}/api/v1/users/register -H 'Content-Type: application/json' "
                """-d '{"username":"admin","password":"<a long password>"}'\n"""
                "  or: .venv/bin/python manage.py createsuperuser"
            )

    def restart_dead(self) -> bool:
        """Restart children that exited. Returns True if any was restarted."""
        restarted = False
        now = time.monotonic()
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            if child.next_start == 0.0:
                delay = min(2**child.restarts, 60)
                child.next_start = now + delay
                logger.warning(
                    "%s exited with %s; restarting in %s s",
                    child.name,
                    child.process.returncode,
                    delay,
                )
            elif now >= child.next_start:
                child.signal_group(signal.SIGKILL)  # orphaned workers of the dead child
                child.restarts += 1
                child.next_start = 0.0
                child.start()
                restarted = True
        return restarted

    @staticmethod
    def _wait(child: Child, deadline: float) -> bool:
        """Wait for child to exit by the deadline. The recorder cluster gets SIGINT again every
        second: a worker that took a recording task after the first one (it was still queued)
        installed its handler too late to see it."""
        while True:
            left = deadline - time.monotonic()
            try:
                child.process.wait(timeout=max(min(left, 1.0), 0.1))
                return True
            except subprocess.TimeoutExpired:
                if left <= 1.0:
                    return False
                if child.name == "recorder":
                    child.signal_group(signal.SIGINT)

    def stop_all(self) -> None:
        # SIGTERM to each leader only: a qcluster stops its own workers in order, and signalling
        # the whole group would make them die under it and stall its shutdown.
        for child in self.children:
            if child.name == "recorder":
                # SIGINT to the whole cluster: its leader stops gracefully, its idle workers ignore
                # it, and a worker that is recording closes its segment (recorder/recording.py).
                child.signal_group(signal.SIGINT)
            elif child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in self.children:
            if child.process is None:
                continue
            if not self._wait(child, deadline):
                logger.warning("%s did not stop in time; killing it", child.name)
            # Whatever is left of the group (workers of a cluster that died) goes too.
            child.signal_group(signal.SIGKILL)
