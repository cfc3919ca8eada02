"""What happened, recorded once: events.emit() saves an Event and one Delivery per hook that
wants it, and queues their sending (biliup_site/hooks.py) once the caller's transaction commits.

Recording threads, upload tasks and account checks all call emit(), so it is safe in any thread,
inside or outside a transaction, on SQLite and PostgreSQL, and it never raises into its caller
for a delivery problem: a notification must not stop a recording.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django_q.tasks import async_task

from biliup_site.models import Delivery, Event, EventKind, Hook

logger = logging.getLogger(__name__)

# The webhook's EventType per kind: BililiveRecorder's names (webhook v2) for the recording
# events its receivers already understand, ours in the same style for the rest.
WEBHOOK_TYPES: dict[str, str] = {
    EventKind.SESSION_STARTED: "SessionStarted",
    EventKind.STREAM_STARTED: "StreamStarted",
    EventKind.FILE_OPENING: "FileOpening",
    EventKind.FILE_CLOSED: "FileClosed",
    EventKind.STREAM_ENDED: "StreamEnded",
    EventKind.SESSION_ENDED: "SessionEnded",
    EventKind.RECORDING_FAILED: "RecordingFailed",
    EventKind.RECORDING_STALLED: "RecordingStalled",
    EventKind.DISK_LOW: "DiskLow",
    EventKind.UPLOAD_PUBLISHED: "UploadPublished",
    EventKind.UPLOAD_FAILED: "UploadFailed",
    EventKind.UPLOAD_REJECTED: "UploadRejected",
    EventKind.ACCOUNT_PAUSED: "AccountPaused",
    EventKind.COOKIE_EXPIRING: "CookieExpiring",
    EventKind.COOKIE_EXPIRED: "CookieExpired",
}

KEY_LENGTH = Event._meta.get_field("key").max_length or 255
SUMMARY_LENGTH = Event._meta.get_field("summary").max_length or 500


def emit(kind: str, key: str, data: dict[str, Any], summary: str) -> Event | None:
    """Record that `kind` happened, once per `key`, and send it to the hooks that want it.

    Returns the new Event, or None when `key` was recorded before (or the database refused:
    logged). Deliveries are queued after the surrounding transaction commits (at once outside
    one). `data` may hold datetimes, UUIDs and Decimals: they are stored as JSON strings.
    Raises ValueError only for a kind that is not an EventKind (a bug in the caller).
    """
    if kind not in WEBHOOK_TYPES:
        raise ValueError(f"Unknown event kind: {kind!r}")
    try:
        # A savepoint inside the caller's transaction: a duplicate key (or any refused write)
        # rolls back only this, and PostgreSQL's transaction stays usable for the caller.
        with transaction.atomic():
            event = Event.objects.create(
                kind=kind,
                key=_fit_key(key),
                data=_jsonable(data),
                summary=summary[:SUMMARY_LENGTH],
            )
            hooks = [h for h in Hook.objects.filter(enabled=True) if wants(h, kind)]
            Delivery.objects.bulk_create(
                Delivery(event=event, hook=hook, next_try=event.created)
                for hook in hooks
            )
    except IntegrityError:
        return None  # said before: the key is unique
    except Exception:
        # The caller is a recording or an upload: losing one event beats stopping it.
        logger.exception("Could not record event %s %s", kind, key)
        return None
    if hooks:
        hook_ids = [hook.pk for hook in hooks]
        transaction.on_commit(lambda: _queue(hook_ids))
    return event


def wants(hook: Hook, kind: str) -> bool:
    """The hook takes events of this kind: it lists the kind, or lists none (all)."""
    return not hook.events or kind in hook.events


def queue_flush(hook_id: int) -> None:
    """Have a worker send the hook's due deliveries (biliup_site/hooks.py: flush)."""
    async_task("biliup_site.tasks.flush_hook", hook_id, group="hooks")


def _queue(hook_ids: list[int]) -> None:
    for hook_id in hook_ids:
        try:
            queue_flush(hook_id)
        except Exception:
            # The broker is away: hooks.sweep() finds the pending deliveries later.
            logger.exception("Could not queue deliveries of hook %s", hook_id)


def _fit_key(key: str) -> str:
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: KEY_LENGTH - len(digest) - 1]}#{digest}"


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return result
