"""The login limit, with slots taken atomically before a password is checked.

Three counters per attempt, each over a window of LOGIN_LOCKOUT_SECONDS:

- per address, and per name and address: LOGIN_MAX_FAILURES attempts, then 429 until the
  window ends. A stranger's failures lock out only the stranger's address.
- per name, across addresses: once spent, the name is only slowed, never locked. From an
  address its user has never logged in from, one password check per NAME_SPACING_SECONDS
  (the others get 429 with Retry-After); from a known address, no hold at all.

A slot is taken by a conditional UPDATE (atomic on SQLite and PostgreSQL, and across web
processes) before the password is checked, so 30 attempts in parallel get at most the limit of
checks; the right password gives its slots back. Counting failures after the check, as before,
let every parallel attempt through the count.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import KnownLoginAddress, LoginThrottle

# Long enough to make guessing one name from many addresses slow (450 guesses in 15 minutes at
# most), short enough that its owner on a new address barely notices.
NAME_SPACING_SECONDS = 2


class Throttled(Exception):
    """No password check for this attempt; retry_after is in seconds."""

    def __init__(self, retry_after: int, locked: bool) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
        # True: the address (or name from it) spent its attempts; False: the name is slowed.
        self.locked = locked


@dataclass
class Attempt:
    """The slots one attempt holds, given back if its password is right."""

    name: str
    ip: str
    slots: list[str] = field(default_factory=list)


def _key(kind: str, *parts: str) -> str:
    # Hashed: a name may be 150 characters that NFKC makes longer, or hold lone surrogates.
    raw = "\0".join(parts).encode("utf-8", "surrogatepass")
    return f"{kind}:{hashlib.sha256(raw).hexdigest()}"


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def _claim(key: str, limit: int, now: datetime) -> bool:
    """Take one of the key's slots; False when the window's are all taken."""
    LoginThrottle.objects.get_or_create(key=key, defaults={"window_start": now})
    rows = LoginThrottle.objects.filter(key=key)
    # An ended window starts again with this attempt; of two racing, one resets, one counts.
    if rows.filter(window_start__lt=now - _window()).update(count=1, window_start=now):
        return True
    return bool(rows.filter(count__lt=limit).update(count=F("count") + 1))


def _release(key: str) -> None:
    LoginThrottle.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


def _seconds_left(key: str, now: datetime) -> int:
    start = (
        LoginThrottle.objects.filter(key=key)
        .values_list("window_start", flat=True)
        .first()
    )
    if start is None:
        return 1
    return max(1, math.ceil((start + _window() - now).total_seconds()))


def _pass_gate(key: str, now: datetime) -> bool:
    """One check per NAME_SPACING_SECONDS for a name whose slots are spent."""
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    later = now + timedelta(seconds=NAME_SPACING_SECONDS)
    return bool(LoginThrottle.objects.filter(due, key=key).update(not_before=later))


def is_known(name: str, ip: str) -> bool:
    return KnownLoginAddress.objects.filter(user__username=name, ip=ip).exists()


def begin(name: str, ip: str) -> Attempt:
    """Take this attempt's slots, or raise Throttled having taken none."""
    now = timezone.now()
    limit = settings.LOGIN_MAX_FAILURES
    attempt = Attempt(name, ip)
    try:
        for key in (_key("ip", ip), _key("name-ip", name, ip)):
            if not _claim(key, limit, now):
                raise Throttled(_seconds_left(key, now), locked=True)
            attempt.slots.append(key)
        name_key = _key("name", name)
        if _claim(name_key, limit, now):
            attempt.slots.append(name_key)
        elif not is_known(name, ip) and not _pass_gate(name_key, now):
            raise Throttled(NAME_SPACING_SECONDS, locked=False)
    except Throttled:
        for key in attempt.slots:
            _release(key)
        raise
    return attempt


def succeeded(attempt: Attempt, user: User) -> None:
    """The right password: its slots back, its name and address cleared, the address known."""
    now = timezone.now()
    LoginThrottle.objects.filter(key=_key("name-ip", attempt.name, attempt.ip)).delete()
    for key in attempt.slots:
        _release(key)
    KnownLoginAddress.objects.update_or_create(
        user=user, ip=attempt.ip, defaults={"last_login": now}
    )
    LoginThrottle.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lt=now),
        window_start__lt=now - _window(),
    ).delete()
