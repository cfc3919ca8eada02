"""Where the recorder may fetch from: public addresses, and the private hosts the operator named
(settings.RECORD_ALLOWED_HOSTS), checked when a streamer is saved and on every connection.

A streamer URL is typed by a user: hls://http://127.0.0.1:8000/… or a metadata address would
make the recorder fetch, again and again, what only this machine can reach (biliup_site/
addresses.py says why and how).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext

from biliup_site import addresses
from recorder import platforms

Refused = addresses.Refused
# A requests.Session or a subclass (streamlink's); typed loosely so that requests stays in
# the modules that make HTTP calls.
SessionT = TypeVar("SessionT", bound=Any)


def guard(http: SessionT) -> SessionT:
    """The session, its connections checked (addresses.guard) against the recorder's rule."""
    addresses.guard(http, settings.RECORD_ALLOWED_HOSTS)
    return http


def refused_by(exc: BaseException) -> Refused | None:
    """The Refused behind an exception a library wrapped it in (streamlink wraps every
    failure of its HTTP session in a PluginError or an OSError)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, Refused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def refusal(url: str) -> str:
    """Why the recorder may not fetch from this streamer URL, or "". Bilibili rooms are fetched
    from Bilibili's hosts, not from the URL. A name that does not resolve now is let through:
    it may resolve later, and every connection is checked anyway."""
    if platforms.BILIBILI_ROOM.match(url) or platforms.BILIBILI_SHORT.match(url):
        return ""
    prefix, _, inner = url.partition("://")
    target = inner if prefix.lower() in platforms.STREAMLINK_PROTOCOLS else url
    try:
        parts = urlsplit(target)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""  # the URL's own checks say what is wrong with it
    if not host:
        return ""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    try:
        if literal is not None:
            allowed = addresses.named(host, settings.RECORD_ALLOWED_HOSTS, host)
            if addresses.forbidden(literal) and not allowed:
                raise Refused(addresses.refusal(host, host))
        else:
            addresses.check_host(host, port, settings.RECORD_ALLOWED_HOSTS)
    except Refused as exc:
        return gettext(
            "%(reason)s. To record from this machine or the LAN, name the host in "
            "BILIUP_RECORD_ALLOWED_HOSTS."
        ) % {"reason": exc.message}
    except (OSError, UnicodeError):
        return ""  # socket.gaierror and the like
    return ""


# A source that answers something other than a stream (a page, JSON, a 4xx) is asked again after
# 1, 2, 4 … seconds, not every second; after this many such answers in a row the recording ends
# in error with the reason.
NOT_A_STREAM_TRIES = 4
# How the streamer's state detail starts when that happened (recorder/watch.py holds it back).
NOT_A_STREAM = "Not a stream"


class NotAStream(Exception):
    """The source keeps answering something other than a stream."""


def answer(status: int, headers: Mapping[str, str]) -> str:
    """An answer in a few words for the log and the streamer's state: its status, type and
    length, never its bytes (they are whatever the URL's host had to say)."""
    kind = headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    length = headers.get("Content-Length", "")
    size = f"{length} bytes" if length.isdigit() else "unknown length"
    return f"HTTP {status}, {kind[:60]}, {size}"
