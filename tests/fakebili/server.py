"""A fake Bilibili over real HTTP, for tests and offline demos.

One threaded HTTP server answers for every Bilibili host on one port: the client's
BILIUP_BILIBILI_*_URL settings all point at the same base URL, and requests are routed by path.
Each host is a module holding its handlers and a ROUTES table (passport.py, api.py, member.py,
images.py, live.py and rooms.py, cdn.py with hls.py, upos.py with member's /preupload, submit.py
for the creator's cover, submit, edit and archive endpoints, space.py for a user's published
videos on the app and api hosts, justoneapi.py for the JustOneAPI wrapper of them; chat.py's live
chat WebSocket is on a port of its own); a new host is
a new module added to the tables below. A handler may answer with a streamed body (cdn.py's FLV
streams): sent chunked or close-delimited, then the connection closes. Handlers run with the
state's lock held, except those in UNLOCKED, which take it themselves around their bookkeeping
(they sleep, or move file bytes). transport.py serves it all over HTTP/1.1 and applies injected
faults; strict.py holds the refusals of the real site, each a rule that is on by default.

This module holds the shared state (accounts, cookies, app tokens, QR logins, the rules) behind
one lock, fault injection, and the control interface: methods on FakeBilibili, and the same
operations over HTTP under /_fake/ (JSON in and out; not part of Bilibili).

Reference: /work/shared/reference/bilibili-protocol.md §0, §1, §2, §3, §4, §6, §7, §8 and §9.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import unquote

from tests.fakebili import (
    api,
    cdn,
    chat,
    images,
    justoneapi,
    live,
    member,
    openplatform,
    passport,
    seasons,
    space,
    strict,
    submit,
    transport,
    upos,
)
from tests.fakebili.wire import (
    BILITV_APPKEY,
    ControlError,
    Request,
    Response,
    fail,
    json_response,
)

logger = logging.getLogger(__name__)

SEED_MID = 10086
SEED_UNAME = "测试账号"
# §1.1: a web QR key is valid for 180 s. The TV auth_code is given the same life (unconfirmed).
QR_TTL = 180.0
# §1.2: expires_in 15552000 (180 days), for the app token and the cookies alike.
LOGIN_SECONDS = 180 * 86400
# A hung request sleeps this long unless the fault says otherwise: longer than any client timeout.
DEFAULT_HANG_SECONDS = 30.0

Handler = Callable[["State", Request], Response]

ROUTES: dict[tuple[str, str], Handler] = {
    **passport.ROUTES,
    **api.ROUTES,
    **member.ROUTES,
    **live.ROUTES,
    **openplatform.ROUTES,
    **upos.ROUTES,
    **submit.ROUTES,
    **seasons.ROUTES,
    **space.ROUTES,
    **justoneapi.ROUTES,
}
PREFIX_ROUTES: list[tuple[str, str, Handler]] = [
    *images.PREFIX_ROUTES,
    *cdn.PREFIX_ROUTES,
    *upos.PREFIX_ROUTES,
]
# Handlers that take the lock themselves, around their bookkeeping only.
UNLOCKED: set[Handler] = {*openplatform.UNLOCKED, *upos.UNLOCKED}

QrStatus = Literal["new", "scanned", "confirmed", "done", "expired"]
FaultKind = Literal["http_status", "timeout", "code", "reset", "drop_response"]
FAULT_KINDS = ("http_status", "timeout", "code", "reset", "drop_response")


@dataclass
class Account:
    mid: int
    uname: str
    level: int = 5
    sign: str = ""
    sex: str = "保密"
    coins: float = 0.0
    vip_type: int = 0  # 0 none, 1 monthly, 2 yearly
    vip_status: int = 0

    @property
    def face_path(self) -> str:
        return f"/bfs/face/{self.mid}.jpg"


@dataclass
class Session:
    """A web login: the five cookies of §0 "Auth"."""

    mid: int
    sessdata: str
    bili_jct: str
    sid: str
    expires_at: float

    def cookies(self) -> dict[str, str]:
        return {
            "SESSDATA": self.sessdata,
            "bili_jct": self.bili_jct,
            "DedeUserID": str(self.mid),
            "DedeUserID__ckMd5": hashlib.md5(str(self.mid).encode()).hexdigest()[:16],
            "sid": self.sid,
        }


@dataclass
class Token:
    """An app login (§1.2, §1.4); `sessdata` is the web session issued with it."""

    mid: int
    access_token: str
    refresh_token: str
    appkey: str
    expires_at: float
    sessdata: str


@dataclass
class QrLogin:
    """A web qrcode_key or a TV auth_code, waiting for the user's phone."""

    key: str
    kind: Literal["web", "tv"]
    created_at: float
    status: QrStatus = "new"
    mid: int | None = None
    new_account: bool = False
    # Polls answered so far: lets a test see that a client is waiting on this code.
    polls: int = 0


@dataclass
class Fault:
    path: str
    kind: FaultKind
    status: int = 503
    code: int = -500
    message: str | None = None
    body: str | None = None
    delay: float = DEFAULT_HANG_SECONDS
    # How many more requests it spoils; None until cleared.
    times: int | None = 1
    # Only requests of this method (e.g. "PUT"); None: any.
    method: str | None = None
    # How many matching requests still go through untouched before it starts spoiling: e.g.
    # the third chunk of an upload, whatever the uploader's pipelining.
    after: int = 0

    def matches(self, path: str, method: str | None = None) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class State:
    """Everything the fake remembers. Handlers run with `lock` held, one at a time (those in
    UNLOCKED take it themselves, briefly)."""

    def __init__(
        self,
        qr_ttl: float = QR_TTL,
        check_sign: bool = True,
        lenient: frozenset[str] = frozenset(),
    ) -> None:
        self.lock = threading.RLock()
        unknown = set(lenient) - set(strict.RULES)
        if unknown:
            raise ValueError(f"unknown rules: {sorted(unknown)}")
        self._defaults = (qr_ttl, check_sign)
        self._lenient = frozenset(lenient)
        self.live = live.LiveState(self.lock, self.now)
        self.cdn = cdn.CdnState(self.lock)
        self.openplatform = openplatform.OpenPlatformState(self.lock, self.now)
        self.upos = upos.UposState(self.lock, self.now)
        self.space = space.SpaceState()
        self.seasons = seasons.SeasonState()
        self.justoneapi = justoneapi.JustOneApiState()
        self.chat = chat.ChatState(self.lock)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.qr_ttl, self.check_sign = self._defaults
            # Every refusal of the real site, on (strict.py); nav's WBI keys, as first served.
            self.rules = strict.defaults()
            self.rules.update(dict.fromkeys(self._lenient, False))
            self.wbi_keys = strict.FIRST_WBI_KEYS
            self.clock_offset = 0.0
            self.accounts: dict[int, Account] = {
                SEED_MID: Account(SEED_MID, SEED_UNAME)
            }
            # Keyed by the unquoted SESSDATA: clients send it either way.
            self.sessions: dict[str, Session] = {}
            self.tokens: dict[str, Token] = {}
            self.qr: dict[str, QrLogin] = {}
            self.faults: list[Fault] = []
            # Requests per path, for tests that count calls (e.g. nav reads, play info).
            self.hits: Counter[str] = Counter()
            # Live rooms: back to the seed room, and open streams end; the CDN forgets them.
            self.live.reset()
            self.cdn.reset()
            self.openplatform.reset()
            # Uploads and their files, then the archives made of them.
            self.upos.reset()
            self.archives: dict[int, submit.Archive] = {}
            # Collections and the archives added to them.
            self.seasons.reset()
            # The creator centre's call log, each account's last submit, refused tags (member.py).
            self.member = member.MemberState()
            # Who has published what, and JustOneAPI's tokens.
            self.space.reset()
            self.justoneapi.reset()
            # Chat sockets are cut; their log, refusals and auto chatter forgotten.
            self.chat.reset()

    def now(self) -> float:
        return time.time() + self.clock_offset

    # Accounts and logins

    def account(self, mid: int, uname: str | None = None) -> Account:
        """The account `mid`, created on first use."""
        if mid not in self.accounts:
            self.accounts[mid] = Account(mid, uname or f"bili_{mid}")
        return self.accounts[mid]

    def new_session(self, mid: int) -> Session:
        self.account(mid)
        expires = int(self.now() + LOGIN_SECONDS)
        # Shaped like the real one: hex, expiry, hash, all joined by url-encoded "," and "*".
        sessdata = f"{secrets.token_hex(4)}%2C{expires}%2C{secrets.token_hex(3)[:5]}%2A{secrets.token_hex(1)}"
        session = Session(
            mid=mid,
            sessdata=sessdata,
            bili_jct=secrets.token_hex(16),
            sid=secrets.token_hex(4),
            expires_at=expires,
        )
        self.sessions[unquote(sessdata)] = session
        return session

    def session_for(self, req: Request) -> Session | None:
        """The web login of the request's SESSDATA cookie, if it is still valid."""
        session = self.sessions.get(unquote(req.cookies.get("SESSDATA", "")))
        if session is None or session.expires_at <= self.now():
            return None
        return session

    def issue_token(self, mid: int, appkey: str, session: Session) -> Token:
        token = Token(
            mid=mid,
            access_token=secrets.token_hex(16),
            refresh_token=secrets.token_hex(16),
            appkey=appkey,
            expires_at=self.now() + LOGIN_SECONDS,
            sessdata=session.sessdata,
        )
        self.tokens[token.access_token] = token
        return token

    def live_token(self, access_key: str) -> Token | None:
        """The token `access_key` if it is known and its time has not run out."""
        token = self.tokens.get(access_key)
        if token is None or token.expires_at <= self.now():
            return None
        return token

    def revoke(self, token: Token) -> None:
        self.tokens.pop(token.access_token, None)
        self.sessions.pop(unquote(token.sessdata), None)

    # QR logins

    def new_qr(self, kind: Literal["web", "tv"]) -> QrLogin:
        qr = QrLogin(key=secrets.token_hex(16), kind=kind, created_at=self.now())
        self.qr[qr.key] = qr
        return qr

    def qr_status(self, qr: QrLogin | None) -> QrStatus:
        """A QR login's status, "expired" once its time is up (unless already used)."""
        if qr is None:
            return "expired"
        if qr.status in ("new", "scanned", "confirmed") and (
            self.now() >= qr.created_at + self.qr_ttl
        ):
            qr.status = "expired"
        return qr.status

    # Faults

    def take_fault(self, path: str, method: str | None = None) -> Fault | None:
        """The first fault for a `method` request to `path`, counted as used once."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(path, method):
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None


class FakeBilibili(
    live.LiveControls,
    cdn.CdnControls,
    openplatform.OpenPlatformControls,
    upos.UposControls,
    submit.SubmitControls,
    seasons.SeasonControls,
    space.SpaceControls,
    justoneapi.JustOneApiControls,
    chat.ChatControls,
):
    """The fake Bilibili: `with FakeBilibili() as fake: …` serves on `fake.url` in a thread.

    The port is bound on construction, so `url` is known before start(). The control methods
    below are what /_fake/ does over HTTP; they raise ControlError on a bad call. The live rooms'
    controls (add_room, set_live, set_stream, set_hls_only, set_hls, open_streams) are in live.py;
    UPOS's (set_upos_faults, clear_upos_faults, set_upos_line, configure_upos, upos_rate_limit,
    upos_uploads, upos_files) in upos.py; archives(), review_archive and set_review in submit.py;
    add_season and seasons() in seasons.py; the published videos'
    (add_space_user, add_space_videos, set_space_video, delete_space_video, set_space_review,
    space_videos, space_requests, clear_space_requests, space_refusals) in space.py; JustOneAPI's
    (add_justoneapi_token, justoneapi_token, justoneapi_inject) in justoneapi.py; the live chat's
    (chat_send, chat_send_many, chat_sent, chat_connections, chat_drop, chat_refusals,
    configure_room, configure_chat) in chat.py.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        qr_ttl: float = QR_TTL,
        check_sign: bool = True,
        lenient: frozenset[str] = frozenset(),
    ) -> None:
        self.state = State(qr_ttl=qr_ttl, check_sign=check_sign, lenient=lenient)
        self.stopping = threading.Event()
        self._httpd = transport.Server((host, port), self)
        self._chat = chat.ChatServer(self.state, host)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """The settings that point biliup-site at this fake."""
        hosts = ("API", "PASSPORT", "MEMBER", "LIVE_API", "APP_API")
        return {
            **{f"BILIUP_BILIBILI_{name}_URL": self.url for name in hosts},
            "BILIUP_BILIBILI_OPENUPOS_URL": self.url,
            # Both JustOneAPI environments (prod-global, prod-cn) are served here too.
            "BILIUP_JUSTONEAPI_GLOBAL_URL": self.url,
            "BILIUP_JUSTONEAPI_CN_URL": self.url,
            # Preupload hands out the real UPOS hosts ("//upos-cs-upcdnbda2.bilivideo.com"):
            # the client serves them from here, the host kept as the path's first segment.
            "BILIUP_BILIBILI_UPOS_URL": self.url,
            "BILIUP_PROXY_ALLOWED_HOSTS": self._httpd.server_address[0],
            "BILIUP_PROXY_ALLOW_PRIVATE": "True",
            "BILIUP_RECORD_ALLOWED_HOSTS": self._httpd.server_address[0],
            # getDanmuInfo lists the chat socket; the real one is wss, this one has no TLS.
            "BILIUP_BILIBILI_CHAT_SCHEME": "ws",
        }

    def start(self) -> FakeBilibili:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fakebili",
                daemon=True,
            )
            self._thread.start()
        self._chat.start()
        return self

    def stop(self) -> None:
        # Wake hung requests first, so they close their connections.
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()
        self.state.openplatform.close()
        self.state.upos.close()
        self._chat.stop()

    def __enter__(self) -> FakeBilibili:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Control: QR logins

    def _qr(self, key: str) -> QrLogin:
        qr = self.state.qr.get(key)
        if qr is None:
            raise ControlError(f"no QR login with key {key!r}", 404)
        status = self.state.qr_status(qr)
        if status in ("expired", "done"):
            raise ControlError(f"QR login {key!r} is {status}", 409)
        return qr

    def scan_qr(self, key: str) -> None:
        """The user scanned the code: polls now say 86090."""
        with self.state.lock:
            qr = self._qr(key)
            if qr.status == "new":
                qr.status = "scanned"

    def confirm_qr(self, key: str, mid: int | None = None) -> int:
        """The user confirmed on the phone, as account `mid` (the seed account by default;
        a new mid creates the account). The next poll succeeds. Returns the mid."""
        with self.state.lock:
            qr = self._qr(key)
            mid = SEED_MID if mid is None else int(mid)
            qr.new_account = mid not in self.state.accounts
            self.state.account(mid)
            qr.status = "confirmed"
            qr.mid = mid
            return mid

    def qr_polls(self, key: str) -> int:
        """How many times this code's state was polled (web or TV poll)."""
        with self.state.lock:
            qr = self.state.qr.get(key)
            if qr is None:
                raise ControlError(f"no QR login with key {key!r}", 404)
            return qr.polls

    def expire_qr(self, key: str) -> None:
        """The code runs out now: polls say 86038."""
        with self.state.lock:
            self._qr(key).status = "expired"

    def pending_qr_keys(self, kind: Literal["web", "tv"] | None = None) -> list[str]:
        """Keys of QR logins waiting for the user (not scanned, or scanned), oldest first."""
        with self.state.lock:
            return [
                qr.key
                for qr in self.state.qr.values()
                if (kind is None or qr.kind == kind)
                and self.state.qr_status(qr) in ("new", "scanned")
            ]

    # Control: accounts

    def add_account(self, mid: int, uname: str | None = None, **fields: Any) -> dict:
        """Create (or update) an account. fields: level, sign, sex, coins, vip_type, vip_status."""
        unknown = set(fields) - {f.name for f in dataclasses.fields(Account)}
        if unknown:
            raise ControlError(f"unknown account fields: {sorted(unknown)}")
        with self.state.lock:
            account = self.state.account(int(mid), uname)
            if uname:
                account.uname = uname
            for name, value in fields.items():
                setattr(account, name, value)
            return asdict(account)

    def _account(self, mid: int) -> Account:
        account = self.state.accounts.get(int(mid))
        if account is None:
            raise ControlError(f"no account {mid}", 404)
        return account

    def login(self, mid: int | None = None, appkey: str = BILITV_APPKEY) -> dict:
        """Log `mid` in without a QR code: the data of a TV poll success (§1.2), i.e. a
        cookies.json document's cookie_info, sso and token_info."""
        with self.state.lock:
            mid = SEED_MID if mid is None else int(mid)
            self.state.account(mid)
            session = self.state.new_session(mid)
            token = self.state.issue_token(mid, appkey, session)
            return passport.login_data(self.state, self.url, token, session)

    def expire_account(self, mid: int) -> None:
        """Every cookie and token of the account stops working (-101 everywhere)."""
        with self.state.lock:
            self._account(mid)
            for key, session in list(self.state.sessions.items()):
                if session.mid == int(mid):
                    del self.state.sessions[key]
            for key, token in list(self.state.tokens.items()):
                if token.mid == int(mid):
                    del self.state.tokens[key]

    def set_token_remaining(self, mid: int, seconds: float) -> None:
        """The account's app tokens expire in `seconds` (0 or less: expired, but refreshable)."""
        with self.state.lock:
            self._account(mid)
            for token in self.state.tokens.values():
                if token.mid == int(mid):
                    token.expires_at = self.state.now() + float(seconds)

    # Control: faults, clock, settings

    def inject(
        self,
        path: str,
        kind: FaultKind,
        *,
        status: int | None = None,
        code: int | None = None,
        message: str | None = None,
        body: str | None = None,
        delay: float | None = None,
        times: int | None = 1,
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """Spoil the next `times` requests to `path` (None: until cleared; a trailing "*"
        matches a prefix), of any method or only `method` ("PUT": e.g. a bad line's chunks,
        "/upos-cs-upcdnbda2.bilivideo.com/*"), once `after` of them have gone through untouched. kinds: http_status (status, HTML page or `body`), timeout (hang
        `delay` s, then close), code (a Bilibili code in the envelope; -352 adds v_voucher,
        -412 comes with HTTP 412), reset (close the connection without an answer),
        drop_response (the request is handled, e.g. the archive made, then the connection is
        reset without an answer: a submit whose response is lost)."""
        if kind not in FAULT_KINDS:
            raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if kind == "code" and code is None:
            raise ControlError("a code fault needs a code")
        if times is not None and int(times) < 1:
            raise ControlError("times must be at least 1, or null")
        if int(after) < 0:
            raise ControlError("after must be 0 or more")
        fault = Fault(
            path=path,
            kind=kind,
            message=message,
            body=body,
            times=None if times is None else int(times),
            method=None if method is None else str(method).upper(),
            after=int(after),
        )
        if status is not None:
            fault.status = int(status)
        if code is not None:
            fault.code = int(code)
        if delay is not None:
            fault.delay = float(delay)
        with self.state.lock:
            self.state.faults.append(fault)

    def hits(self, path: str) -> int:
        """How many requests to `path` the fake has had since the last reset."""
        with self.state.lock:
            return self.state.hits[path]

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def reset(self) -> None:
        """Back to the seed: one account, one offline room, no logins, no faults, real time,
        default settings."""
        self.state.reset()

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock forward: QR codes, cookies and tokens age with it."""
        with self.state.lock:
            self.state.clock_offset += float(seconds)

    def configure(
        self, *, qr_ttl: float | None = None, check_sign: bool | None = None
    ) -> None:
        """Change the QR lifetime or turn APP sign checks off, until the next reset."""
        with self.state.lock:
            if qr_ttl is not None:
                self.state.qr_ttl = float(qr_ttl)
            if check_sign is not None:
                self.state.check_sign = bool(check_sign)

    def rules(self) -> dict[str, dict[str, Any]]:
        """Each strict rule (strict.RULES): whether it is on, and what it refuses."""
        with self.state.lock:
            return {
                name: {"on": self.state.rules[name], "refuses": text}
                for name, text in strict.RULES.items()
            }

    def set_rules(self, **rules: bool) -> dict[str, dict[str, Any]]:
        """Switch strict rules on (True) or off (False) until the next reset."""
        unknown = set(rules) - set(strict.RULES)
        if unknown:
            raise ControlError(
                f"unknown rules: {sorted(unknown)}; known: {sorted(strict.RULES)}"
            )
        bad = [name for name, on in rules.items() if not isinstance(on, bool)]
        if bad:
            raise ControlError(f"rules take true or false: {sorted(bad)}")
        with self.state.lock:
            self.state.rules.update(rules)
        return self.rules()

    def rotate_wbi_keys(self) -> dict[str, str]:
        """nav serves new WBI keys from now on; signatures made with the old ones are refused."""
        with self.state.lock:
            self.state.wbi_keys = strict.new_wbi_keys()
            img_key, sub_key = self.state.wbi_keys
        return {"img_key": img_key, "sub_key": sub_key}

    def snapshot(self) -> dict[str, Any]:
        """Everything the fake remembers, as JSON, for debugging."""
        with self.state.lock:
            now = self.state.now()
            return {
                "now": now,
                "qr_ttl": self.state.qr_ttl,
                "check_sign": self.state.check_sign,
                "rules": dict(self.state.rules),
                "wbi_keys": list(self.state.wbi_keys),
                "accounts": [asdict(a) for a in self.state.accounts.values()],
                "sessions": [asdict(s) for s in self.state.sessions.values()],
                "tokens": [
                    {**asdict(t), "remaining": round(t.expires_at - now)}
                    for t in self.state.tokens.values()
                ],
                "qr": [
                    {**asdict(q), "status": self.state.qr_status(q)}
                    for q in self.state.qr.values()
                ],
                "faults": [asdict(f) for f in self.state.faults],
                "rooms": self.rooms(),
                "upos_uploads": self.upos_uploads(),
                "upos_files": self.upos_files(),
                "upos_faults": self.state.upos.faults.to_dict(),
                "archives": self.archives(),
                "seasons": self.seasons(),
                # No JustOneAPI token in here: only how many there are.
                "space": {
                    **self.space_snapshot(),
                    "justoneapi": self.justoneapi_snapshot(),
                },
                "chat": self.chat_snapshot(),
            }

    # Dispatch

    def handle(self, req: Request) -> Response:
        """The answer to one request, faults aside."""
        if req.path.startswith("/_fake/"):
            return self._control(req)
        with self.state.lock:
            self.state.hits[req.path] += 1
        # HEAD is answered as GET, without the body.
        method = "GET" if req.method == "HEAD" else req.method
        handler = ROUTES.get((method, req.path))
        if handler is None:
            handler = next(
                (
                    h
                    for route_method, prefix, h in PREFIX_ROUTES
                    if method == route_method and req.path.startswith(prefix)
                ),
                None,
            )
        if handler is None:
            if any(path == req.path for _, path in ROUTES):
                return fail(-405, status=405)
            return fail(-404, status=404)
        if handler in UNLOCKED:
            # It takes the lock itself, around its bookkeeping only: it moves file bytes.
            return handler(self.state, req)
        with self.state.lock:
            return handler(self.state, req)

    def _control(self, req: Request) -> Response:
        for method, pattern, action in CONTROL_ROUTES:
            match = re.fullmatch(pattern, req.path)
            if match and req.method == method:
                try:
                    body = req.json()
                    if not isinstance(body, dict):
                        raise ControlError("the body must be a JSON object")
                    result = action(self, body, **match.groupdict())
                except ControlError as exc:
                    return json_response({"error": exc.message}, exc.status)
                except KeyError as exc:
                    return json_response({"error": f"missing field {exc}"}, 400)
                except (ValueError, TypeError) as exc:
                    return json_response({"error": str(exc)}, 400)
                return json_response({"ok": True} if result is None else result)
        return json_response({"error": f"no control {req.method} {req.path}"}, 404)


# The HTTP control interface: (method, path pattern, action(fake, json body, **groups)).
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("POST", r"/_fake/qr/(?P<key>[^/]+)/scan", lambda f, b, key: f.scan_qr(key)),
    (
        "POST",
        r"/_fake/qr/(?P<key>[^/]+)/confirm",
        lambda f, b, key: {"mid": f.confirm_qr(key, b.get("mid"))},
    ),
    ("POST", r"/_fake/qr/(?P<key>[^/]+)/expire", lambda f, b, key: f.expire_qr(key)),
    (
        "GET",
        r"/_fake/qr",
        lambda f, b: {"pending": f.pending_qr_keys()},
    ),
    (
        "POST",
        r"/_fake/accounts",
        lambda f, b: f.add_account(**b),
    ),
    (
        "POST",
        r"/_fake/accounts/(?P<mid>\d+)/expire",
        lambda f, b, mid: f.expire_account(int(mid)),
    ),
    (
        "POST",
        r"/_fake/accounts/(?P<mid>\d+)/token_remaining",
        lambda f, b, mid: f.set_token_remaining(int(mid), b["seconds"]),
    ),
    (
        "POST",
        r"/_fake/accounts/(?P<mid>\d+)/login",
        lambda f, b, mid: f.login(int(mid), **b),
    ),
    ("POST", r"/_fake/faults", lambda f, b: f.inject(**b)),
    ("DELETE", r"/_fake/faults", lambda f, b: f.clear_faults()),
    ("POST", r"/_fake/reset", lambda f, b: f.reset()),
    ("POST", r"/_fake/clock", lambda f, b: f.advance_clock(b["advance"])),
    ("POST", r"/_fake/config", lambda f, b: f.configure(**b)),
    ("GET", r"/_fake/state", lambda f, b: f.snapshot()),
    ("GET", r"/_fake/hits", lambda f, b: dict(f.state.hits)),
    ("GET", r"/_fake/rules", lambda f, b: f.rules()),
    ("POST", r"/_fake/rules", lambda f, b: f.set_rules(**b)),
    ("POST", r"/_fake/wbi/rotate", lambda f, b: f.rotate_wbi_keys()),
    *live.CONTROL_ROUTES,
    *cdn.CONTROL_ROUTES,
    *openplatform.CONTROL_ROUTES,
    *upos.CONTROL_ROUTES,
    *submit.CONTROL_ROUTES,
    *seasons.CONTROL_ROUTES,
    *space.CONTROL_ROUTES,
    *justoneapi.CONTROL_ROUTES,
    *chat.CONTROL_ROUTES,
]
