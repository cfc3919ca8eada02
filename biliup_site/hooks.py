"""Sending the deliveries that events.emit() made: per hook, in event order, with retries.

Each hook's deliveries form a queue: only its head (the oldest pending one) may be sent, and the
next waits until the head is sent or given up on. A flush claims the head by moving its
`next_try` into the future with a conditional UPDATE (the lease): a second flush of the same
hook, on this machine or another, finds the head not due and leaves. A flush that dies mid-send
loses its lease after LEASE, and the next sweep() hands the head on.
"""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext

from biliup_site import notifications, webhooks
from biliup_site.events import queue_flush
from biliup_site.models import Delivery, Event, EventKind, Hook
from biliup_site.webhooks import Outcome

logger = logging.getLogger(__name__)

# Longer than any one attempt (webhooks time out after 10 s, apprise after 20 s).
LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 3600.0
# Deliveries one flush sends before it hands the rest to a fresh task.
FLUSH_BATCH = 100
ERROR_LENGTH = Delivery._meta.get_field("error").max_length or 500

# What a new notification hook hears of unless the user chooses: what needs a person.
# A webhook hears of everything (events = []).
NOTIFICATION_DEFAULTS: list[str] = [
    EventKind.SESSION_STARTED,
    EventKind.RECORDING_FAILED,
    EventKind.RECORDING_STALLED,
    EventKind.DISK_LOW,
    EventKind.UPLOAD_PUBLISHED,
    EventKind.UPLOAD_FAILED,
    EventKind.UPLOAD_REJECTED,
    EventKind.ACCOUNT_PAUSED,
    EventKind.COOKIE_EXPIRING,
    EventKind.COOKIE_EXPIRED,
]


def default_events(kind: str) -> list[str]:
    return list(NOTIFICATION_DEFAULTS) if kind == Hook.Kind.APPRISE else []


def new_secret() -> str:
    return secrets.token_hex(32)


def save(hook: Hook, regenerate_secret: bool = False) -> str:
    """Save a hook made or changed by HookForm. A webhook without a secret (a new one), or one
    asked to, gets a new secret: returned this once ("" otherwise)."""
    secret = ""
    if hook.kind == Hook.Kind.WEBHOOK and (regenerate_secret or not hook.secret):
        hook.secret = secret = new_secret()
    hook.save()
    return secret


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: the base, doubling, at most an hour."""
    base = float(settings.HOOK_RETRY_SECONDS)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def deliver(hook: Hook, event: Event) -> Outcome:
    """One attempt to send one event to one hook. Never raises."""
    try:
        if hook.kind == Hook.Kind.WEBHOOK:
            return webhooks.send(hook, event)
        return notifications.send(hook, event)
    except Exception as exc:
        # A bug in a plugin or a malformed URL: recorded on the delivery and retried, never
        # allowed to kill the flush (the queue would stall until the lease expires).
        logger.exception("Hook %s: sending event %s failed", hook.pk, event.pk)
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")


def _claim_head(hook: Hook) -> Delivery | None:
    """The hook's oldest pending delivery, leased to this flush; None if there is none, it is
    not due yet, or another flush holds it."""
    head = (
        Delivery.objects.filter(hook=hook, status=Delivery.Status.PENDING)
        .select_related("event")
        .order_by("id")
        .first()
    )
    now = timezone.now()
    if head is None or head.next_try > now:
        return None
    claimed = Delivery.objects.filter(
        pk=head.pk, status=Delivery.Status.PENDING, next_try__lte=now
    ).update(attempts=F("attempts") + 1, last_try=now, next_try=now + LEASE)
    if not claimed:
        return None
    head.attempts, head.last_try, head.next_try = head.attempts + 1, now, now + LEASE
    return head


def _record(delivery: Delivery, outcome: Outcome) -> None:
    now = timezone.now()
    delivery.response_status = outcome.status
    delivery.error = outcome.error[:ERROR_LENGTH]
    if outcome.ok:
        delivery.status = Delivery.Status.SENT
    elif outcome.permanent or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = Delivery.Status.FAILED
    else:
        delivery.next_try = now + backoff(delivery.attempts)
    # Guarded by the attempt this flush claimed: if the lease ran out and another flush took
    # the delivery over, its result stands.
    Delivery.objects.filter(
        pk=delivery.pk,
        status=Delivery.Status.PENDING,
        attempts=delivery.attempts,
    ).update(
        status=delivery.status,
        next_try=delivery.next_try,
        response_status=delivery.response_status,
        error=delivery.error,
    )
    if not outcome.ok:
        logger.warning(
            "Hook %s: delivery %s attempt %s: %s",
            delivery.hook_id,
            delivery.pk,
            delivery.attempts,
            delivery.error,
        )


def flush(hook_id: int, requeue: bool = True) -> int:
    """Send the hook's due deliveries in order; returns how many were sent. Stops at a head
    that failed and waits for its retry (sweep() flushes again when it is due). After a full
    batch the rest goes to a fresh task (requeue) or waits for the next sweep."""
    hook = Hook.objects.filter(pk=hook_id, enabled=True).first()
    if hook is None:
        return 0
    sent = 0
    for _ in range(FLUSH_BATCH):
        delivery = _claim_head(hook)
        if delivery is None:
            return sent
        _record(delivery, deliver(hook, delivery.event))
        if delivery.status == Delivery.Status.PENDING:
            return sent
        sent += delivery.status == Delivery.Status.SENT
    if requeue:
        queue_flush(hook_id)
    return sent


def due() -> list[int]:
    """The enabled hooks whose head delivery is due: a retry whose time has come, a delivery
    whose task was lost or waits behind long uploads in the job queue, a head whose flush
    died (its lease ran out)."""
    heads = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, hook__enabled=True)
        .values("hook_id")
        .annotate(head=Min("id"))
        .values_list("head", flat=True)
    )
    return list(
        Delivery.objects.filter(
            pk__in=list(heads), next_try__lte=timezone.now()
        ).values_list("hook_id", flat=True)
    )


def sweep() -> int:
    """Flush every hook that is due(), on a few threads of this process (the recorder service
    calls this every 5 s), not as django-q2 tasks: upload jobs may hold every worker for hours,
    and a notification must not wait for them. Cheap to call often and harmless to repeat (the
    lease; a hook already being flushed here is skipped). Returns the flushes started."""
    started = 0
    for hook_id in due():
        with _flushing_lock:
            if hook_id in _flushing:
                continue
            _flushing.add(hook_id)
        _pool().submit(_flush_here, hook_id)
        started += 1
    return started


_flushing: set[int] = set()
_flushing_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _flushing_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hooks")
        return _executor


def _flush_here(hook_id: int) -> None:
    try:
        flush(hook_id, requeue=False)
    except Exception:
        logger.exception("Flushing hook %s failed", hook_id)
    finally:
        with _flushing_lock:
            _flushing.discard(hook_id)
        connection.close()


def test_send(hook: Hook) -> Outcome:
    """Send a made-up event to the hook now, outside its queue, and say how it went."""
    message = gettext("A test from biliup: this hook works.")
    event = Event(
        kind="test",
        key="test",
        data={"Message": message, "HookId": hook.pk},
        summary=message,
        created=timezone.now(),
    )
    return deliver(hook, event)


def recent_deliveries(hook: Hook, limit: int = 5) -> list[Delivery]:
    return list(hook.deliveries.select_related("event").order_by("-id")[:limit])
