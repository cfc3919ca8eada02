"""Room cards: what a room shows beside its recording (its live title, cover, area and online
count), as the live checks see it.

A Bilibili room's get_info (§6.2, not WBI-signed) is read at most once a round while the room is
live, and never while it is offline (room_init said so): the recorder's own read when its session
opens goes on the card, and the watcher reads it for a room being recorded, waiting for a slot,
or that cannot be recorded (recorder/watch.py). The watcher's reads go through the pace of the
live host (bilibili/pace.py), so a risk-control answer holds back these reads, never a live
check or a recording. Other platforms give what streamlink's plugin tells: a title at most.

A read that fails is logged and leaves the card as it was (`live_seen` says how old it is): it
never fails the check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from biliup_site import live as progress
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, live
from recorder.models import Streamer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Card:
    title: str
    cover: str = ""
    area: str = ""
    parent_area: str = ""
    online: int | None = None  # None: not live

    @classmethod
    def of(cls, info: live.RoomInfo) -> Card:
        return cls(
            title=info.title,
            cover=_image_url(info.cover),
            area=info.area_name,
            parent_area=info.parent_area_name,
            online=info.online if info.is_live else None,
        )


def _image_url(url: str) -> str:
    """An http(s) URL or ""; Bilibili writes some image URLs scheme-relative (//i0.hdslb.com)."""
    url = url.strip()
    if url.startswith("//"):
        url = f"https:{url}"
    return url if url.startswith(("https://", "http://")) else ""


def refresh(streamer: Streamer, room_id: int) -> bool:
    """Read the live room's get_info onto its card. False if it could not be read."""
    try:
        info = live.get_info(room_id, paced=True)
    except (BilibiliError, BilibiliUnavailable) as exc:
        # Risk control included (pace.RiskControlled): the card waits, the check goes on.
        logger.info("The card of streamer %s was not refreshed: %s", streamer.pk, exc)
        return False
    store(streamer, Card.of(info))
    return True


def store(streamer: Streamer, card: Card) -> bool:
    """Put what was seen of the room on the streamer's card; the pages hear of a change.
    True if the card changed."""
    fields = {
        "live_title": card.title[:300],
        "live_cover": card.cover if len(card.cover) <= 1024 else "",
        "live_area": card.area[:100],
        "live_parent_area": card.parent_area[:100],
        "live_online": card.online,
    }
    return _save(streamer, fields)


def heard_from_streamlink(streamer: Streamer, title: str) -> bool:
    """A live room of another platform: its title when the plugin tells one."""
    fields = {"live_title": (title or streamer.live_title)[:300], "live_online": None}
    return _save(streamer, fields)


def offline(streamer: Streamer) -> bool:
    """The room is offline: no online count on its card. No call: the check just said so."""
    if streamer.live_online is None:
        return False
    return _save(streamer, {"live_online": None})


def _save(streamer: Streamer, fields: dict[str, object]) -> bool:
    changed = any(getattr(streamer, name) != value for name, value in fields.items())
    now = timezone.now()
    # update(), not save(): a recorder writes the same row's heartbeat and progress meanwhile.
    Streamer.objects.filter(pk=streamer.pk).update(live_seen=now, **fields)
    for name, value in fields.items():
        setattr(streamer, name, value)
    streamer.live_seen = now
    if changed:
        progress.notify(
            progress.PROGRESS_GROUP, "job.changed", kind="streamer", pk=streamer.pk
        )
    return changed
