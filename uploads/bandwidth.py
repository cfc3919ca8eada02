"""The user's upload link, shared by every upload running now on any worker: a rate cap (the
configuration's, the schedule's for this time of day, each account's) and a connection budget
(global, and per UPOS line), divided among the uploads through their rows (UploadJob
.rate_allowed, .connections, .line, saved about once a second).

Each runner refreshes its share about once a second (`Link.refresh`, from its progress tick):
it reads the configuration and the other uploads that are sending, and of each limit takes

    max(total / n, total - what the others claim now)

its fair share, or more while the others leave part of the total unused (an upload held by
its own line, or between files). An upload claims its whole share of a cap while the cap holds
it (and in its first seconds), else what it sends with a quarter to spare: claims, not measured
speeds, so the sum stays at the cap instead of wobbling over it with every measurement. When an
upload starts, the others see its claim at their next refresh and come down to their share;
when one ends, the rest take what it leaves.
The rate is applied by a Throttle on the file's reads and the connections by the Concurrency
controller's ceiling, both changeable mid-file, so a new cap holds within about a second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from biliup_site import rate_schedule
from biliup_site.bilibili.concurrency import Concurrency
from biliup_site.bilibili.throttle import Throttle
from biliup_site.models import Configuration
from uploads import limits
from uploads.models import UploadJob

KIB = 1024
# The level each UPOS line's last file in this process ended at: a worker's next upload to the
# same line starts there (a new process starts at `threads`).
_LEVELS: dict[str, int] = {}
REFRESH_EVERY = 1.0
# Another upload counts while its heartbeat is this fresh (a killed worker's row stops counting).
FRESH = timedelta(seconds=30)
# Held by a cap when sending at least this share of it.
HELD = 0.9
# An upload claims its whole share of a cap for this long after a file starts (it is still
# ramping up), and afterwards while held by it; one held by something else (its line, its
# connections) claims only what it sends, with this much room to grow, and leaves the rest.
GRACE = 3.0
ROOM = 1.25


def share(total: float, count: int, others_use: float) -> float:
    """One of `count` users' part of `total`: its fair share, or what the others leave."""
    return max(total / max(1, count), total - others_use)


def cap_now(config: Configuration) -> tuple[int, str]:
    """The global cap in KiB/s at this moment (0: none) and where it comes from."""
    scheduled = rate_schedule.rate_at(
        config.upload_schedule, timezone.localtime(timezone.now())
    )
    if scheduled is not None:
        return scheduled, limits.SCHEDULE
    return config.upload_rate_limit, limits.CAP


class Link:
    """One runner's share of the link: a throttle for its reads and, adaptive, a controller."""

    def __init__(
        self,
        job: UploadJob,
        threads: int,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self.threads = threads
        self._now = now
        self.throttle = Throttle()
        self.controller: Concurrency | None = None
        self._refreshed = -math.inf
        self._sending = False
        self._file_started = -math.inf
        self._sent: tuple[float, int] = (-math.inf, 0)  # when, throttle.granted then
        self._rate_sent = 0.0  # bytes/s, between the last two refreshes
        # The level the last file ended at: the next file of the job goes to the same line, so
        # it starts there instead of ramping up from `threads` again (as a later job to the
        # same line in this process does, through _LEVELS).
        self._learned: int | None = None

    def start_file(self) -> Concurrency | None:
        """A controller for the next file (None: exactly `threads`), its share set now."""
        config = Configuration.load()
        self.controller = (
            Concurrency(self._start(), config.upload_max_connections)
            if config.upload_adaptive
            else None
        )
        self._sending = True
        self._file_started = self._now()
        self._sent = (self._file_started, self.throttle.granted)
        self.refresh(force=True)
        return self.controller

    def _start(self) -> int:
        return self._learned or _LEVELS.get(self.job.line) or self.threads

    def end_file(self) -> None:
        if self.controller is not None:
            self._learned = self.controller.limit
            if self.job.line:
                _LEVELS[self.job.line] = self.controller.limit
        self._sending = False
        self.controller = None
        self.job.connections = 0
        self.job.rate_allowed = 0
        self.job.limited_by = ""

    def refresh(self, force: bool = False) -> None:
        """Take this upload's share again (about once a second): the throttle's rate, the
        controller's ceiling, and the job's connections and limited_by for its row."""
        now = self._now()
        if not self._sending or (not force and now - self._refreshed < REFRESH_EVERY):
            return
        self._refreshed = now
        then, granted = self._sent
        if now - then > 0.2:
            self._rate_sent = (self.throttle.granted - granted) / (now - then)
            self._sent = (now, self.throttle.granted)
        config = Configuration.load()
        others = list(
            UploadJob.objects.running()
            .exclude(pk=self.job.pk)
            .filter(heartbeat__gte=timezone.now() - FRESH, connections__gt=0)
            .values("account_id", "line", "rate_allowed", "connections")
        )
        allowance, held_by = self._allowance(config, others)
        self.job.rate_allowed = self._claim(allowance, now)
        before = self.throttle.rate
        self.throttle.set_rate(allowance)
        controller = self.controller
        budget = line_ceiling = math.inf
        if controller is not None:
            budget = share(
                config.upload_max_connections,
                len(others) + 1,
                sum(o["connections"] for o in others),
            )
            on_line = [
                o for o in others if self.job.line and o["line"] == self.job.line
            ]
            line_ceiling = share(
                config.upload_line_max_connections,
                len(on_line) + 1,
                sum(o["connections"] for o in on_line),
            )
            controller.set_ceiling(int(min(budget, line_ceiling)))
            if before is not None and (allowance is None or allowance > before * 1.25):
                controller.reopen()  # the cap that held it is raised: grow again
        self.job.connections = (
            (controller.in_flight or controller.limit) if controller else self.threads
        )
        self.job.limited_by = self._limited_by(
            allowance, held_by, line_bound=line_ceiling <= budget
        )

    def _allowance(
        self, config: Configuration, others: list[dict[str, Any]]
    ) -> tuple[float | None, str]:
        allowance: float | None = None
        held_by = ""
        cap, source = cap_now(config)
        if cap:
            claims = sum(o["rate_allowed"] for o in others)
            allowance, held_by = share(cap * KIB, len(others) + 1, claims), source
        account = self.job.account
        if account is not None:
            account.refresh_from_db(fields=["upload_rate_limit"])
            if account.upload_rate_limit:
                mine = [o for o in others if o["account_id"] == account.pk]
                own = share(
                    account.upload_rate_limit * KIB,
                    len(mine) + 1,
                    sum(o["rate_allowed"] for o in mine),
                )
                if allowance is None or own < allowance:
                    allowance, held_by = own, limits.ACCOUNT
        return allowance, held_by

    def _claim(self, allowance: float | None, now: float) -> float:
        """What this upload tells the others it uses of the cap (UploadJob.rate_allowed)."""
        if allowance is None:
            return 0.0
        if now - self._file_started < GRACE or self._rate_sent >= HELD * allowance:
            return allowance
        return min(allowance, self._rate_sent * ROOM)

    def _limited_by(
        self, allowance: float | None, held_by: str, *, line_bound: bool
    ) -> str:
        if allowance is not None and self._rate_sent >= HELD * allowance:
            return held_by
        controller = self.controller
        if controller is not None and controller.limit >= controller.ceiling:
            return limits.LINE if line_bound else limits.CONNECTIONS
        return ""
