"""Which platform a streamer URL belongs to, decided offline when the streamer is added.

Bilibili rooms are ours (recorded natively); every other platform goes through streamlink's
plugins (~135 of them) rather than hand-written scrapers.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.utils.translation import gettext as _

# User-entered room URLs, not hosts we contact (those are settings): live.bilibili.com/<id>,
# its /blanc/ and /h5/ forms, and b23.tv short links.
BILIBILI_ROOM = re.compile(
    r"^https?://(?:www\.|m\.)?live\.bilibili\.com/(?:blanc/|h5/)?(\d+)(?:[/?#]|$)", re.I
)
BILIBILI_SHORT = re.compile(r"^https?://b23\.tv/\w+", re.I)


# streamlink's generic plugins: a stream URL behind one of these is recorded as it is.
STREAMLINK_PROTOCOLS = ("hls", "hlsvariant", "httpstream")


class UnsupportedUrl(ValueError):
    pass


@functools.cache
def streamlink_session() -> Any:
    # Building a session loads plugin metadata (~0.3 s): once per process.
    from streamlink import Streamlink

    return Streamlink()


def recognise(url: str) -> str:
    """The platform's name ("bilibili", or a streamlink plugin such as "twitch"), or UnsupportedUrl."""
    if BILIBILI_ROOM.match(url) or BILIBILI_SHORT.match(url):
        return "bilibili"
    from streamlink.exceptions import NoPluginError

    try:
        # No redirect following: that would be a request to whatever host the user typed.
        name, _plugin, _url = streamlink_session().resolve_url(
            url, follow_redirect=False
        )
    except NoPluginError:
        raise UnsupportedUrl(
            _(
                "No recorder supports this URL: use a live room of Bilibili or of a platform streamlink knows."
            )
        ) from None
    return str(name)


def bilibili_room(url: str) -> str | None:
    """The room id (short or long) in a live.bilibili.com URL; None for b23.tv links and others."""
    match = BILIBILI_ROOM.match(url)
    return match.group(1) if match else None


def recordable_room(url: str) -> str:
    """The room id to record from a Bilibili streamer URL, or UnsupportedUrl."""
    room = bilibili_room(url)
    if room is None:
        raise UnsupportedUrl(
            _("b23.tv links can't be recorded: use the live.bilibili.com/<room> URL")
        )
    return room
