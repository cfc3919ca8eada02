"""A pace per Bilibili host for the calls its risk control counts, and the back-off after a refusal.

Bilibili answers frequent calls with -352, -412 (an IP block, sometimes HTTP 412) or -799, and
publishes no threshold. So the creator lists go through a session paced per host: each request
waits for its slot, at least BILIBILI_PACE_SECONDS after the previous one to that host plus a
random jitter of up to BILIBILI_PACE_JITTER (by default 0.35-0.6 s apart: never more than 3 a
second, where reports put the
threshold at "a few a second"). The slots live in a small JSON file per host under
BILIUP_DATA_DIR/pace/, taken under flock, so the threads of a process and the worker processes
of a machine (one IP) share them.

A call refused with one of RISK_CODES holds the host back: no request goes to it for HOLD_FIRST
seconds, doubling with each refusal in a row up to HOLD_MAX, and a success ends the doubling.
During a hold, a paced request is not sent: it raises RiskControlled at once, naming the code
that started the hold and when it ends, so the caller can say which code stopped it and when it
tries again.

Reference: bilibili-2026.md "Space lists" ("Frequent calls get -352 / -412 / -799": per-host rate
limit with jitter; back off; say which code stopped the refresh); bilibili-protocol.md §8.
"""

from __future__ import annotations

import fcntl
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from biliup_site.bilibili.http import BilibiliError

logger = logging.getLogger(__name__)

RISK_CODES = frozenset({-352, -412, -799})
HOLD_FIRST = 60.0
HOLD_MAX = 3600.0
# A slot further ahead than this means the wall clock went back: start again from now.
MAX_QUEUE = 60.0

T = TypeVar("T")


class RiskControlled(BilibiliError):
    """Bilibili's risk control refused a paced call (`sent`), or its host is held back after
    such a refusal and the call was not sent. No paced call goes to `host` before `until`
    (a Unix time)."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        host: str,
        until: float,
        sent: bool,
        data: Any = None,
    ) -> None:
        super().__init__(code, message, data)
        self.host = host
        self.until = until
        self.sent = sent


def _host(url: str) -> str:
    return urlsplit(url).netloc or "bilibili"


class Pace:
    """The hosts' slots and holds, in `directory` (None: BILIUP_DATA_DIR/pace)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        return self._directory or Path(settings.DATA_DIR) / "pace"

    @contextmanager
    def _state(self, host: str) -> Iterator[dict[str, Any]]:
        """The host's state, read and written back under the process's lock and the file's
        flock (which other processes take too)."""
        name = re.sub(r"[^A-Za-z0-9.-]", "_", host) + ".json"
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.directory / name, "a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.seek(0)
            try:
                state = json.loads(file.read() or "{}")
            except ValueError:
                state = {}  # a torn write from a killed process: start afresh
            if not isinstance(state, dict):
                state = {}
            yield state
            file.seek(0)
            file.truncate()
            file.write(json.dumps(state))
            file.flush()

    def wait(self, url: str) -> None:
        """Sleep until this call's slot on the url's host; RiskControlled during a hold."""
        host = _host(url)
        with self._state(host) as state:
            now = time.time()
            until = float(state.get("held_until") or 0)
            if now < until:
                raise RiskControlled(
                    int(state.get("code") or -352),
                    "held back after a risk-control answer",
                    host=host,
                    until=until,
                    sent=False,
                )
            slot = float(state.get("next") or 0)
            if slot > now + MAX_QUEUE:
                slot = now
            slot = max(now, slot)
            gap = settings.BILIBILI_PACE_SECONDS
            state["next"] = (
                slot + gap + random.uniform(0, settings.BILIBILI_PACE_JITTER)
            )
        if slot > now:
            time.sleep(slot - now)

    def refused(self, url: str, exc: BilibiliError) -> RiskControlled:
        """`exc` (one of RISK_CODES) answered a call to the url's host: hold the host back."""
        host = _host(url)
        with self._state(host) as state:
            strikes = int(state.get("strikes") or 0) + 1
            until = time.time() + min(HOLD_FIRST * 2 ** (strikes - 1), HOLD_MAX)
            state.update(strikes=strikes, held_until=until, code=exc.code)
        logger.warning(
            "%s answered %s: no call to it for %.0f s",
            host,
            exc.code,
            until - time.time(),
        )
        return RiskControlled(
            exc.code, exc.message, host=host, until=until, sent=True, data=exc.data
        )

    def passed(self, url: str) -> None:
        """A call to the url's host was answered: the next refusal holds it back briefly again."""
        with self._state(_host(url)) as state:
            state["strikes"] = 0

    def guarded(self, url: str, fetch: Callable[[], T]) -> T:
        """fetch(), a call to `url` on a paced session: a refusal with one of RISK_CODES holds
        the host back and comes out as RiskControlled."""
        try:
            result = fetch()
        except RiskControlled:
            raise
        except BilibiliError as exc:
            if exc.code in RISK_CODES:
                raise self.refused(url, exc) from None
            raise
        self.passed(url)
        return result

    def reset(self) -> None:
        """Forget every slot and hold (tests)."""
        with self._lock:
            for path in self.directory.glob("*.json"):
                path.unlink(missing_ok=True)


PACE = Pace()


class PacedAdapter(HTTPAdapter):
    """Waits for the host's slot before each request."""

    def __init__(self, pace: Pace) -> None:
        super().__init__()
        self.pace = pace

    def send(
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        self.pace.wait(request.url or "")
        return super().send(request, **kwargs)


def paced(sess: requests.Session, pace: Pace = PACE) -> requests.Session:
    """`sess`, every request of which now waits for its host's slot (and raises RiskControlled
    during a hold)."""
    adapter = PacedAdapter(pace)
    sess.mount("http://", adapter)
    sess.mount("https://", adapter)
    return sess
