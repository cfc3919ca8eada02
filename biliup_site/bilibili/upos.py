"""UPOS, Bilibili's upload protocol: lines, preupload, init, chunk PUTs, complete.

Reference: bilibili-protocol.md §3.1–3.7 and §8, bilibili-2026.md "Upload and submit".
Preupload is on the member host with the account's cookies; everything after it goes to the
endpoint preupload names (a host of its own per line, "//upos-cs-upcdnbda2.bilivideo.com"; the
BILIUP_BILIBILI_UPOS_URL setting, when set, stands in for those hosts), authenticated by the
`X-Upos-Auth` header it hands out (valid 5 days). UPOS answers {"OK":1,…}, not the usual
envelope, and throttles preupload (about 20 files an hour per account) with HTTP 406
{"OK":0,"info":"您上传视频过快…"} or code 601 "上传过快".

Two preupload routes: the web's (biliup's profile ugcupos/bup) and BCut's (必剪, the BCut PC
client's profile ugcfx/bcut-pc with its own User-Agent and version; bilibili-2026.md: "not
throttled the same way"). After preupload both are the same UPOS flow.

A pure client: it takes a requests session for the member host (cookies), a file path and the
preupload's answer, and raises UposError and its kinds; the job side (resuming a stored session,
retries, waits, account pauses) is uploads/upos_upload.py's.
"""

from __future__ import annotations

import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from biliup_site.bilibili import chunks
from biliup_site.bilibili.chunks import ChunkError, FileSlice, Part
from biliup_site.bilibili.http import (
    BROWSER_UA,
    BilibiliError,
    BilibiliUnavailable,
    member_url,
)

logger = logging.getLogger(__name__)

# The lines of §3.2 biliup offers today (all UPOS), its default first.
LINES = (
    "bda2",
    "bldsa",
    "cnbldsa",
    "andsa",
    "atdsa",
    "cnbd",
    "anbd",
    "atbd",
    "tx",
    "cntx",
    "antx",
    "attx",
    "bda",
    "txa",
    "alia",
)
DEFAULT_LINE = "bda2"
PROBE_TIMEOUT = 3.0
PREUPLOAD_PARAMS = {
    "r": "upos",
    "profile": "ugcupos/bup",
    "ssl": "0",
    "version": "2.14.0",
    "build": "2140000",
}
# BCut's preupload as its PC client sends it (renmu123/biliAPI upload.ts): its build in the UA
# and the query, version 3.11.x, and neither ssl nor webVersion.
BCUT_BUILD = "22559864"
BCUT_UA = f"bcut-pc build:{BCUT_BUILD}"
BCUT_PREUPLOAD_PARAMS = {
    "r": "upos",
    "profile": "ugcfx/bcut-pc",
    "version": "3.11.20",
    "build": BCUT_BUILD,
}
WEB, BCUT = "bup", "bcut"  # the preupload routes (profiles)
TIMEOUT = (10.0, 30.0)  # init and complete: small requests
# How long AUTO's choice stands before the lines are probed again.
PROBE_TTL = 600.0


class UposError(Exception):
    """UPOS refused or failed a call. `retry`: the same call may work later."""

    def __init__(self, message: str, retry: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


class RateLimited(UposError):
    """Preupload said 上传过快 (code 601, or HTTP 406): this account uploads too fast; wait,
    then retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retry=True)


class AuthExpired(UposError):
    """The upload's X-Upos-Auth is no longer accepted (older than 5 days): preupload again."""


class UploadGone(UposError):
    """UPOS no longer knows the upload id: start the file again."""


@dataclass(frozen=True)
class Line:
    name: str
    query: str
    probe_url: str = ""


def line(name: str) -> Line:
    """A named line (§3.2): its preupload query; the probe URL only matters for AUTO."""
    return Line(name, f"probe_version=20221109&upcdn={name}&zone=cs")


@dataclass
class Probe:
    lines: list[Line]
    post_bytes: int  # 0: probe with a GET


def probe(sess: requests.Session) -> Probe:
    """§3.1: the lines Bilibili offers now and how to time them."""
    try:
        resp = sess.get(
            member_url("/preupload"), params={"r": "probe"}, timeout=TIMEOUT
        )
        body = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise BilibiliUnavailable(f"line probe failed: {type(exc).__name__}") from None
    lines = [
        Line(
            name=_upcdn(item.get("query", "")) or item.get("os", "?"),
            query=str(item.get("query", "")),
            probe_url=str(item.get("probe_url", "")),
        )
        for item in body.get("lines") or []
        if isinstance(item, dict) and item.get("query") and item.get("probe_url")
    ]
    how = body.get("probe") or {}
    post_mb = 0.0 if how.get("get") else float(how.get("post") or 0.1)
    return Probe(lines, int(post_mb * 1048576))


def _upcdn(query: str) -> str:
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "upcdn":
            return value
    return ""


def _time_line(sess: requests.Session, candidate: Line, post_bytes: int) -> float:
    url = upos_url(candidate.probe_url)
    started = time.monotonic()
    try:
        if post_bytes:
            resp = sess.post(url, data=bytes(post_bytes), timeout=PROBE_TIMEOUT)
        else:
            resp = sess.get(url, timeout=PROBE_TIMEOUT)
    except requests.RequestException:
        return math.inf
    return time.monotonic() - started if resp.ok else math.inf


_auto: dict[str, Any] = {}


def fastest_line(sess: requests.Session) -> Line:
    """AUTO: time every offered line at once and keep the fastest that answers; remembered for
    PROBE_TTL so a session's segments do not each pay for a probe."""
    if _auto and time.monotonic() - _auto["at"] < PROBE_TTL:
        return _auto["line"]
    found = probe(sess)
    if not found.lines:
        return line(DEFAULT_LINE)
    with ThreadPoolExecutor(max_workers=len(found.lines)) as pool:
        times = list(
            pool.map(lambda c: _time_line(sess, c, found.post_bytes), found.lines)
        )
    best_time, best = min(
        zip(times, found.lines, strict=True), key=lambda pair: pair[0]
    )
    if math.isinf(best_time):
        logger.warning("No upload line answered its probe; using %s", DEFAULT_LINE)
        return line(DEFAULT_LINE)
    logger.info("Upload line %s answered its probe in %.3f s", best.name, best_time)
    _auto.update(at=time.monotonic(), line=best)
    return best


def choose_line(sess: requests.Session, setting: str) -> Line:
    """The configured line: a name from LINES, or AUTO."""
    name = (setting or "AUTO").strip()
    if name.upper() == "AUTO":
        return fastest_line(sess)
    return line(name)


def upos_url(endpoint: str, path: str = "") -> str:
    """A scheme-less UPOS address ("//host/…") as a URL: https (or the configured scheme) on
    that host, or, with BILIBILI_UPOS_URL set, that base with the host as the path's first
    segment, so the line chosen stays visible to whatever serves the base."""
    if settings.BILIBILI_UPOS_URL:
        return f"{settings.BILIBILI_UPOS_URL}/{endpoint.removeprefix('//')}{path}"
    return f"{settings.BILIBILI_UPOS_SCHEME}:{endpoint}{path}"


@dataclass
class Session:
    """What preupload hands out for one file."""

    auth: str
    biz_id: int
    chunk_size: int
    endpoint: str
    upos_uri: str
    endpoints: list[str] = field(default_factory=list)

    def url(self, endpoint: str | None = None) -> str:
        """§3.4: https: + endpoint + / + upos_uri without "upos://"."""
        key = self.upos_uri.removeprefix("upos://")
        return upos_url(endpoint or self.endpoint, "/" + key)


def filename(upos_uri: str) -> str:
    """§3.7: the name submit knows the file by, the stem of upos_uri."""
    return PurePosixPath(upos_uri.removeprefix("upos://")).stem


def preupload(
    sess: requests.Session, chosen: Line, name: str, size: int, profile: str = WEB
) -> Session:
    """§3.3, by the web's route or (profile=BCUT) BCut's, with the same cookies. Raises
    RateLimited, BilibiliError (-101: logged out), BilibiliUnavailable."""
    url = f"{member_url('/preupload')}?{chosen.query}"
    base, headers = PREUPLOAD_PARAMS, {}
    if profile == BCUT:
        # The BCut client is no browser: its own UA, and no Referer (None drops the session's).
        base, headers = BCUT_PREUPLOAD_PARAMS, {"User-Agent": BCUT_UA, "Referer": None}
    params = {**base, "name": name, "size": str(size)}
    try:
        resp = sess.get(url, params=params, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise BilibiliUnavailable(
            f"preupload on line {chosen.name} failed: {type(exc).__name__}"
        ) from None
    try:
        body = resp.json()
    except ValueError:
        body = None
    # bilibili-2026.md: HTTP 406 is the hourly budget's refusal, whatever the body says.
    if resp.status_code == 406:
        info = str(body.get("info") or "") if isinstance(body, dict) else ""
        raise RateLimited(f"Bilibili says uploads are too fast ({info or 'HTTP 406'})")
    if not isinstance(body, dict):
        raise BilibiliUnavailable(
            f"preupload on line {chosen.name}: HTTP {resp.status_code}, not JSON"
        )
    info = str(body.get("info") or body.get("message") or "")
    if body.get("code") == 601 or "过快" in info:
        raise RateLimited(f"Bilibili says uploads are too fast ({info or 601})")
    if body.get("OK") != 1:
        code = body.get("code")
        if isinstance(code, int) and code != 0:
            raise BilibiliError(code, info, body.get("data"))
        if resp.status_code >= 500:
            raise BilibiliUnavailable(
                f"preupload on line {chosen.name}: HTTP {resp.status_code}"
            )
        raise UposError(f"preupload refused: {info or body}")
    try:
        return Session(
            auth=str(body["auth"]),
            biz_id=int(body["biz_id"]),
            chunk_size=int(body["chunk_size"]),
            endpoint=str(body["endpoint"]),
            upos_uri=str(body["upos_uri"]),
            endpoints=[str(e) for e in body.get("endpoints") or [] if e],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UposError(f"preupload answer lacks {exc}") from None


def _refusal(resp: requests.Response, what: str) -> UposError:
    where = urlsplit(resp.url or "").netloc
    if resp.status_code == 403:
        if "AUTH_TS_GT_5DAY" in resp.headers.get("X-Upos-Auth", ""):
            return AuthExpired(f"{what}: the upload's authorization expired (5 days)")
        return AuthExpired(f"{what}: {where} refused the upload's authorization")
    if resp.status_code == 404:
        return UploadGone(f"{what}: {where} no longer knows this upload")
    return UposError(
        f"{what}: HTTP {resp.status_code} from {where}",
        retry=resp.status_code >= 500 or resp.status_code == 429,
    )


def _ok(resp: requests.Response, what: str) -> dict[str, Any]:
    if not resp.ok:
        raise _refusal(resp, what)
    try:
        body = resp.json()
    except ValueError:
        raise UposError(f"{what}: answer is not JSON", retry=True) from None
    if not isinstance(body, dict) or body.get("OK") != 1:
        raise UposError(f"{what} refused: {body}", retry=True)
    return body


def init(upload: Session) -> str:
    """§3.4: the upload id for the multipart upload."""
    http = chunks.thread_session(BROWSER_UA)
    try:
        resp = http.post(
            upload.url() + "?uploads&output=json",
            headers={"X-Upos-Auth": upload.auth},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise UposError(f"init failed: {type(exc).__name__}", retry=True) from None
    upload_id = _ok(resp, "init").get("upload_id")
    if not upload_id:
        raise UposError("init answer has no upload_id", retry=True)
    return str(upload_id)


def put_chunk(
    http: requests.Session,
    upload: Session,
    endpoint: str,
    upload_id: str,
    path: Path,
    part: Part,
    total: int,
    chunks: int,
) -> None:
    """§3.5: one chunk, streamed from the file. Raises ChunkError (retryable or not), or
    AuthExpired / UploadGone when the whole file must start again."""
    params = {
        "partNumber": part.number,
        "uploadId": upload_id,
        "chunk": part.index,
        "chunks": chunks,
        "size": part.size,
        "start": part.start,
        "end": part.end,
        "total": total,
    }
    try:
        with FileSlice(path, part) as body:
            resp = http.put(
                upload.url(endpoint),
                params=params,
                data=body,
                headers={
                    "X-Upos-Auth": upload.auth,
                    "Content-Type": "application/octet-stream",
                },
                timeout=(10.0, settings.UPLOAD_CHUNK_TIMEOUT),
            )
    except requests.Timeout:
        raise ChunkError("timed out") from None
    except requests.RequestException as exc:
        raise ChunkError(f"connection failed ({type(exc).__name__})") from None
    if resp.ok:
        return
    refusal = _refusal(resp, f"chunk {part.number}")
    if isinstance(refusal, (AuthExpired, UploadGone)):
        raise refusal
    # A 4xx other than those means the request itself is wrong: sending it again won't help.
    raise ChunkError(refusal.message, retry=refusal.retry)


def chunk_sender(
    upload: Session, upload_id: str, path: Path, total: int, chunks_total: int
) -> chunks.Send:
    """What chunks.send_parts() calls for each part of this file: put_chunk() on the endpoint
    it names, over the calling thread's own keep-alive session."""

    def send(part: Part, endpoint: str) -> None:
        http = chunks.thread_session(BROWSER_UA)
        put_chunk(http, upload, endpoint, upload_id, path, part, total, chunks_total)

    return send


def complete(upload: Session, name: str, upload_id: str, parts: int) -> None:
    """§3.6: assemble the parts. Retried by the caller if it fails."""
    http = chunks.thread_session(BROWSER_UA)
    try:
        resp = http.post(
            upload.url(),
            params={
                "output": "json",
                "name": name,
                "profile": "ugcupos/bup",
                "uploadId": upload_id,
                "biz_id": upload.biz_id,
            },
            json={
                "parts": [
                    {"partNumber": n, "eTag": "etag"} for n in range(1, parts + 1)
                ]
            },
            headers={"X-Upos-Auth": upload.auth},
            timeout=(10.0, 120.0),
        )
    except requests.RequestException as exc:
        raise UposError(f"complete failed: {type(exc).__name__}", retry=True) from None
    _ok(resp, "complete")


def line_name(endpoint: str) -> str:
    """The line an endpoint belongs to, for display: "bda2" of //upos-cs-upcdnbda2…"""
    match = re.search(r"upcdn([a-z0-9]+)", endpoint)
    if match:
        return match.group(1)
    return endpoint.lstrip("/")
