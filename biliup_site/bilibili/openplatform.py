"""The Open Platform upload client: an app's client_id and the user's access token instead of
cookies.

Reference: bilibili-protocol.md §5 (endpoints, Signature 2.0, codes) and
openplatform-upload-token.txt (the upload_token flow): init → upload_token, parts by token and
part number, complete, cover, add-by-utoken → a BV id. An upload_token carries one video, so an
Open Platform job makes one archive per file.

A pure client: it takes the app's credentials as an App, a file path and plain values, and
raises OpenPlatformError and Unavailable; the job side (retries, the stored token, one archive
per file) is uploads/openplatform_upload.py's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

from biliup_site.bilibili import chunks
from biliup_site.bilibili.http import BROWSER_UA, member_url

PART_SIZE = 8 * 1024 * 1024  # §5.3: 8 MiB per chunk recommended
TIMEOUT = (10.0, 60.0)

# §5.3's status-code page, in words a user can act on.
CODES: dict[int, str] = {
    122000: "the client_id is wrong",
    122001: "the app secret is wrong",
    127000: "authentication parameters are missing",
    127001: "the access token is invalid or expired: authorize the app again",
    127004: "the client_id is not valid",
    127005: "the organisation is not verified",
    127006: "the app is not verified",
    127007: "the app may not use this API",
    127009: "the app's quota is used up",
    127011: "the user did not grant this permission",
    127012: "authentication failed (signature or clock)",
    127022: "the upload_token is not valid",
    127100: "bad parameters",
    127102: "this file type is not accepted",
    127107: "the archive was deleted",
    127124: "no such archive",
    127200: "business error",
    127201: "Bilibili is busy",
    127207: "this category is not available",
}
RETRY_CODES = frozenset({127201})
CREDENTIAL_CODES = frozenset({122000, 122001, 127000, 127001, 127004, 127012})


class OpenPlatformError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        hint = CODES.get(self.code)
        text = (
            f"Open Platform error {self.code}: {self.message or hint or 'no message'}"
        )
        return f"{text} ({hint})" if hint and self.message else text

    @property
    def retry(self) -> bool:
        return self.code in RETRY_CODES


class Unavailable(Exception):
    """The Open Platform could not be reached or answered garbage (network, 5xx)."""


@dataclass(frozen=True)
class App:
    """The app and the user it acts for (the site configuration's openplatform_* fields)."""

    client_id: str
    app_secret: str
    access_token: str
    # "signature" (Signature 2.0 headers) or "legacy" (client_id + access_token in the query).
    auth: str


def _signed_headers(app: App, body: bytes) -> dict[str, str]:
    """§5.2 Signature 2.0: the x-bili-* headers and their HMAC-SHA256 under the app secret."""
    headers = {
        "x-bili-accesskeyid": app.client_id,
        "x-bili-content-md5": hashlib.md5(body).hexdigest(),
        "x-bili-signature-method": "HMAC-SHA256",
        "x-bili-signature-nonce": str(uuid.uuid4()),
        "x-bili-signature-version": "2.0",
        "x-bili-timestamp": str(int(time.time())),
    }
    text = "\n".join(f"{k}:{headers[k]}" for k in sorted(headers))
    signature = hmac.new(
        app.app_secret.encode(), text.encode(), hashlib.sha256
    ).hexdigest()
    return {
        **headers,
        "Accept": "application/json",
        "access-token": app.access_token,
        "Authorization": signature,
    }


def _unwrap(resp: requests.Response) -> Any:
    if resp.status_code >= 500:
        raise Unavailable(f"HTTP {resp.status_code} from the Open Platform")
    try:
        body = resp.json()
    except ValueError:
        raise Unavailable(
            f"HTTP {resp.status_code} from the Open Platform is not JSON"
        ) from None
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, int):
        raise Unavailable("the Open Platform's answer has no code")
    if code != 0:
        raise OpenPlatformError(code, str(body.get("message") or ""))
    return body.get("data")


def call(
    app: App,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    payload: Any = None,
    files: dict[str, Any] | None = None,
) -> Any:
    """One business call on member.bilibili.com/arcopen/fn/…, authenticated as `app` says."""
    params = dict(params or {})
    headers: dict[str, str] = {"User-Agent": BROWSER_UA}
    body = b"" if payload is None else json.dumps(payload).encode()
    if app.auth == "legacy":
        params.update(client_id=app.client_id, access_token=app.access_token)
    else:
        # File bytes are left out of the content MD5 (§5.2): a multipart body signs as "".
        headers.update(_signed_headers(app, body))
    if payload is not None:
        headers["Content-Type"] = "application/json"
    try:
        resp = requests.request(
            method,
            member_url(path),
            params=params,
            data=body if payload is not None else None,
            files=files,
            headers=headers,
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise Unavailable(
            f"the Open Platform could not be reached ({type(exc).__name__})"
        ) from None
    return _unwrap(resp)


def upload_part(
    http: requests.Session, token: str, path: Path, part: chunks.Part
) -> None:
    """§5.3: one part, streamed from the file. Raises ChunkError (retryable or not), or
    OpenPlatformError 127022 when the token is dead and the whole file must start again."""
    url = f"{settings.BILIBILI_OPENUPOS_URL}/video/v2/part/upload"
    try:
        with chunks.FileSlice(path, part) as body:
            resp = http.post(
                url,
                params={"upload_token": token, "part_number": part.number},
                data=body,
                headers={"Content-Type": "application/octet-stream"},
                timeout=(10.0, settings.UPLOAD_CHUNK_TIMEOUT),
            )
        _unwrap(resp)
    except requests.Timeout:
        raise chunks.ChunkError("timed out") from None
    except requests.RequestException as exc:
        raise chunks.ChunkError(f"connection failed ({type(exc).__name__})") from None
    except Unavailable as exc:
        raise chunks.ChunkError(str(exc)) from None
    except OpenPlatformError as exc:
        if exc.code == 127022:
            raise
        raise chunks.ChunkError(str(exc), retry=exc.retry) from None


def part_sender(token: str, path: Path) -> chunks.Send:
    """What chunks.send_parts() calls for each part of this file: upload_part() over the
    calling thread's own keep-alive session (the endpoint is always the openupos host)."""

    def send(part: chunks.Part, endpoint: str) -> None:
        http = chunks.thread_session(BROWSER_UA)
        upload_part(http, token, path, part)

    return send


def init(app: App, name: str) -> str:
    """§5.3 init: the upload_token for one video file ("" if the answer lacks it)."""
    data = call(
        app,
        "POST",
        "/arcopen/fn/archive/video/init",
        payload={"name": name, "utype": "0"},
    )
    return str((data or {}).get("upload_token") or "")


def complete(app: App, token: str) -> None:
    """§5.3 complete: the parts sent under `token` make the video."""
    call(
        app,
        "POST",
        "/arcopen/fn/archive/video/complete",
        params={"upload_token": token},
        payload={},
    )


def upload_cover(app: App, image: bytes) -> str:
    """§5.3 cover upload: the image's URL ("" if the answer lacks it)."""
    kind = "png" if image.startswith(b"\x89PNG") else "jpeg"
    data = call(
        app,
        "POST",
        "/arcopen/fn/archive/cover/upload",
        files={"file": (f"cover.{kind}", image, f"image/{kind}")},
    )
    return str((data or {}).get("url") or "")


def find_archive(app: App, title: str, since: float) -> str | None:
    """§5.3 viewlist: the resource_id of a newest archive of this title made after `since`
    (give or take two minutes), to tell whether a submit whose answer was lost went through."""
    data = call(
        app,
        "GET",
        "/arcopen/fn/archive/viewlist",
        params={"pn": 1, "ps": 20, "status": "all"},
    )
    for item in (data or {}).get("list") or []:
        if item.get("title") == title and int(item.get("ctime") or 0) >= since - 120:
            return str(item.get("resource_id"))
    return None


def archive_body(params: Mapping[str, Any], title: str, cover: str) -> dict[str, Any]:
    """§5.3 add-by-utoken: the archive's body from a job's settings (an
    UploadTemplate.to_dict() snapshot)."""
    return {
        "title": title,
        "cover": cover,
        "tid": int(params.get("tid") or 171),
        "no_reprint": int(params.get("no_reprint") or 0),
        "desc": str(params.get("desc") or "")[:2000],
        "tag": ",".join(params.get("tags") or []),
        "copyright": int(params.get("copyright") or 1),
        "source": str(params.get("source") or "")
        if params.get("copyright") == 2
        else "",
        "topic_id": 0,
    }


def add_by_utoken(app: App, token: str, body: dict[str, Any]) -> str:
    """§5.3 add-by-utoken: submit the video under `token` as an archive; its resource_id (the
    BV id, "" if the answer lacks it)."""
    data = call(
        app,
        "POST",
        "/arcopen/fn/archive/add-by-utoken",
        params={"upload_token": token},
        payload=body,
    )
    return str((data or {}).get("resource_id") or "")
