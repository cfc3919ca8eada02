"""A fake JustOneAPI: its "User Published Videos (V2)" endpoint, a paid wrapper of the app list.

GET /api/bilibili/get-user-video-list/v2?token=&uid=&param= answers HTTP 200 whatever happens,
with a business code in the body. On success, {"code": 0, "data": <the whole answer of the app
cursor list (space.py, §7.1) for vmid=uid, aid=param>}: Bilibili's own envelope inside, so an
unknown uid is an outer 0 around an inner -404, and a cursor not in the list an inner -400. On
failure, {"code": N, "message": …, "data": null}.

The checks, in order: a code injected by justoneapi_inject answers first; then a missing,
unknown or inactive token is 100, a token without permission 600, a zero balance 601, a token
past its daily quota 303, a missing or non-numeric uid (or a non-numeric param) 400. A success,
the inner -404 and -400 included, costs 1 of the token's balance (if it has one) and counts
toward its quota; failures cost nothing. Every request is logged in space.py's request log as
endpoint "justoneapi", with its uid and param and never its token; the snapshot shows only how
many tokens there are.

Tokens and injected codes live in JustOneApiState (shared, under the fake's one lock); the
controls are JustOneApiControls, mixed into FakeBilibili, and the same over HTTP in
CONTROL_ROUTES. The client's BILIUP_JUSTONEAPI_GLOBAL_URL and BILIUP_JUSTONEAPI_CN_URL (prod-global
and prod-cn) both point at the fake.

Reference: /work/shared/reference/justoneapi-user-videos-v2.txt (parameters, codes, the success
example) and bilibili-protocol.md §7.1 "JustOneAPI wrapper". Invented where the sources are
silent: the error body (its "message" is the reference's name for the code, and "data" is null),
the order of the checks, a day's quota counted by the fake's clock in China time (UTC+8), what
an inactive token is, and the inner envelope's message "OK" (the example's; Bilibili's own app
list says "0").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakebili import space
from tests.fakebili.wire import MESSAGES, ControlError, Request, Response, json_response

if TYPE_CHECKING:
    from tests.fakebili.server import State

PATH = "/api/bilibili/get-user-video-list/v2"
# The reference's "Business Code Reference".
CODES = {
    0: "Success",
    100: "Invalid or Inactive Token",
    301: "Collection Failed. Please Retry.",
    302: "Rate Limit Exceeded",
    303: "Daily Quota Exceeded",
    400: "Invalid Parameters",
    500: "Internal Server Error",
    600: "Permission Denied",
    601: "Insufficient Balance",
}
INJECTABLE = tuple(code for code in CODES if code)
CHINA = 8 * 3600


@dataclass
class ApiToken:
    daily_quota: int | None = None  # successful calls a day; None: no limit
    balance: int | None = None  # calls left to pay for; None: unlimited
    permission: bool = True  # may call this endpoint
    active: bool = True
    calls: dict[int, int] = field(default_factory=dict)  # China day → successful calls


@dataclass
class Injection:
    code: int
    times: int


class JustOneApiState:
    """The API tokens and the codes waiting to be answered. Under the fake's lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.tokens: dict[str, ApiToken] = {}
        self.injected: list[Injection] = []

    def take_injected(self) -> int | None:
        if not self.injected:
            return None
        injection = self.injected[0]
        injection.times -= 1
        if injection.times <= 0:
            self.injected.pop(0)
        return injection.code


def china_day(now: float) -> int:
    """Days since the epoch in China time, the day a quota is counted in."""
    return int((now + CHINA) // 86400)


def _error(code: int) -> Response:
    return json_response({"code": code, "message": CODES[code], "data": None})


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def user_video_list(state: State, req: Request) -> Response:
    """GET /api/bilibili/get-user-video-list/v2?token=&uid=&param="""
    uid = req.query.get("uid", "").strip()
    param = req.query.get("param", "").strip()
    state.space.log(
        "justoneapi", int(uid) if _digits(uid) else None, cursor=param or None
    )
    injected = state.justoneapi.take_injected()
    if injected is not None:
        return _error(injected)
    token = state.justoneapi.tokens.get(req.query.get("token", ""))
    if token is None or not token.active:
        return _error(100)
    if not token.permission:
        return _error(600)
    if token.balance is not None and token.balance <= 0:
        return _error(601)
    day = china_day(state.now())
    if token.daily_quota is not None and token.calls.get(day, 0) >= token.daily_quota:
        return _error(303)
    if not _digits(uid) or (param and not _digits(param)):
        return _error(400)
    data = space.cursor_page(state, req.base_url, {"vmid": uid, "aid": param})
    if isinstance(data, int):
        inner = {"code": data, "message": MESSAGES[data], "ttl": 1, "data": None}
    else:
        inner = {"code": 0, "message": "OK", "ttl": 1, "data": data}
    if token.balance is not None:
        token.balance -= 1
    token.calls[day] = token.calls.get(day, 0) + 1
    return json_response({"code": 0, "data": inner})


ROUTES = {("GET", PATH): user_video_list}


# Controls


class JustOneApiControls:
    """JustOneAPI's tokens and codes, for tests: mixed into FakeBilibili (provides `state`)."""

    state: State

    def add_justoneapi_token(
        self,
        token: str,
        *,
        daily_quota: int | None = None,
        balance: int | None = None,
        permission: bool = True,
        active: bool = True,
    ) -> None:
        """A token the fake accepts (or new terms for one; its calls so far still count).
        daily_quota: successful calls a day (China time); balance: calls left to pay for;
        None: no limit. permission False: 600. active False: 100, as an unknown token."""
        if not isinstance(token, str) or not token:
            raise ControlError("token must be a non-empty string")
        for name, value in (("daily_quota", daily_quota), ("balance", balance)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ControlError(f"{name} must be a whole number, 0 or more, or null")
        with self.state.lock:
            tokens = self.state.justoneapi.tokens
            old = tokens.get(token)
            tokens[token] = ApiToken(
                daily_quota=daily_quota,
                balance=balance,
                permission=bool(permission),
                active=bool(active),
                calls={} if old is None else old.calls,
            )

    def justoneapi_token(self, token: str) -> dict[str, Any]:
        """A token's terms and use: daily_quota, balance, permission, active, calls_today."""
        with self.state.lock:
            found = self.state.justoneapi.tokens.get(str(token))
            if found is None:
                raise ControlError("no such JustOneAPI token", 404)
            terms = dataclasses.asdict(found)
            calls = terms.pop("calls")
            today = china_day(self.state.now())
            return {**terms, "calls_today": calls.get(today, 0)}

    def justoneapi_inject(self, code: int, *, times: int = 1) -> None:
        """The next `times` calls answer `code` (100, 301, 302, 303, 400, 500, 600 or 601),
        before any check and at no cost. Injections queue up, first in first out."""
        if isinstance(code, bool) or code not in INJECTABLE:
            raise ControlError(f"code must be one of {', '.join(map(str, INJECTABLE))}")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ControlError("times must be a whole number, at least 1")
        with self.state.lock:
            self.state.justoneapi.injected.append(Injection(code, times))

    def justoneapi_snapshot(self) -> dict[str, Any]:
        """For snapshot(): how many tokens (never which), and the codes still to come."""
        with self.state.lock:
            return {
                "tokens": len(self.state.justoneapi.tokens),
                "injected": [
                    dataclasses.asdict(i) for i in self.state.justoneapi.injected
                ],
            }


# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("POST", r"/_fake/justoneapi/tokens", lambda f, b: f.add_justoneapi_token(**b)),
    (
        "POST",
        r"/_fake/justoneapi/usage",
        lambda f, b: f.justoneapi_token(b["token"]),
    ),
    ("POST", r"/_fake/justoneapi/inject", lambda f, b: f.justoneapi_inject(**b)),
]
