"""Live stream CDNs: pulling the stream a play URL points at, HTTP-FLV or HLS.

`open_stream` opens an HTTP-FLV pull and hands its body out as it arrives; `HlsReader` follows a
live HLS playlist and yields each new media segment once, in order. Both work on a session the
caller holds for the whole recording: session() for Bilibili's CDN, or the streamlink bridge's
(with its plugin's headers and cookies), since other platforms' streams come the same way.
Network failures leave as CdnError; HlsReader ends instead, as a dropped FLV connection does,
and the caller reconnects. What the bytes are (FLV tags, TS or fMP4 segments) and where they go
is the recorder's.

The CDN refuses (403) a request without a browser User-Agent and the live Referer, FLV, playlist
and every segment alike, so session() sends both, and the account's cookies. Some CDN nodes
send FLV close-delimited (no length, not chunked: the body ends when the connection closes), so
the body is read with one socket read at a time, at most CHUNK_BYTES: whatever the framing, the
bytes are handed on as soon as they arrive and memory stays flat however long the stream.

Playlists are parsed by streamlink's M3U8 parser (a dependency already, for other platforms).

Reference: ../shared/reference/bilibili-protocol.md §6.4 (a play URL is fetched with a plain
GET); bilibili-2026.md "Live rooms and the stream CDN" (headers, close-delimited FLV).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from biliup_site.bilibili.http import LIVE_REFERER, Session
from biliup_site.bilibili.http import session as web_session

logger = logging.getLogger(__name__)

CONNECT_SECONDS = 5
SEGMENT_TRIES = 3
# Sequence numbers this far below the last one written mean a new stream, not an old window.
RESTART_BELOW = 1000
# The most one read of a stream body takes (a socket read returns less when less has come).
CHUNK_BYTES = 64 * 1024
# The most one read of a playlist or segment body takes (it waits until that many have come).
BODY_BYTES = 4 * 1024 * 1024
# A playlist or a segment bigger than this is not one (a 2 s segment at 100 Mbit/s is 25 MB):
# refused rather than held in memory.
MAX_PLAYLIST_BYTES = 1024 * 1024
MAX_SEGMENT_BYTES = 64 * 1024 * 1024


def session(
    credential: dict[str, Any] | None = None, room: int | None = None
) -> Session:
    """A session for Bilibili's stream CDN: a browser User-Agent, the room's page as Referer
    (the live site's when no room is given) and the credential's cookies, as the web player
    sends them; without them the CDN answers 403 (bilibili-2026.md "Live rooms and the stream
    CDN"). The streamlink bridge hands over its own session instead, of the same type."""
    sess = web_session(credential)
    sess.headers["Referer"] = f"{LIVE_REFERER}{room}" if room else LIVE_REFERER
    return sess


class CdnError(Exception):
    """The stream's connection failed or dropped: refused, reset, cut off mid-body, or silent
    for longer than the read timeout. `cause` names what went wrong (e.g. ReadTimeoutError)."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = type(cause).__name__
        super().__init__(self.cause)


# --- HTTP-FLV --------------------------------------------------------------------------------


class Stream:
    """An open HTTP-FLV pull: the CDN's status, and the body as it arrives."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self.status_code = response.status_code

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives, in pieces of at most CHUNK_BYTES, whatever its framing
        (chunked, Content-Length or close-delimited). Raises CdnError when the connection drops
        or stays silent for the read timeout.

        Not requests' iter_content(): with chunk_size=None it reads a body that is neither
        chunked nor sized to its end before yielding anything, and with a size it waits until
        that many bytes have come. read1() does one socket read (http.client decodes chunked
        framing under it), so a slow stream's bytes are handed on at once.
        """
        raw = self._response.raw
        try:
            while data := raw.read1(CHUNK_BYTES, decode_content=True):
                yield data
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise CdnError(exc) from exc


@contextmanager
def open_stream(http: Session, url: str, read_timeout: float) -> Iterator[Stream]:
    """Connect to a stream URL; closed on leaving the block. Raises CdnError when the CDN
    cannot be reached. Any HTTP status is handed back: the caller decides what a non-200 means.

    `read_timeout` bounds the wait for each read, so a stalled stream ends as CdnError.
    """
    try:
        response = http.get(url, stream=True, timeout=(CONNECT_SECONDS, read_timeout))
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise CdnError(exc) from exc
    with response:
        yield Stream(response)


def read_body(response: requests.Response, limit: int) -> bytes | None:
    """A whole body of at most `limit` bytes; None when it is bigger. Network failures (a
    refused, reset or cut-off body) raise as requests' exceptions.

    Read BODY_BYTES at a time, never more than limit + 1 in all: a sized segment (the usual)
    comes in one read of exactly its size, one copy, where iter_content(64 KiB) took a dozen
    reads and three copies; that was a third of the CPU a segment cost. A body that is not
    content-encoded is read undecoded, which skips urllib3's decoded-bytes queue (a copy).
    """
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        return None
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    raw, parts, size = response.raw, [], 0
    try:
        while data := raw.read(
            min(BODY_BYTES, limit + 1 - size), decode_content=encoding != "identity"
        ):
            parts.append(data)
            size += len(data)
            if size > limit:
                return None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        # As iter_content() raises them: ProtocolError is a body cut off mid-way.
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    return b"".join(parts)  # one part: returned as it is, not copied


# --- HLS -------------------------------------------------------------------------------------


class HlsError(ValueError):
    """The playlist is not a usable HLS media playlist."""


@dataclass(frozen=True)
class Media:
    """One media segment as fetched: its bytes, and what a file needs to know about it."""

    sequence: int
    data: bytes
    duration: float  # seconds, from #EXTINF
    kind: str  # "ts" or "fmp4"
    init: bytes | None  # fMP4's init section (#EXT-X-MAP); None for TS
    discontinuity: bool


def _kind(uri: str, has_map: bool) -> str:
    if has_map or uri.split("?")[0].endswith((".m4s", ".mp4")):
        return "fmp4"
    return "ts"


class HlsReader:
    """A live playlist's new segments, in order, each once.

    Ends (without raising) when the playlist cannot be fetched, ends (#EXT-X-ENDLIST), or brings
    nothing new for `stall_seconds`: the caller reconnects as it would after a dropped FLV stream.
    `last_sequence` carries over to the next reader of the same stream, so a reconnect does not
    write the playlist's window twice.
    """

    def __init__(
        self,
        http: Session,
        url: str,
        last_sequence: int | None = None,
        stall_seconds: float = 10,
        timeout: float = 10,
    ) -> None:
        self.http = http
        self.url = url
        self.last_sequence = last_sequence
        self.stall_seconds = stall_seconds
        self.timeout = timeout
        self.missed = 0  # segments that left the window before we could fetch them
        self._init_uri: str | None = None
        self._init: bytes | None = None

    def __iter__(self) -> Iterator[Media]:
        last_new = time.monotonic()
        while True:
            loaded_at = time.monotonic()
            playlist = self._playlist()
            if playlist is None:
                return
            fresh = self._fresh(playlist.segments)
            for segment in fresh:
                media = self._media(segment)
                self.last_sequence = segment.num
                if media is not None:
                    yield media
            if fresh:
                last_new = time.monotonic()
            if playlist.is_endlist:
                return
            if time.monotonic() - last_new > self.stall_seconds:
                logger.info("%s: nothing new for %.0f s", self.url, self.stall_seconds)
                return
            # RFC 8216 §6.3.4: after a playlist that changed, wait the target duration before
            # reloading it, after one that did not, half of it, both from when its load began.
            # Reloading at half the target always took a third more requests (and CPU).
            target = playlist.targetduration or 2
            wait = min(max(target if fresh else target / 2, 0.2), 5)
            time.sleep(max(loaded_at + wait - time.monotonic(), 0))

    def _playlist(self):  # noqa: ANN202 (streamlink's M3U8 is generic)
        # Imported here: a recorder that pulls only FLV need not load streamlink.
        from streamlink.stream.hls.m3u8 import parse_m3u8

        try:
            with self.http.get(
                self.url, stream=True, timeout=(CONNECT_SECONDS, self.timeout)
            ) as response:
                # Read whatever the answer, an error page too: the connection stays usable.
                body = read_body(response, MAX_PLAYLIST_BYTES)
                url = response.url
                if response.status_code != 200:
                    logger.info(
                        "Playlist %s answered HTTP %s", self.url, response.status_code
                    )
                    return None
        except requests.RequestException as exc:
            logger.info("Playlist %s: %s", self.url, exc.__class__.__name__)
            return None
        if body is None:
            raise HlsError(f"a playlist of more than {MAX_PLAYLIST_BYTES} bytes")
        text = body.decode("utf-8", "replace")
        if not text.startswith("#EXTM3U"):
            raise HlsError(f"not an M3U8 playlist: {text[:40]!r}")
        playlist = parse_m3u8(text, base_uri=url)
        if playlist.is_master:
            # A multivariant playlist: follow its best variant from now on.
            variants = sorted(
                playlist.playlists,
                key=lambda p: getattr(p.stream_info, "bandwidth", 0) or 0,
            )
            if not variants:
                raise HlsError("a multivariant playlist with no variant")
            self.url = variants[-1].uri
            return self._playlist()
        return playlist

    def _fresh(self, segments: list) -> list:  # noqa: ANN001
        last = self.last_sequence
        if last is not None and segments and segments[-1].num < last - RESTART_BELOW:
            last = None  # the stream's numbering started again
        fresh = [s for s in segments if last is None or s.num > last]
        if last is not None and fresh and fresh[0].num > last + 1:
            self.missed += fresh[0].num - last - 1
            logger.warning(
                "%s: %d segments left the playlist before they were fetched",
                self.url,
                fresh[0].num - last - 1,
            )
        return fresh

    def _get(self, uri: str) -> bytes | None:
        """A segment (or init section), retried on failures; None when it cannot be had.
        One segment at a time is held in memory, and at most MAX_SEGMENT_BYTES of it."""
        for attempt in range(SEGMENT_TRIES):
            try:
                with self.http.get(
                    uri, stream=True, timeout=(CONNECT_SECONDS, self.timeout)
                ) as response:
                    data = read_body(response, MAX_SEGMENT_BYTES)
                    if response.status_code == 200:
                        if data is None:
                            logger.warning("Segment %s is too big: skipped", uri)
                        return data
                logger.info("Segment %s answered HTTP %s", uri, response.status_code)
                if response.status_code == 404:
                    return None  # gone from the CDN: retrying won't bring it back
            except requests.RequestException as exc:
                logger.info("Segment %s: %s", uri, exc.__class__.__name__)
            time.sleep(0.5 * (attempt + 1))
        return None

    def _media(self, segment) -> Media | None:  # noqa: ANN001
        if segment.map is not None and segment.map.uri != self._init_uri:
            init = self._get(segment.map.uri)
            if init is None:
                return None
            self._init_uri, self._init = segment.map.uri, init
        data = self._get(segment.uri)
        if data is None:
            self.missed += 1
            return None
        kind = _kind(segment.uri, segment.map is not None)
        return Media(
            sequence=segment.num,
            data=data,
            duration=float(segment.duration or 0),
            kind=kind,
            init=self._init if kind == "fmp4" else None,
            discontinuity=bool(segment.discontinuity),
        )
