"""The Open Platform ("arcopen"): member.bilibili.com/arcopen/fn/… and openupos.bilivideo.com.

Both hosts are served on the fake's one port: the business API under /arcopen/fn/, the upload host
under /video/v2/. The flow is init (an upload_token) → chunks or one small upload → complete →
add-by-utoken (a BV resource_id); type/list, user/account/info, archive/view and viewlist read.

Apps and their users' access tokens are made by the controls (OpenPlatformControls, mixed into
FakeBilibili, and the same over HTTP in CONTROL_ROUTES): there is no OAuth consent page here.

Authentication (§5.2), on every business endpoint but complete: either the legacy
`?client_id=&access_token=` query, or the Signature 2.0 headers. Codes, where §5.3 leaves a choice:
127000 when the auth params (or a Signature 2.0 header) are missing, 127012 when they are present
but wrong (signature, content md5, method, version, timestamp outside ±600 s, a nonce used before),
127004 for an unknown client_id, 127001 for an unknown or expired access token (or one issued to
another app). The chunk, small and complete calls need only the upload_token; any auth sent with
them is ignored. The messages are the fake's own: the real ones are not documented.

Invented where the sources are silent:
- chunk and small answer `data:{"etag": md5 hex of the bytes}`; complete answers
  `data:{"upload_token": t}`.
- A small upload (utype 1 only) completes the upload by itself; complete may still be called.
  Chunks are accepted for either utype. A chunk after complete undoes the completion (complete
  again). After submit, the token is used: chunk, small, complete and a second submit all answer
  127100 "upload_token already used".
- A new archive is published at once (state 0, ptime = ctime); the state control sets another.
  viewlist's status: pubed = state ≥ 0, is_pubing = one of IN_REVIEW, not_pubed = the rest.
- Unknown resource_id in view: 127124.

Chunks are stored one file per part in a directory the fake owns (removed on reset and stop), and
written without the fake's lock held: a 1 GiB upload must not stall every other request.

Reference: /work/shared/reference/bilibili-protocol.md §5 (Open Platform), §8 and §9 (IDs);
openplatform-upload-token.txt (the upload_token design).
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import hashlib
import hmac
import os
import random
import secrets
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.fakebili.member import CATEGORIES
from tests.fakebili.submit import av2bv
from tests.fakebili.wire import ControlError, Request, Response, json_response

if TYPE_CHECKING:
    from tests.fakebili.server import State

# §5.2: the signature's timestamp must be within ±10 min of the server's clock.
TIMESTAMP_WINDOW = 600
SIGNED_HEADERS = (
    "x-bili-accesskeyid",
    "x-bili-content-md5",
    "x-bili-signature-method",
    "x-bili-signature-nonce",
    "x-bili-signature-version",
    "x-bili-timestamp",
)
EMPTY_MD5 = hashlib.md5(b"").hexdigest()
# §5.3 recommends mp4 or flv; the fake is lenient and takes any usual video container.
VIDEO_EXTENSIONS = (
    ".mp4",
    ".flv",
    ".mkv",
    ".mov",
    ".ts",
    ".m4v",
    ".webm",
    ".avi",
    ".wmv",
    ".mpg",
    ".mpeg",
    ".3gp",
    ".f4v",
    ".m2ts",
    ".rmvb",
)
TITLE_MAX = 80
TAG_MAX = 200
# Archive states (addit_info.state) and their descriptions, as the creator centre shows them.
STATE_DESC = {
    0: "开放浏览",
    -1: "待审",
    -2: "被打回",
    -4: "被锁定",
    -6: "修复待审",
    -9: "等待转码",
    -16: "转码失败",
    -30: "创建已提交",
    -40: "定时发布",
    -100: "用户删除",
}
IN_REVIEW = {-1, -6, -9, -30, -40}
VIEWLIST_STATUSES = ("all", "is_pubing", "pubed", "not_pubed")

MESSAGES = {
    0: "0",
    127000: "auth params missing",
    127001: "access_token invalid",
    127004: "client_id invalid",
    127009: "quota reached",
    127012: "auth error",
    127022: "upload_token invalid",
    127100: "bad params",
    127102: "bad file type",
    127124: "archive not found",
    127207: "partition unavailable",
}


class ApiError(Exception):
    """An Open Platform error: answered as the §5 envelope with this code."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.message = f"{MESSAGES[code]}: {detail}" if detail else MESSAGES[code]


@dataclass
class App:
    client_id: str
    app_secret: str
    # Submits left before 127009; None: no limit.
    remaining: int | None = None


@dataclass
class AccessToken:
    access_token: str
    refresh_token: str
    client_id: str
    mid: int


@dataclass
class Part:
    size: int
    etag: str
    uploads: int = 0


@dataclass
class Upload:
    upload_token: str
    client_id: str
    mid: int
    name: str
    utype: str
    directory: Path
    # The file name the platform gives the video (openplatform-upload-token.txt: a 32-hex UUID).
    filename: str = field(default_factory=lambda: uuid.uuid4().hex)
    parts: dict[int, Part] = field(default_factory=dict)
    # Set by complete (or a small upload); cleared by a later chunk.
    md5: str | None = None
    size: int | None = None
    resource_id: str | None = None

    def part_path(self, number: int) -> Path:
        return self.directory / f"part-{number}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "upload_token": self.upload_token,
            "client_id": self.client_id,
            "mid": self.mid,
            "name": self.name,
            "utype": self.utype,
            "filename": self.filename,
            "md5": self.md5,
            "size": self.size,
            "completed": self.md5 is not None,
            "resource_id": self.resource_id,
            "parts": [
                {"part_number": n, "size": p.size, "uploads": p.uploads}
                for n, p in sorted(self.parts.items())
            ],
        }


@dataclass
class Archive:
    aid: int
    resource_id: str
    cid: int
    upload: Upload
    # The submit body as received, and the fields read from it.
    body: dict[str, Any]
    title: str
    cover: str
    tid: int
    no_reprint: int
    desc: str
    tag: str
    copyright: int
    source: str
    topic_id: int
    ctime: int
    ptime: int
    state: int = 0
    reject_reason: str = ""

    def to_api(self, base_url: str) -> dict[str, Any]:
        """The §5.3 archive object."""
        return {
            "resource_id": self.resource_id,
            "title": self.title,
            "cover": self.cover,
            "tid": self.tid,
            "no_reprint": self.no_reprint,
            "desc": self.desc,
            "tag": self.tag,
            "copyright": self.copyright,
            "ctime": self.ctime,
            "ptime": self.ptime,
            "video_info": {
                "cid": self.cid,
                "filename": self.upload.filename,
                "duration": 0,
                "iframe_url": f"{base_url}/player.html?bvid={self.resource_id}",
                "share_url": f"{base_url}/video/{self.resource_id}",
            },
            "addit_info": {
                "state": self.state,
                "state_desc": STATE_DESC.get(self.state, ""),
                "reject_reason": self.reject_reason,
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """What the inspect control shows: who submitted what, and the file that came."""
        return {
            "resource_id": self.resource_id,
            "aid": self.aid,
            "cid": self.cid,
            "client_id": self.upload.client_id,
            "mid": self.upload.mid,
            "body": self.body,
            "state": self.state,
            "reject_reason": self.reject_reason,
            "ctime": self.ctime,
            "upload": self.upload.to_dict(),
        }


class OpenPlatformState:
    """Apps, tokens, uploads and archives. Shares the fake's lock."""

    def __init__(self, lock: threading.RLock, now: Callable[[], float]) -> None:
        self.lock = lock
        self.now = now
        self._root: Path | None = None
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.apps: dict[str, App] = {}
            self.tokens: dict[str, AccessToken] = {}
            self.nonces: set[str] = set()
            self.uploads: dict[str, Upload] = {}
            self.archives: dict[str, Archive] = {}
            self.close()

    def close(self) -> None:
        """Remove the stored chunks."""
        with self.lock:
            root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def new_upload(self, token: AccessToken, name: str, utype: str) -> Upload:
        """Lock held."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="fakebili-openplatform-"))
        upload_token = uuid.uuid4().hex
        directory = self._root / upload_token
        directory.mkdir()
        upload = Upload(
            upload_token=upload_token,
            client_id=token.client_id,
            mid=token.mid,
            name=name,
            utype=utype,
            directory=directory,
        )
        self.uploads[upload_token] = upload
        return upload


# Envelope and dispatch


def _envelope(code: int, message: str, data: Any = None) -> Response:
    """§5: the usual envelope plus a request_id, HTTP 200 even for errors."""
    return json_response(
        {
            "code": code,
            "message": message,
            "ttl": 1,
            "request_id": secrets.token_hex(16),
            "data": data,
        }
    )


Handler = Callable[["State", Request], Response]


def _api(handler: Callable[[State, Request], Any]) -> Handler:
    """The handler returns `data`, or raises ApiError: either goes out in the envelope."""

    @functools.wraps(handler)
    def wrapper(state: State, req: Request) -> Response:
        try:
            return _envelope(0, "0", handler(state, req))
        except ApiError as exc:
            return _envelope(exc.code, exc.message)

    return wrapper


# Authentication (§5.2)


def authenticate(op: OpenPlatformState, req: Request) -> AccessToken:
    """The caller's token, by whichever style the request uses. Lock held."""
    if "authorization" in req.headers or "x-bili-accesskeyid" in req.headers:
        return _signed(op, req)
    client_id = req.query.get("client_id", "")
    access_token = req.query.get("access_token", "")
    if not client_id or not access_token:
        raise ApiError(127000, "client_id and access_token, or a Signature 2.0")
    return _token(op, _app(op, client_id), access_token)


def _app(op: OpenPlatformState, client_id: str) -> App:
    app = op.apps.get(client_id)
    if app is None:
        raise ApiError(127004)
    return app


def _token(op: OpenPlatformState, app: App, access_token: str) -> AccessToken:
    token = op.tokens.get(access_token)
    if token is None or token.client_id != app.client_id:
        raise ApiError(127001)
    return token


def _signed(op: OpenPlatformState, req: Request) -> AccessToken:
    headers = req.headers
    missing = [
        name
        for name in (*SIGNED_HEADERS, "access-token", "authorization")
        if not headers.get(name)
    ]
    if missing:
        raise ApiError(127000, ", ".join(missing))
    app = _app(op, headers["x-bili-accesskeyid"])
    if headers["x-bili-signature-method"].upper() != "HMAC-SHA256":
        raise ApiError(127012, "x-bili-signature-method must be HMAC-SHA256")
    if headers["x-bili-signature-version"] != "2.0":
        raise ApiError(127012, "x-bili-signature-version must be 2.0")
    try:
        timestamp = int(headers["x-bili-timestamp"])
    except ValueError:
        raise ApiError(127012, "bad x-bili-timestamp") from None
    # The state's clock, which the tests can move: see server.State.now.
    if abs(timestamp - op.now()) > TIMESTAMP_WINDOW:
        raise ApiError(127012, "x-bili-timestamp out of range")
    # §5.2: file bytes are excluded, so a multipart body hashes as "" (its md5 is also taken).
    body_md5s = {hashlib.md5(req.body).hexdigest()}
    if "multipart/form-data" in headers.get("content-type", ""):
        body_md5s.add(EMPTY_MD5)
    if headers["x-bili-content-md5"].lower() not in body_md5s:
        raise ApiError(127012, "x-bili-content-md5 does not match the body")
    if not _signature_ok(app, headers):
        raise ApiError(127012, "signature mismatch")
    nonce = headers["x-bili-signature-nonce"]
    if nonce in op.nonces:
        raise ApiError(127012, "x-bili-signature-nonce already used")
    op.nonces.add(nonce)
    return _token(op, app, headers["access-token"])


def _signature_ok(app: App, headers: dict[str, str]) -> bool:
    # Signed over every x-bili-* header sent, as documented; a client that adds one of its own
    # but signs only the six standard ones is accepted too.
    every = sorted(name for name in headers if name.startswith("x-bili-"))
    sent = headers["authorization"].lower()
    for names in (every, SIGNED_HEADERS):
        text = "\n".join(f"{name}:{headers[name]}" for name in names)
        digest = hmac.new(app.app_secret.encode(), text.encode(), hashlib.sha256)
        if hmac.compare_digest(digest.hexdigest(), sent):
            return True
    return False


# Upload: init, chunks, small, complete


def _json_body(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ApiError(127100, "the body must be a JSON object")
    return body


@_api
def init(state: State, req: Request) -> dict[str, Any]:
    token = authenticate(state.openplatform, req)
    # Lenient: a form body is read too.
    body: dict[str, Any] = req.form or _json_body(req)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(127100, "name is required")
    if not name.lower().endswith(VIDEO_EXTENSIONS):
        raise ApiError(127102, f"{name!r} is not a video file")
    utype = str(body.get("utype", "0"))
    if utype not in ("0", "1"):
        raise ApiError(127100, "utype must be 0 or 1")
    upload = state.openplatform.new_upload(token, name, utype)
    return {"upload_token": upload.upload_token}


def _upload(op: OpenPlatformState, req: Request) -> Upload:
    """The request's upload, not yet submitted. Lock held."""
    upload = op.uploads.get(req.query.get("upload_token", ""))
    if upload is None:
        raise ApiError(127022)
    if upload.resource_id is not None:
        raise ApiError(127100, "upload_token already used")
    return upload


def _store(state: State, req: Request, number: int, *, small: bool) -> dict[str, Any]:
    """Write one part's bytes outside the lock, then record it. Lock not held."""
    op = state.openplatform
    if not req.body:
        raise ApiError(127100, "the body is empty")
    with state.lock:
        upload = _upload(op, req)
        if small and upload.utype != "1":
            raise ApiError(127100, "upload_token was initialized for chunks (utype 0)")
    path = upload.part_path(number)
    # A temporary name, then a rename: a re-send racing the first copy never mixes the two.
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}")
    try:
        temporary.write_bytes(req.body)
        os.replace(temporary, path)
    except OSError:
        # The fake was reset meanwhile: the upload and its directory are gone.
        raise ApiError(127022) from None
    etag = hashlib.md5(req.body).hexdigest()
    with state.lock:
        if op.uploads.get(upload.upload_token) is not upload:
            raise ApiError(127022)
        if small:
            for other in set(upload.parts) - {number}:
                del upload.parts[other]
        uploads = upload.parts[number].uploads if number in upload.parts else 0
        upload.parts[number] = Part(size=len(req.body), etag=etag, uploads=uploads + 1)
        if small:
            upload.md5, upload.size = etag, len(req.body)
        else:
            upload.md5 = upload.size = None
    return {"etag": etag}


@_api
def part_upload(state: State, req: Request) -> dict[str, Any]:
    try:
        number = int(req.query.get("part_number", ""))
    except ValueError:
        number = 0
    if number < 1:
        raise ApiError(127100, "part_number must be an integer, 1 or more")
    return _store(state, req, number, small=False)


@_api
def small_upload(state: State, req: Request) -> dict[str, Any]:
    return _store(state, req, 1, small=True)


@_api
def complete(state: State, req: Request) -> dict[str, Any]:
    """Check parts 1..N are all there, then hash them in order outside the lock."""
    op = state.openplatform
    with state.lock:
        upload = _upload(op, req)
        numbers = sorted(upload.parts)
        if not numbers:
            raise ApiError(127100, "no parts uploaded")
        if numbers != list(range(1, len(numbers) + 1)):
            missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
            raise ApiError(127100, f"parts missing: {missing}")
    digest = hashlib.md5()
    size = 0
    try:
        for number in numbers:
            with upload.part_path(number).open("rb") as part:
                while chunk := part.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
    except OSError:
        raise ApiError(127022) from None
    with state.lock:
        if op.uploads.get(upload.upload_token) is not upload:
            raise ApiError(127022)
        upload.md5, upload.size = digest.hexdigest(), size
    return {"upload_token": upload.upload_token}


# Cover


def _multipart_file(req: Request, name: str) -> bytes | None:
    """The bytes of form field `name` in a multipart/form-data body, if there is one."""
    content_type = req.headers.get("content-type", "")
    if "multipart/form-data" not in content_type:
        return None
    # The stdlib email parser reads MIME multipart (the cgi module is deprecated).
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + req.body
    )
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


@_api
def cover_upload(state: State, req: Request) -> dict[str, Any]:
    authenticate(state.openplatform, req)
    image = _multipart_file(req, "file")
    if not image:
        raise ApiError(127100, "file is required (multipart/form-data)")
    if not image.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        raise ApiError(127102, "the cover must be a JPEG or PNG image")
    return {"url": f"{req.base_url}/bfs/archive/{hashlib.sha1(image).hexdigest()}.jpg"}


# Submit


CHILD_TIDS = {child[0] for *_, children in CATEGORIES for child in children}


def _int_field(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if value is None or value == "":
        raise ApiError(127100, f"{name} is required")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(127100, f"{name} must be an integer") from None


def _str_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(127100, f"{name} must be a string")
    return value


def _check_submit(body: dict[str, Any]) -> dict[str, Any]:
    """The archive's fields from a submit body (§5.3), or ApiError naming the bad field."""
    title = _str_field(body, "title").strip()
    if not title:
        raise ApiError(127100, "title is required")
    if len(title) > TITLE_MAX:
        raise ApiError(127100, f"title is longer than {TITLE_MAX} characters")
    tid = _int_field(body, "tid")
    if tid not in CHILD_TIDS:
        raise ApiError(127207, f"tid {tid}")
    tag = _str_field(body, "tag").strip()
    if not tag.strip(", "):
        raise ApiError(127100, "tag is required")
    if len(tag) >= TAG_MAX:
        raise ApiError(127100, f"tag must be under {TAG_MAX} characters in all")
    copyright = _int_field(body, "copyright")
    if copyright not in (1, 2):
        raise ApiError(127100, "copyright must be 1 or 2")
    source = _str_field(body, "source").strip()
    if copyright == 2 and not source:
        raise ApiError(127100, "source is required when copyright is 2")
    no_reprint = _int_field(body, "no_reprint", 0)
    if no_reprint not in (0, 1):
        raise ApiError(127100, "no_reprint must be 0 or 1")
    return {
        "title": title,
        "cover": _str_field(body, "cover"),
        "tid": tid,
        "no_reprint": no_reprint,
        "desc": _str_field(body, "desc"),
        "tag": tag,
        "copyright": copyright,
        "source": source,
        "topic_id": _int_field(body, "topic_id", 0),
    }


@_api
def add_by_utoken(state: State, req: Request) -> dict[str, Any]:
    op = state.openplatform
    token = authenticate(op, req)
    upload = _upload(op, req)
    if (upload.client_id, upload.mid) != (token.client_id, token.mid):
        raise ApiError(127022, "issued to another app or user")
    if upload.md5 is None:
        raise ApiError(127100, "the upload is not completed")
    body = _json_body(req)
    fields = _check_submit(body)
    app = op.apps[token.client_id]
    if app.remaining is not None:
        if app.remaining <= 0:
            raise ApiError(127009)
        app.remaining -= 1
    aid = random.randrange(10**14, 1 << 50)
    now = int(state.now())
    archive = Archive(
        aid=aid,
        resource_id=av2bv(aid),
        cid=random.randrange(10**10, 10**11),
        upload=upload,
        body=body,
        ctime=now,
        ptime=now,
        **fields,
    )
    upload.resource_id = archive.resource_id
    op.archives[archive.resource_id] = archive
    return {"resource_id": archive.resource_id}


# Reading: categories, user, archives


@_api
def type_list(state: State, req: Request) -> list[dict[str, Any]]:
    authenticate(state.openplatform, req)
    return [
        {
            "id": parent_id,
            "parent": 0,
            "name": name,
            "description": name,
            "children": [
                {
                    "id": child_id,
                    "parent": parent_id,
                    "name": child,
                    "description": desc,
                }
                for child_id, child, _, desc in children
            ],
        }
        for parent_id, name, _, children in CATEGORIES
    ]


@_api
def account_info(state: State, req: Request) -> dict[str, Any]:
    token = authenticate(state.openplatform, req)
    account = state.account(token.mid)
    # An openid is per app and user; the same pair always gets the same one.
    openid = hashlib.md5(f"{token.client_id}:{token.mid}".encode()).hexdigest()
    return {
        "name": account.uname,
        "face": req.base_url + account.face_path,
        "openid": openid,
    }


@_api
def view(state: State, req: Request) -> dict[str, Any]:
    token = authenticate(state.openplatform, req)
    resource_id = req.query.get("resource_id", "")
    if not resource_id:
        raise ApiError(127100, "resource_id is required")
    archive = state.openplatform.archives.get(resource_id)
    if archive is None or archive.upload.mid != token.mid:
        raise ApiError(127124)
    return archive.to_api(req.base_url)


def _matches(archive: Archive, status: str) -> bool:
    if status == "pubed":
        return archive.state >= 0
    if status == "is_pubing":
        return archive.state in IN_REVIEW
    if status == "not_pubed":
        return archive.state < 0 and archive.state not in IN_REVIEW
    return True


@_api
def viewlist(state: State, req: Request) -> dict[str, Any]:
    token = authenticate(state.openplatform, req)
    try:
        pn = int(req.query.get("pn", "1"))
        ps = int(req.query.get("ps", "20"))
    except ValueError:
        raise ApiError(127100, "pn and ps must be integers") from None
    if pn < 1 or not 1 <= ps <= 100:
        raise ApiError(127100, "pn must be 1 or more, ps 1 to 100")
    status = req.query.get("status", "all")
    if status not in VIEWLIST_STATUSES:
        raise ApiError(127100, f"status must be one of {', '.join(VIEWLIST_STATUSES)}")
    # Newest first; dicts keep submit order, which breaks ctime ties.
    archives = [
        a
        for a in reversed(state.openplatform.archives.values())
        if a.upload.mid == token.mid and _matches(a, status)
    ]
    archives.sort(key=lambda a: a.ctime, reverse=True)
    page = archives[(pn - 1) * ps : pn * ps]
    return {
        "list": [a.to_api(req.base_url) for a in page],
        "page": {"pn": pn, "ps": ps, "total": len(archives)},
    }


ROUTES = {
    ("POST", "/arcopen/fn/archive/video/init"): init,
    ("POST", "/video/v2/part/upload"): part_upload,
    ("POST", "/video/v2/upload"): small_upload,
    ("POST", "/arcopen/fn/archive/video/complete"): complete,
    ("POST", "/arcopen/fn/archive/cover/upload"): cover_upload,
    ("POST", "/arcopen/fn/archive/add-by-utoken"): add_by_utoken,
    ("GET", "/arcopen/fn/archive/type/list"): type_list,
    ("GET", "/arcopen/fn/user/account/info"): account_info,
    ("GET", "/arcopen/fn/archive/view"): view,
    ("GET", "/arcopen/fn/archive/viewlist"): viewlist,
}
# These take the fake's lock themselves, around their bookkeeping only: they move file bytes.
UNLOCKED = {part_upload, small_upload, complete}


# Controls


class OpenPlatformControls:
    """The Open Platform's controls, mixed into FakeBilibili (which provides `state`)."""

    state: State

    def openplatform_app(
        self, client_id: str, app_secret: str, mid: int
    ) -> dict[str, Any]:
        """Create the app `client_id` if new (else set its secret), and issue a fresh access
        token for user `mid` (the account is created if new)."""
        if not client_id or not app_secret:
            raise ControlError("client_id and app_secret must not be empty")
        op = self.state.openplatform
        with self.state.lock:
            self.state.account(int(mid))
            app = op.apps.setdefault(client_id, App(client_id, app_secret))
            app.app_secret = app_secret
            token = AccessToken(
                access_token=secrets.token_hex(16),
                refresh_token=secrets.token_hex(16),
                client_id=client_id,
                mid=int(mid),
            )
            op.tokens[token.access_token] = token
            return {
                "client_id": client_id,
                "app_secret": app_secret,
                "access_token": token.access_token,
                "refresh_token": token.refresh_token,
            }

    def openplatform_expire(self, access_token: str) -> None:
        """The token stops working now: 127001."""
        with self.state.lock:
            if self.state.openplatform.tokens.pop(access_token, None) is None:
                raise ControlError(f"no access token {access_token!r}", 404)

    def openplatform_quota(self, client_id: str, remaining: int | None) -> None:
        """The app may submit `remaining` more archives, then gets 127009 (None: no limit)."""
        with self.state.lock:
            app = self.state.openplatform.apps.get(client_id)
            if app is None:
                raise ControlError(f"no app {client_id!r}", 404)
            app.remaining = None if remaining is None else int(remaining)

    def openplatform_uploads(self) -> list[dict[str, Any]]:
        """Every upload_token, submitted or not, oldest first."""
        with self.state.lock:
            return [u.to_dict() for u in self.state.openplatform.uploads.values()]

    def openplatform_archives(self) -> list[dict[str, Any]]:
        """Every submitted archive, oldest first."""
        with self.state.lock:
            return [a.to_dict() for a in self.state.openplatform.archives.values()]

    def openplatform_set_state(
        self, resource_id: str, state: int, reject_reason: str = ""
    ) -> dict[str, Any]:
        """Review an archive: addit_info.state (STATE_DESC) and reject_reason."""
        with self.state.lock:
            archive = self.state.openplatform.archives.get(resource_id)
            if archive is None:
                raise ControlError(f"no archive {resource_id!r}", 404)
            archive.state = int(state)
            archive.reject_reason = str(reject_reason)
            return archive.to_dict()


_OP = "/_fake/openplatform"
# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    (
        "POST",
        _OP + "/apps",
        lambda f, b: f.openplatform_app(b["client_id"], b["app_secret"], b["mid"]),
    ),
    (
        "POST",
        _OP + "/expire",
        lambda f, b: f.openplatform_expire(b["access_token"]),
    ),
    (
        "POST",
        _OP + "/quota",
        lambda f, b: f.openplatform_quota(b["client_id"], b["remaining"]),
    ),
    ("GET", _OP + "/uploads", lambda f, b: {"uploads": f.openplatform_uploads()}),
    ("GET", _OP + "/archives", lambda f, b: {"archives": f.openplatform_archives()}),
    (
        "POST",
        _OP + r"/archives/(?P<resource_id>[^/]+)/state",
        lambda f, b, resource_id: f.openplatform_set_state(resource_id, **b),
    ),
]
