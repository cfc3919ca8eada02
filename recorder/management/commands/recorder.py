"""The recorder service of a machine: live detection, and every recording of the machine in one
process (recorder/pool.py). `serve` starts one; at scale, run one per recording machine."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection

from biliup_site import hooks
from biliup_site.models import Configuration
from recorder import watch
from recorder.pool import Pool
from uploads import upload

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 5.0
RECONFIGURED_SECONDS = 1.0
# serve gives its children 30 s to stop: the recordings close their segments within this.
STOP_SECONDS = 25.0


class Command(BaseCommand):
    help = (
        "Check every streamer's room once per check interval, and record the live ones: "
        "every recording of this machine in this one process."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = threading.Event()

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-watch",
            action="store_true",
            help="Only record; leave live detection to the recorder of another machine",
        )

    def handle(self, *args: Any, no_watch: bool = False, **options: Any) -> None:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        if not no_watch:
            threading.Thread(target=self.watch, name="watch", daemon=True).start()
        with Pool() as pool:
            while not self.stopping.is_set():
                try:
                    pool.tick()
                except DatabaseError:
                    # The database went away (a restart, a network cut): the recordings go on
                    # writing files; their heartbeats wait for it.
                    logger.exception("The recorder's round failed; trying again")
                    connection.close()
                    self.stopping.wait(1.0)
            if not pool.stop(STOP_SECONDS):
                logger.warning("Some recordings did not stop in time")

    def on_signal(self, signum: int, frame: Any) -> None:
        self.stopping.set()

    def watch(self) -> None:
        try:
            watch.check_orphans()
            while not self.stopping.is_set():
                self.tick()
        finally:
            connection.close()

    def tick(self) -> int:
        """One interval: every due room checked, spread over 80% of it. Returns rooms found live."""
        close_old_connections()
        interval = Configuration.load().event_loop_interval
        started = time.monotonic()
        self.sweep_uploads()
        self.sweep_hooks()
        live = watch.check_all(spread=interval * 0.8)
        swept = read = time.monotonic()
        while not self.stopping.is_set() and time.monotonic() - started < interval:
            self.stopping.wait(0.5)
            if time.monotonic() - swept >= SWEEP_SECONDS:
                self.sweep_uploads()
                self.sweep_hooks()
                swept = time.monotonic()
            if time.monotonic() - read >= RECONFIGURED_SECONDS:
                # A lowered interval (the user wants a room seen sooner) ends this round now,
                # not after the old, longer one.
                interval = min(interval, Configuration.load().event_loop_interval)
                read = time.monotonic()
        return live

    def sweep_uploads(self) -> None:
        # Upload jobs whose worker died, queued beyond upload_limit, or waiting on a session
        # that ended are handed to workers here; the same loop runs on every machine.
        try:
            upload.sweep()
        except Exception:
            logger.exception("Sweeping upload jobs failed")

    def sweep_hooks(self) -> None:
        # Webhook and notification retries whose time has come, and deliveries whose task was
        # lost, are queued again here.
        try:
            hooks.sweep()
        except Exception:
            logger.exception("Sweeping hook deliveries failed")
