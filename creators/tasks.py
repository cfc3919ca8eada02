"""django-q2 entry points of the creator catalogs. Tasks take ids, re-read their rows and claim
them (catalogs.dispatch() claims before enqueueing).

The dotted paths are stored: the schedule row (creators/migrations/0002) names refresh_catalogs,
and dispatch() enqueues refresh_creator by name.
"""

from __future__ import annotations

import logging

from creators import catalogs
from creators.models import Creator

logger = logging.getLogger(__name__)


def refresh_catalogs() -> None:
    """Scheduled every minute: hand the followed users due for a refresh to workers."""
    catalogs.dispatch()


def refresh_creator(creator_id: int) -> None:
    creator = Creator.objects.filter(pk=creator_id).first()
    if creator is None:
        logger.info("Followed user %s is gone; nothing to refresh", creator_id)
        return
    catalogs.refresh(creator)
    # Its slot is free: the next due user need not wait for the scheduler's minute.
    catalogs.dispatch()
