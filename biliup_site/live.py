"""Live progress: workers announce that a row changed; WebSocket consumers re-read it and push.

Events carry ids, never data, so a browser always sees the row as the database has it.
"""

from __future__ import annotations

import logging
import re
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
    layer = get_channel_layer()
    if layer is None:
        return
    message: ChangeEvent = {"type": event_type, "kind": kind, "pk": pk}
    try:
        # dict(): the layer's signature takes dict[str, Any], which a TypedDict is not.
        async_to_sync(layer.group_send)(group, dict(message))
    except (ChannelFull, DatabaseError, OSError) as exc:
        # Progress is a courtesy: the row is already saved, and a page reload shows it.
        logger.warning("Could not publish %s to %s: %s", message, group, exc)
