"""UPOS, the upload CDN (upos-cs-upcdn<line>.bilivideo.com), and member's /preupload.

Preupload hands out endpoints shaped like the real ones, `//upos-cs-upcdn<line>.bilivideo.com`
(the probe's probe_urls too). They are not reachable from a test, so the client aims them at the
fake with its host setting, BILIUP_BILIBILI_UPOS_URL=<the fake's URL>, which keeps the host as the
first path segment: `<fake>/upos-cs-upcdnbda2.bilivideo.com/ugcfx2lf/n….mkv` (local_url() does
the same for tests). The fake serves every line on its one port from that path, so it sees which
line the client chose and where it sent each chunk (Upload.puts_by_line); any line name of
[a-z0-9]+ is served, the probe offers PROBE_LINES, and the lines are fronts of one store: any line
serves any upload, and a client may switch lines in the middle of a file.

Flow (§3): GET /preupload?r=probe → GET /preupload (web cookies: an upos_uri, its X-Upos-Auth and
chunk_size) → POST <endpoint>/<bucket>/<key>?uploads&output=json (an upload id) → PUT chunks, in
any order and at once → POST …?output=json&uploadId=…&biz_id=… (complete). The completed file is
then known to submit (submit.py) by its filename, the stem of upos_uri, for its owner's mid.

Every call to a UPOS host but the probe's /OK needs `X-Upos-Auth` equal to that upos_uri's
auth (HTTP 403 otherwise); once the auth is over 5 days old (the fake's clock) the answer is 403
with the header `X-Upos-Auth: AUTH_TS_GT_5DAY`. Chunks are checked against the preupload (part
number, offsets, sizes, totals: HTTP 400 with the reason as plain text; an unknown upload id: 404)
and written at their offset into one file per upload id, in a directory the fake owns (removed on
reset and stop). The chunk PUT, the probe and complete run without the fake's lock (UNLOCKED),
taking it around their bookkeeping only: a 1 GiB upload sends 8 chunks at once, a slow line's
probe sleeps, and complete hashes the whole file.

Strict rule "preupload_budget" (strict.py; bilibili-2026.md "Upload and submit"): more than
PREUPLOAD_BUDGET preuploads granted to one account within an hour of the fake's clock are refused
in the rate-limit style set by upos_rate_limit (HTTP 406 by default, or 601). Refused ones do not
count; with the rule off they are counted but never refused. BCut's preuploads
(profile=ugcfx/bcut-pc, bcut.py) neither count nor are refused by it: they have their own
identity rule and throttle control, and no budget.

Controls (UposControls, mixed into FakeBilibili, and CONTROL_ROUTES): chunk faults (a failure
rate, the next N, given part numbers, a delay, cut connections), per-line probe delays, the
chunk size, preupload's rate limit in either style, and the uploads and completed files; the
limit on chunk PUTs at once per upload is upos_limits.py's.

Reference: /work/shared/reference/bilibili-protocol.md §3.1–§3.7, §8 (the upload rate limit) and
§9 "UPOS"; bilibili-2026.md (the hourly budget). Invented where the sources are silent: the auth
string's sign, uip and uport; the object name's random part (25 characters, as in the example)
and its date (China time); the answers to bad calls (404/400/403 bodies, OK:0 infos, a missing
size); init answering JSON even without output=json; a second complete of the same upload id
answering OK:1 again; the host of a line the probe does not offer (upos-cs-upcdn<line>
.bilivideo.com, though biliup's cn*/an*/at* lines live on other domains); a budget of exactly 20
in a sliding hour.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import random
import re
import secrets
import shutil
import string
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from tests.fakebili import bcut, upos_limits
from tests.fakebili.wire import (
    ControlError,
    Request,
    Response,
    error_page,
    fail,
    json_response,
)

if TYPE_CHECKING:
    from tests.fakebili.server import State

BUCKET = "ugcfx2lf"
# §3.2: what the probe offers, biliup's default first.
PROBE_LINES = ("bda2", "bldsa", "tx", "txa", "alia")
DEFAULT_LINE = "bda2"
LINE_NAME = re.compile(r"[a-z0-9]+")
# §3.1: a line's host; the fake serves it at /<host>/… (local_url).
UPOS_HOST = "upos-cs-upcdn{line}.bilivideo.com"
UPOS_PATH = re.compile(
    r"/upos-(?P<zone>[a-z]+)-upcdn(?P<line>[a-z0-9]+)\.bilivideo\.com/(?P<rest>.*)"
)
DEFAULT_CHUNK_SIZE = 10485760
# §3.3: the auth is good for 5 days.
AUTH_SECONDS = 5 * 86400
RATE_LIMIT_INFO = "您上传视频过快，请您稍作休息…"
RATE_LIMIT_STYLES = ("406", "601")
# bilibili-2026.md: about 20 files an hour per account since 2025-12.
PREUPLOAD_BUDGET = 20
BUDGET_SECONDS = 3600.0
UIP = "127.0.0.1"
NAME_CHARS = string.ascii_lowercase + string.digits


@dataclass
class Preupload:
    """One file announced by preupload: its object, auth, owner and sizes."""

    key: str  # the object name, "n240728ad1p51if4g3ke4s3o95sznogy.mkv"
    name: str  # the client's file name
    mid: int
    size: int
    auth: str
    biz_id: int
    chunk_size: int
    created_at: float
    # The profile preupload was asked for: the route (web or BCut) the file came by.
    profile: str = "ugcupos/bup"

    @property
    def upos_uri(self) -> str:
        return f"upos://{BUCKET}/{self.key}"

    @property
    def filename(self) -> str:
        """§3.7: what submit knows the file by, the stem of upos_uri."""
        return PurePosixPath(self.key).stem

    @property
    def chunks(self) -> int:
        return math.ceil(self.size / self.chunk_size)


@dataclass
class Upload:
    """One multipart upload (an init's upload_id) of a preuploaded file."""

    upload_id: str
    file: Preupload
    path: Path  # the bytes received so far, each chunk at its offset
    parts: dict[int, int] = field(default_factory=dict)  # part number → bytes written
    puts: int = 0  # chunk PUTs received, re-sends and failed ones included
    puts_by_part: dict[int, int] = field(default_factory=dict)
    # Which line (the host the client chose, after its host setting) each PUT came in on.
    puts_by_line: dict[str, int] = field(default_factory=dict)
    complete: bool = False

    def count_put(self, part: int | None, line: str) -> None:
        self.puts += 1
        if part is not None:
            self.puts_by_part[part] = self.puts_by_part.get(part, 0) + 1
        self.puts_by_line[line] = self.puts_by_line.get(line, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "upos_uri": self.file.upos_uri,
            "filename": self.file.filename,
            "name": self.file.name,
            "profile": self.file.profile,
            "size": self.file.size,
            "chunk_size": self.file.chunk_size,
            "chunks": self.file.chunks,
            "puts": self.puts,
            "puts_by_part": dict(sorted(self.puts_by_part.items())),
            "puts_by_line": dict(sorted(self.puts_by_line.items())),
            "received_parts": sorted(self.parts),
            "complete": self.complete,
        }


@dataclass
class UposFile:
    """A completed upload, ready to be submitted by its owner."""

    filename: str
    name: str
    mid: int
    size: int
    md5: str
    biz_id: int


@dataclass
class ChunkFaults:
    """What spoils chunk PUTs (and only those): see UposControls.set_upos_faults."""

    fail_rate: float = 0.0
    fail_next: int = 0
    fail_parts: set[int] = field(default_factory=set)
    delay: float = 0.0
    cut_next: int = 0
    status: int = 503
    rng: random.Random = field(default_factory=random.Random)

    def take(self, part: int | None) -> int | None:
        """The HTTP status this PUT fails with, or None; counts it as used."""
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.status
        if part in self.fail_parts:
            self.fail_parts.discard(part)
            return self.status
        if self.fail_rate and self.rng.random() < self.fail_rate:
            return self.status
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fail_rate": self.fail_rate,
            "fail_next": self.fail_next,
            "fail_parts": sorted(self.fail_parts),
            "delay": self.delay,
            "cut_next": self.cut_next,
            "status": self.status,
        }


class UposState:
    """Preuploads, uploads and completed files. Shares the fake's lock; the chunks' bytes are
    in files under a temporary directory the fake owns, made on first use."""

    def __init__(self, lock: threading.RLock, now: Callable[[], float]) -> None:
        self.lock = lock
        self.now = now
        # Set on close: wakes sleeping probes and chunk PUTs.
        self.closed = threading.Event()
        self._root: Path | None = None
        # Unique across resets, so a cid never names two archives' parts.
        self._biz_ids = itertools.count(500001630152509 + secrets.randbelow(10**9))
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.preuploads: dict[str, Preupload] = {}  # by object name (key)
            self.uploads: dict[str, Upload] = {}  # by upload id
            self.files: dict[str, UposFile] = {}  # completed, by filename
            self.chunk_size = DEFAULT_CHUNK_SIZE
            self.probe_delays: dict[str, float] = {}
            self.faults = ChunkFaults()
            self.rate_limit = 0
            self.rate_limit_style = "406"
            self.bcut_rate_limit = 0  # bcut.py
            # When each account's granted preuploads were made (the fake's clock).
            self.granted: dict[int, list[float]] = {}
            # upos_limits.py: chunk PUTs at once per upload id, beyond which they are refused.
            self.max_connections = 0
            self.refusal_status = 429
            self.active: dict[str, int] = {}
            self.peak: dict[str, int] = {}
            self.refused = 0
            self._remove_files()

    def close(self) -> None:
        self.closed.set()
        with self.lock:
            self._remove_files()

    def _remove_files(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def new_upload(self, file: Preupload) -> Upload:
        """An init: a new upload id with an empty data file. Lock held."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="fakebili-upos-"))
        upload_id = str(uuid.uuid4())
        path = self._root / f"{upload_id}.part"
        path.touch()
        upload = self.uploads[upload_id] = Upload(upload_id, file, path)
        return upload

    def next_biz_id(self) -> int:
        return next(self._biz_ids)


def _text(
    status: int, text: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(
        status=status,
        body=text.encode(),
        content_type="text/plain; charset=utf-8",
        headers=headers or [],
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def endpoint(line: str) -> str:
    """§3.3: a line's endpoint as the real preupload gives it, scheme-less."""
    return "//" + UPOS_HOST.format(line=line)


def local_url(base_url: str, endpoint: str, path: str = "") -> str:
    """Where the fake at `base_url` serves a scheme-less UPOS address: what the product's
    BILIUP_BILIBILI_UPOS_URL=<base_url> makes of it (the host becomes the first path segment)."""
    return f"{base_url}/{endpoint.removeprefix('//')}{path}"


def _line_query(line: str) -> str:
    return f"probe_version=20221109&upcdn={line}&zone=cs"


# §3.1 Probe, §3.3 Preupload (member host)


def preupload(state: State, req: Request) -> Response:
    """GET /preupload: the probe's line list with r=probe, else a new upload (r=upos)."""
    if req.query.get("r") == "probe":
        lines = [
            {
                "os": "upos",
                "query": _line_query(line),
                "probe_url": f"{endpoint(line)}/OK",
            }
            for line in PROBE_LINES
        ]
        return json_response({"OK": 1, "lines": lines, "probe": {"post": 0.1}})
    session = state.session_for(req)
    if session is None:
        return fail(-101)
    upos = state.upos
    now = state.now()
    via_bcut = bcut.is_bcut(req)
    granted = [t for t in upos.granted.get(session.mid, []) if now - t < BUDGET_SECONDS]
    if via_bcut:
        # BCut's preuploads have no budget and leave the web's untouched (bcut.py).
        refused = bcut.identity_refusal(state, req)
        if refused is not None:
            return refused
        if bcut.take_throttle(state):
            return _throttled("406")
    else:
        if upos.rate_limit > 0:
            upos.rate_limit -= 1
            return _throttled(upos.rate_limit_style)
        upos.granted[session.mid] = granted
        if state.rules["preupload_budget"] and len(granted) >= PREUPLOAD_BUDGET:
            return _throttled(upos.rate_limit_style)
    size = _int(req.query.get("size"))
    if size is None or size < 0:
        return json_response({"OK": 0, "info": "size 参数错误"}, status=400)
    line = req.query.get("upcdn", "")
    if not LINE_NAME.fullmatch(line):
        line = DEFAULT_LINE
    name = req.query.get("name", "")
    # §3.3: n<yymmdd><random>.<ext>; the date is China's (UTC+8).
    day = time.strftime("%y%m%d", time.gmtime(now + 8 * 3600))
    random_part = "".join(secrets.choice(NAME_CHARS) for _ in range(25))
    key = f"n{day}{random_part}{PurePosixPath(name).suffix.lower()}"
    chosen = endpoint(line)
    auth = "&".join(
        [
            "ak=1494471752",
            f"cdn={quote(chosen, safe='')}",
            "os=upos",
            f"sign={secrets.token_hex(16)}",
            f"timestamp={now:.3f}",
            f"uid={session.mid}",
            f"uip={UIP}",
            f"uport={secrets.randbelow(40000) + 20000}",
            "use_dqp=0",
        ]
    )
    file = upos.preuploads[key] = Preupload(
        key=key,
        name=name,
        mid=session.mid,
        size=size,
        auth=auth,
        biz_id=upos.next_biz_id(),
        chunk_size=upos.chunk_size,
        created_at=now,
        profile=bcut.PROFILE if via_bcut else "ugcupos/bup",
    )
    if not via_bcut:
        granted.append(now)
    others = [other for other in PROBE_LINES if other != line][:2]
    return json_response(
        {
            "OK": 1,
            "auth": auth,
            "biz_id": file.biz_id,
            "chunk_retry": 10,
            "chunk_retry_delay": 3,
            "chunk_size": file.chunk_size,
            "endpoint": chosen,
            "endpoints": [chosen, *(endpoint(other) for other in others)],
            "expose_params": None,
            "put_query": "os=upos&profile=" + quote(file.profile, safe=""),
            "threads": 3,
            "timeout": 1200,
            "uip": UIP,
            "upos_uri": file.upos_uri,
        }
    )


def _throttled(style: str) -> Response:
    """§3.3, §8: preupload's "too fast", in the style the controls set."""
    if style == "601":
        return json_response({"code": 601, "message": "上传过快", "OK": 0})
    return json_response({"OK": 0, "info": RATE_LIMIT_INFO}, status=406)


# The UPOS hosts, at /upos-<zone>-upcdn<line>.bilivideo.com/: OK, init, chunks, complete


def _authorize(state: State, req: Request, rest: str) -> Preupload | Response:
    """The preuploaded file `rest` (<bucket>/<key>) names, if the request's auth is good for
    it; else the refusal. Lock held."""
    bucket, _, key = rest.partition("/")
    file = state.upos.preuploads.get(key)
    if bucket != BUCKET or file is None:
        return _text(404, f"no such object: {rest}")
    if req.headers.get("x-upos-auth") != file.auth:
        return _text(403, "X-Upos-Auth missing or wrong")
    if state.now() - file.created_at > AUTH_SECONDS:
        return _text(
            403, "AUTH_TS_GT_5DAY", headers=[("X-Upos-Auth", "AUTH_TS_GT_5DAY")]
        )
    return file


def serve(state: State, req: Request) -> Response:
    """GET|POST /<upos host>/…: the probe target, init and complete. Lock not held."""
    match = UPOS_PATH.fullmatch(req.path)
    if match is None:
        return _text(404, "no such line")
    line, rest = match["line"], match["rest"]
    if rest == "OK":
        with state.lock:
            delay = state.upos.probe_delays.get(line, 0.0)
        if delay:
            state.upos.closed.wait(delay)
        return _text(200, "OK")
    if req.method != "POST":
        return _text(405, "method not allowed")
    with state.lock:
        file = _authorize(state, req, rest)
        if isinstance(file, Response):
            return file
        if "uploads" in req.query:
            upload = state.upos.new_upload(file)
            return json_response(
                {
                    "OK": 1,
                    "bucket": BUCKET,
                    "key": f"/{file.key}",
                    "upload_id": upload.upload_id,
                }
            )
        if "uploadId" not in req.query:
            return _text(400, "neither uploads nor uploadId")
        checked = _check_complete(state, req, file)
        if isinstance(checked, str):
            return json_response({"OK": 0, "info": checked})
        if checked.complete:
            return _completed(file)
    # Hash outside the lock: a big file takes seconds.
    try:
        md5 = _md5(checked.path)
    except FileNotFoundError:
        return json_response({"OK": 0, "info": "upload gone"})
    with state.lock:
        if state.upos.uploads.get(checked.upload_id) is not checked:
            return json_response({"OK": 0, "info": "upload gone"})
        checked.complete = True
        state.upos.files[file.filename] = UposFile(
            filename=file.filename,
            name=file.name,
            mid=file.mid,
            size=file.size,
            md5=md5,
            biz_id=file.biz_id,
        )
    return _completed(file)


def _completed(file: Preupload) -> Response:
    return json_response(
        {
            "OK": 1,
            "location": f"{BUCKET}/{file.key}",
            "bucket": BUCKET,
            "key": f"/{file.key}",
        }
    )


def _check_complete(state: State, req: Request, file: Preupload) -> Upload | str:
    """§3.6, §9: the upload, if its parts 1..N are all there and add up; else why not."""
    upload = state.upos.uploads.get(req.query.get("uploadId", ""))
    if upload is None or upload.file is not file:
        return "no such upload"
    if req.query.get("biz_id") != str(file.biz_id):
        return f"biz_id {req.query.get('biz_id')!r} is not this upload's"
    try:
        parts = req.json()["parts"]
        numbers = sorted(int(part["partNumber"]) for part in parts)
    except (ValueError, KeyError, TypeError):
        return 'the body must be {"parts":[{"partNumber":n,"eTag":"etag"},…]}'
    expected = list(range(1, file.chunks + 1))
    if numbers != expected:
        return f"parts must be 1..{file.chunks}, each once; got {numbers}"
    missing = [n for n in expected if n not in upload.parts]
    if missing:
        return f"parts never received: {missing}"
    received = sum(upload.parts.values())
    if received != file.size:
        return f"parts hold {received} bytes, the file has {file.size}"
    return upload


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


CHUNK_PARAMS = ("partNumber", "chunk", "chunks", "size", "start", "end", "total")


def _check_chunk(upload: Upload, req: Request) -> dict[str, int] | str:
    """§3.5: the chunk's parameters, if they agree with the upload and the body; else why not."""
    params: dict[str, int] = {}
    for name in CHUNK_PARAMS:
        value = _int(req.query.get(name))
        if value is None:
            return f"{name} is missing or not an integer"
        params[name] = value
    file, index = upload.file, params["chunk"]
    if params["total"] != file.size:
        return f"total is {params['total']}, preupload said {file.size}"
    if params["chunks"] != file.chunks:
        return f"chunks is {params['chunks']}, ceil(total/chunk_size) is {file.chunks}"
    if not 0 <= index < file.chunks:
        return f"chunk {index} is out of range 0..{file.chunks - 1}"
    if params["partNumber"] != index + 1:
        return f"partNumber is {params['partNumber']}, chunk+1 is {index + 1}"
    if params["start"] != index * file.chunk_size:
        return (
            f"start is {params['start']}, chunk*chunk_size is {index * file.chunk_size}"
        )
    if params["end"] - params["start"] != params["size"]:
        return (
            f"end-start is {params['end'] - params['start']}, size is {params['size']}"
        )
    if params["size"] != len(req.body):
        return f"size is {params['size']}, the body has {len(req.body)} bytes"
    expected = min(file.chunk_size, file.size - params["start"])
    if params["size"] != expected:
        return f"chunk {index} has {params['size']} bytes, it should have {expected}"
    return params


def put_chunk(state: State, req: Request) -> Response:
    """PUT /<upos host>/<bucket>/<key>?partNumber=…: one chunk. Lock not held: the bytes are
    written outside it, so chunks of a big file go in at once."""
    match = UPOS_PATH.fullmatch(req.path)
    if match is None:
        return _text(404, "no such line")
    upos = state.upos
    with state.lock:
        file = _authorize(state, req, match["rest"])
        if isinstance(file, Response):
            return file
        upload = upos.uploads.get(req.query.get("uploadId", ""))
        if upload is None or upload.file is not file:
            return _text(404, "no such upload")
        upload.count_put(_int(req.query.get("partNumber")), match["line"])
        failed = upos.faults.take(_int(req.query.get("partNumber")))
        delay = upos.faults.delay
        checked = _check_chunk(upload, req)
    if delay:
        upos.closed.wait(delay)
    if failed is not None:
        return error_page(failed)
    if isinstance(checked, str):
        return _text(400, checked)
    try:
        _write_at(upload.path, checked["start"], req.body)
    except FileNotFoundError:
        # A reset removed the upload meanwhile.
        return _text(404, "no such upload")
    with state.lock:
        if upos.uploads.get(upload.upload_id) is upload:
            upload.parts[checked["partNumber"]] = len(req.body)
    return _text(200, "MULTIPART_PUT_SUCCESS")


def _write_at(path: Path, offset: int, data: bytes) -> None:
    # No O_CREAT: a file removed by reset stays removed.
    fd = os.open(path, os.O_WRONLY)
    try:
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
    finally:
        os.close(fd)


def take_cut(state: State, target: str) -> bool:
    """Whether the chunk PUT to `target` (path and query) is one of the next `cut_next`: the
    server then reads half its body and resets the connection. It counts as a PUT."""
    path, _, query_string = target.partition("?")
    query = dict(parse_qsl(query_string, keep_blank_values=True))
    match = UPOS_PATH.fullmatch(path)
    with state.lock:
        faults = state.upos.faults
        upload = state.upos.uploads.get(query.get("uploadId", ""))
        if faults.cut_next <= 0 or upload is None or match is None:
            return False
        faults.cut_next -= 1
        upload.count_put(_int(query.get("partNumber")), match["line"])
        return True


ROUTES = {("GET", "/preupload"): preupload}
PREFIX_ROUTES = [
    ("GET", "/upos-", serve),
    ("POST", "/upos-", serve),
    ("PUT", "/upos-", put_chunk),
]
# These take the fake's lock themselves, around their bookkeeping only: they sleep, move file
# bytes or hash them.
UNLOCKED = {serve, put_chunk}


# Controls


class UposControls(bcut.BcutControls):
    """The UPOS controls, mixed into FakeBilibili (which provides `state`), with BCut's."""

    state: State

    def set_upos_faults(
        self,
        *,
        fail_rate: float | None = None,
        seed: int | None = None,
        fail_next: int | None = None,
        fail_parts: list[int] | None = None,
        delay: float | None = None,
        cut_next: int | None = None,
        status: int | None = None,
    ) -> dict[str, Any]:
        """Spoil chunk PUTs (nothing else), until clear_upos_faults or reset; fields not given
        stay as they are. fail_rate: each PUT fails with this chance (0..1; `seed` makes it
        repeatable). fail_next: the next N PUTs fail. fail_parts: each of these part numbers
        fails once. A failure answers HTTP `status` (503 by default) with an HTML page.
        delay: every PUT sleeps this many seconds before answering. cut_next: the next N PUTs
        are cut: half the body read, then the connection reset. Returns the faults now set."""
        if fail_rate is not None and not 0 <= float(fail_rate) <= 1:
            raise ControlError("fail_rate must be between 0 and 1")
        for name, value in (
            ("fail_next", fail_next),
            ("cut_next", cut_next),
            ("delay", delay),
        ):
            if value is not None and float(value) < 0:
                raise ControlError(f"{name} must be 0 or more")
        if status is not None and not 400 <= int(status) <= 599:
            raise ControlError("status must be an HTTP error, 400 to 599")
        parts = None if fail_parts is None else {int(p) for p in fail_parts}
        with self.state.lock:
            faults = self.state.upos.faults
            if fail_rate is not None:
                faults.fail_rate = float(fail_rate)
            if seed is not None:
                faults.rng = random.Random(seed)
            if fail_next is not None:
                faults.fail_next = int(fail_next)
            if parts is not None:
                faults.fail_parts = parts
            if delay is not None:
                faults.delay = float(delay)
            if cut_next is not None:
                faults.cut_next = int(cut_next)
            if status is not None:
                faults.status = int(status)
            return faults.to_dict()

    def clear_upos_faults(self) -> None:
        with self.state.lock:
            self.state.upos.faults = ChunkFaults()

    def set_upos_line(self, line: str, *, probe_delay: float) -> None:
        """The line's probe target (//upos-cs-upcdn<line>.bilivideo.com/OK) answers after
        `probe_delay` seconds."""
        if not LINE_NAME.fullmatch(str(line)):
            raise ControlError(f"bad line name {line!r}: [a-z0-9]+")
        if float(probe_delay) < 0:
            raise ControlError("probe_delay must be 0 or more")
        with self.state.lock:
            self.state.upos.probe_delays[str(line)] = float(probe_delay)

    def configure_upos(self, *, chunk_size: int) -> None:
        """The chunk_size later preuploads hand out (10 MiB by default)."""
        if int(chunk_size) < 1:
            raise ControlError("chunk_size must be at least 1")
        with self.state.lock:
            self.state.upos.chunk_size = int(chunk_size)

    def upos_rate_limit(self, times: int = 1, style: str = "406") -> None:
        """The next `times` preuploads are throttled (§3.3): style "406" answers HTTP 406
        {"OK":0,"info":"您上传视频过快…"}, "601" HTTP 200 {"code":601,"message":"上传过快","OK":0}.
        The style is also the one the hourly budget (rule "preupload_budget") answers in: set
        it with times=0 to change only that."""
        if str(style) not in RATE_LIMIT_STYLES:
            raise ControlError('style must be "406" or "601"')
        if int(times) < 0:
            raise ControlError("times must be 0 or more")
        with self.state.lock:
            self.state.upos.rate_limit = int(times)
            self.state.upos.rate_limit_style = str(style)

    def upos_uploads(self) -> list[dict[str, Any]]:
        """Every upload id, oldest first: its file, PUTs counted and parts received."""
        with self.state.lock:
            return [u.to_dict() for u in self.state.upos.uploads.values()]

    def upos_files(self) -> list[dict[str, Any]]:
        """The completed files, oldest first, with their MD5."""
        with self.state.lock:
            return [asdict(f) for f in self.state.upos.files.values()]


def _set_lines(fake: Any, body: dict[str, Any]) -> None:
    for line, fields in body.items():
        if not isinstance(fields, dict):
            raise ControlError(
                f"{line}: expected an object like {{'probe_delay': 0.5}}"
            )
        fake.set_upos_line(line, **fields)


# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("POST", r"/_fake/upos/faults", lambda f, b: f.set_upos_faults(**b)),
    ("DELETE", r"/_fake/upos/faults", lambda f, b: f.clear_upos_faults()),
    ("POST", r"/_fake/upos/lines", _set_lines),
    ("POST", r"/_fake/upos/config", lambda f, b: f.configure_upos(**b)),
    ("POST", r"/_fake/upos/rate_limit", lambda f, b: f.upos_rate_limit(**b)),
    ("POST", r"/_fake/upos/limits", lambda f, b: upos_limits.set_limits(f.state, **b)),
    ("GET", r"/_fake/upos/limits", lambda f, b: upos_limits.limits(f.state)),
    ("GET", r"/_fake/upos/uploads", lambda f, b: f.upos_uploads()),
    ("GET", r"/_fake/upos/files", lambda f, b: f.upos_files()),
    *bcut.CONTROL_ROUTES,
]
