"""Live progress: workers announce that a row changed; WebSocket consumers re-read it and push.

Events carry ids, never data, so a browser always sees the row as the database has it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.db import DatabaseError

logger = logging.getLogger(__name__)

PROGRESS_GROUP = "progress"
_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]")


def group_name(kind: str, pk: int | str) -> str:
    """A Channels group name: ASCII letters, digits, '-' and '.', at most 100 characters."""
    return _UNSAFE.sub("-", f"{kind}.{pk}")[:100]


def notify(group: str, event_type: str, **ids: Any) -> None:
    """Tell the group's consumers that something changed. Never fails the caller's work."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": event_type, **ids}
    try:
        async_to_sync(layer.group_send)(group, message)
    except (ChannelFull, DatabaseError, OSError) as exc:
        # Progress is a courtesy: the row is already saved, and a page reload shows it.
        logger.warning("Could not publish %s to %s: %s", message, group, exc)
