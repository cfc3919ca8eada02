"""Run the whole system in one command: daphne (HTTP + WebSocket), the django-q2 jobs cluster
and the recorder service (live detection and every recording, in one process).

This command readies the site (migrations, static files), then becomes the supervisor that keeps
those processes running (biliup_site/supervisor.py), in the same process.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand

from biliup_site import logs


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
        # Before any process of the site has a log open (the handlers open on the first line).
        logs.rotate()
        if not no_migrate:
            # Every database: embedded, the channel layer has its own SQLite file.
            for alias in settings.DATABASES:
                call_command("migrate", database=alias, interactive=False, verbosity=0)
        # WhiteNoise serves the pages' CSS and JS from STATIC_ROOT (in the data folder): gather
        # them on every start, so an upgrade never serves stale files. Only changed files copy.
        call_command("collectstatic", interactive=False, verbosity=0)
        python, manage = sys.executable, str(settings.BASE_DIR / "manage.py")
        # The web process enqueues to the default cluster: no stray Q_CLUSTER_NAME may reach it.
        os.environ.pop("Q_CLUSTER_NAME", None)
        children = [
            {
                "name": "web",
                "argv": [
                    python,
                    "-m",
                    "daphne",
                    "-b",
                    bind,
                    "-p",
                    str(port),
                    "biliup_site.asgi:application",
                ],
            },
            {"name": "jobs", "argv": [python, manage, "qcluster"]},
            # Checks every room once per interval and records the live ones.
            {"name": "recorder", "argv": [python, manage, "recorder"]},
        ]
        self.greet(bind, port)
        self.stdout.flush()
        sys.stderr.flush()
        # Django and the site's modules stay behind: the supervisor needs none of them.
        os.execv(
            python,
            [
                python,
                str(settings.BASE_DIR / "biliup_site" / "supervisor.py"),
                json.dumps(children),
            ],
        )

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
