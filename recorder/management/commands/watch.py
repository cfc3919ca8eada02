from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from biliup_site.models import Configuration
from recorder import watch
from uploads import upload

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 5.0
RECONFIGURED_SECONDS = 1.0


class Command(BaseCommand):
    help = "Check every streamer's room once per check interval and start recordings of live ones."
    shutdown = False

    def handle(self, *args: Any, **options: Any) -> None:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        while not self.shutdown:
            self.tick()

    def on_signal(self, signum: int, frame: Any) -> None:
        self.shutdown = True

    def tick(self) -> int:
        """One interval: every due room checked, spread over 80% of it. Returns rooms found live."""
        close_old_connections()
        interval = Configuration.load().event_loop_interval
        started = time.monotonic()
        self.sweep_uploads()
        live = watch.check_all(spread=interval * 0.8)
        swept = read = time.monotonic()
        while not self.shutdown and time.monotonic() - started < interval:
            time.sleep(0.5)
            if time.monotonic() - swept >= SWEEP_SECONDS:
                self.sweep_uploads()
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
