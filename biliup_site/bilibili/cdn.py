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
from urllib.parse import SplitResult, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar, get_cookie_header
from requests.models import REDIRECT_STATI
from requests.structures import CaseInsensitiveDict
from requests.utils import get_netrc_auth, select_proxy

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
        self.headers = response.headers

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
    return _read_raw(response.raw, limit)


def _read_raw(raw: urllib3.BaseHTTPResponse, limit: int) -> bytes | None:
    length = raw.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        return None
    encoding = raw.headers.get("Content-Encoding", "identity").strip().lower()
    parts, size = [], 0
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


class _Getter:
    """Bounded GETs of whole bodies (playlists, segments) on a recording's session: the status,
    the body (None when bigger than the limit) and the URL it came from. Failures raise as
    requests' exceptions.

    Through requests a GET cost ~0.55 ms of CPU (environment settings, request preparation,
    hooks, the cookie jar), and HLS takes two a segment: most of what a stream cost us beyond
    ffmpeg. So a plain requests.Session's GETs go straight to its adapter's urllib3 pool, with
    the session's headers and the Cookie header the jar makes, worked out once per host and
    directory (again after a Set-Cookie, and every HEADERS_SECONDS for expiring cookies).
    requests still sends what this does not do the same way: redirects (it follows them),
    sessions with proxies, auth, params, hooks, another adapter, or another class (a session
    that overrides request()), and URLs requests would re-quote.
    """

    HEADERS_SECONDS = 60

    def __init__(self, http: Session, timeout: float) -> None:
        self.http = http
        self.timeout = timeout
        self._pool_timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=timeout)
        self._sites: dict[tuple[str, str], tuple[HTTPAdapter, Any, Any] | None] = {}
        self._headers: dict[tuple[str, str, str], tuple[float, dict[str, str]]] = {}

    def get(self, url: str, limit: int) -> tuple[int, bytes | None, str]:
        parts = urlsplit(url)
        site = self._site(parts.scheme, parts.netloc, url)
        if site is None or not url.isascii() or any(c.isspace() for c in url):
            return self._via_requests(url, limit)
        adapter, verify, cert = site
        prepared = requests.PreparedRequest()
        prepared.url, prepared.headers = url, CaseInsensitiveDict()
        path = (
            f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        )
        try:
            pool = adapter.get_connection_with_tls_context(prepared, verify, None, cert)
            raw = pool.urlopen(
                "GET",
                path,
                headers=self._headers_for(parts, url),
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                retries=adapter.max_retries,
                timeout=self._pool_timeout,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise _requests_error(exc) from exc
        complete = False
        try:
            body = _read_raw(raw, limit)
            complete = body is not None
        finally:
            if not complete:
                raw.close()  # the rest of the body is unread: the connection goes
            raw.release_conn()
        if raw.headers.get("Set-Cookie"):
            extract_cookies_to_jar(self.http.cookies, prepared, raw)
            self._headers.clear()
        if raw.status in REDIRECT_STATI and "Location" in raw.headers:
            return self._via_requests(url, limit)
        return raw.status, body, url

    def _via_requests(self, url: str, limit: int) -> tuple[int, bytes | None, str]:
        with self.http.get(
            url, stream=True, timeout=(CONNECT_SECONDS, self.timeout)
        ) as response:
            return response.status_code, read_body(response, limit), response.url

    def _site(
        self, scheme: str, netloc: str, url: str
    ) -> tuple[HTTPAdapter, Any, Any] | None:
        key = (scheme, netloc)
        if key not in self._sites:
            self._sites[key] = self._direct_site(url)
        return self._sites[key]

    def _direct_site(self, url: str) -> tuple[HTTPAdapter, Any, Any] | None:
        http = self.http
        if (
            type(http) is not requests.Session
            or http.auth
            or http.params
            or any(http.hooks.values())
            or (http.trust_env and get_netrc_auth(url))
        ):
            return None
        try:
            adapter = http.get_adapter(url)
        except requests.RequestException:
            return None
        if type(adapter) is not HTTPAdapter:
            return None
        settings = http.merge_environment_settings(url, {}, None, None, None)
        if select_proxy(url, settings["proxies"]):
            return None
        return adapter, settings["verify"], settings["cert"]

    def _headers_for(self, parts: SplitResult, url: str) -> dict[str, str]:
        key = (parts.scheme, parts.netloc, parts.path.rpartition("/")[0])
        now = time.monotonic()
        made = self._headers.get(key)
        if made is not None and now - made[0] < self.HEADERS_SECONDS:
            return made[1]
        headers = {k: v for k, v in self.http.headers.items() if v is not None}
        request = requests.PreparedRequest()
        request.url, request.headers = url, CaseInsensitiveDict()
        cookie = get_cookie_header(self.http.cookies, request)
        if cookie:
            headers["Cookie"] = cookie
        if len(self._headers) > 16:
            self._headers.clear()
        self._headers[key] = (now, headers)
        return headers


def _requests_error(exc: urllib3.exceptions.HTTPError) -> requests.RequestException:
    """The exception requests' adapter raises for this urllib3 one."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    ):
        return requests.exceptions.ConnectTimeout(exc)
    if isinstance(reason, urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(exc)
    if isinstance(reason, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(exc)
    return requests.exceptions.ConnectionError(exc)


# --- HLS -------------------------------------------------------------------------------------


class HlsError(ValueError):
    """The playlist is not a usable HLS media playlist."""


class NotAPlaylist(HlsError):
    """The playlist URL answered something else (a page, JSON): said by its type and size, the
    bytes are not repeated (they may be whatever the URL's host had to say)."""


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
        self._getter = _Getter(http, timeout)

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
            # Read whatever the answer, an error page too: the connection stays usable.
            status, body, url = self._getter.get(self.url, MAX_PLAYLIST_BYTES)
        except requests.RequestException as exc:
            logger.info("Playlist %s: %s", self.url, exc.__class__.__name__)
            return None
        if status != 200:
            logger.info("Playlist %s answered HTTP %s", self.url, status)
            return None
        if body is None:
            raise HlsError(f"a playlist of more than {MAX_PLAYLIST_BYTES} bytes")
        text = body.decode("utf-8", "replace")
        if not text.startswith("#EXTM3U"):
            raise NotAPlaylist(f"not an M3U8 playlist ({len(body)} bytes)")
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
                status, data, _ = self._getter.get(uri, MAX_SEGMENT_BYTES)
                if status == 200:
                    if data is None:
                        logger.warning("Segment %s is too big: skipped", uri)
                    return data
                logger.info("Segment %s answered HTTP %s", uri, status)
                if status == 404:
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
