"""Live progress: workers announce that a row changed; WebSocket consumers re-read it and push.

Events carry ids, never data, so a browser always sees the row as the database has it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TypedDict

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.db import DatabaseError

logger = logging.getLogger(__name__)

PROGRESS_GROUP = "progress"
_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]")


class ChangeEvent(TypedDict):
    """What notify() sends through the channel layer: which row changed, not its data."""

    type: str  # the consumer handler: "job.changed" → job_changed()
    kind: str  # which model, e.g. "upload_job"
    pk: int


def group_name(kind: str, pk: int | str) -> str:
    """A Channels group name: ASCII letters, digits, '-' and '.', at most 100 characters."""
    return _UNSAFE.sub("-", f"{kind}.{pk}")[:100]


def notify(group: str, event_type: str, *, kind: str, pk: int) -> None:
    """Tell the group's consumers that something changed. Never fails the caller's work."""
    notify_many(group, event_type, kind=kind, pks=[pk])


def notify_many(group: str, event_type: str, *, kind: str, pks: Iterable[int]) -> None:
    """notify() for many rows of one kind, in one trip into the channel layer: from sync code
    each trip runs an event loop of its own, which cost more than the message (the recorder
    announces every recording's heartbeat at once)."""
    layer = get_channel_layer()
    if layer is None:
        return
    # dict(): the layer's signature takes dict[str, Any], which a TypedDict is not.
    messages = [dict(ChangeEvent(type=event_type, kind=kind, pk=pk)) for pk in pks]
    if not messages:
        return

    async def send() -> None:
        for message in messages:
            await layer.group_send(group, message)

    try:
        async_to_sync(send)()
    except (ChannelFull, DatabaseError, OSError) as exc:
        # Progress is a courtesy: the rows are already saved, and a page reload shows them.
        logger.warning(
            "Could not publish %s %s to %s: %s",
            kind,
            [message["pk"] for message in messages],
            group,
            exc,
        )
