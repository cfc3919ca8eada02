"""Saying that something happened, from where it happened: what the apps' notices modules
(recorder/, uploads/, accounts/) share.

An event is news, never a step of the work that tells it: say() logs whatever goes wrong and
returns, so a recording or an upload never stops because its notification could not be made.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.utils import translation

from biliup_site import events

logger = logging.getLogger(__name__)


def say(kind: str, key: str, data: dict[str, Any], summary: str) -> bool:
    """Record the event (once per key) for the hooks to deliver; True if it is new."""
    # emit() keeps its writes in a savepoint of its own and logs its failures; this only
    # guards the caller against a bug (an unknown kind).
    try:
        return events.emit(kind, key, data, summary) is not None
    except Exception:
        logger.exception("Could not record the %s event %s", kind, key)
        return False


@contextmanager
def site_language() -> Iterator[None]:
    """Summaries are read in notifications, away from any request: in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def digest(text: str) -> str:
    """A short stable stand-in for a long or secret part of a key (a path, a credential)."""
    return hashlib.sha256(text.encode()).hexdigest()[:20]
