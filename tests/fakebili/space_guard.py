"""What the space endpoints refuse, as the real site does today: three strict rules (strict.py).

- space_app_sign: the app cursor list (/x/v2/space/archive/cursor) called bare, with neither
  appkey nor sign, is -400 ("裸调恒 -400"); a sign that does not check out is -3 (API校验密匙错误),
  an unknown appkey -1, as passport's APP sign check answers (wire.check_app_sign).
- space_wbi_dm: arc/search without wts or w_rid is -352 with a v_voucher; a w_rid that is not the
  signature with nav's CURRENT keys (they rotate: strict.wbi_valid) is -403, as §7.3 allows
  ("-403, -352, or code 0 with a v_voucher"); a good signature without dm_img_list, dm_img_str,
  dm_cover_img_str, dm_img_inter, platform=web and a web_location is -352 with a v_voucher.
  Their values are not checked (§7.2: the web client's are near random).
- space_burst: the space endpoints (both lists and the user card) count the calls of each client
  IP. More than BURST_CALLS within BURST_WINDOW seconds: -352 with a v_voucher. A client that goes
  on (more than BLOCK_AFTER such refusals within BLOCK_WINDOW) has its IP blocked for
  BLOCK_SECONDS: every space call is -412 with HTTP 412. Times are the fake's clock, so
  advance_clock ends a block. A client that waits at least 0.25 s between calls never makes more
  than 4 a second and is never refused; biliup-site paces 0.35-0.6 s (bilibili/pace.py).
  The real thresholds are not published: these are "a few a second", as reported.

Every refusal is kept (space_refusals()): endpoint, rule and code, for tests that prove a client
was never refused. JustOneAPI's calls are not counted: its servers, not the user's IP, call Bilibili.

Reference: /work/shared/reference/bilibili-2026.md "Space lists (creator catalogs)";
bilibili-protocol.md §0 (APP sign), §7.2 (dm_* parameters), §7.3 (WBI), §8 (-352, -412, -799).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakebili import strict
from tests.fakebili.wire import Request, Response, check_app_sign, fail

if TYPE_CHECKING:
    from tests.fakebili.server import State

BURST_WINDOW = 1.0
BURST_CALLS = 5
BLOCK_WINDOW = 10.0
BLOCK_AFTER = 5
BLOCK_SECONDS = 60.0
# What arc/search wants beside WBI (§7.2; bilibili-api's arc/search).
DM_PARAMS = ("dm_img_list", "dm_img_str", "dm_cover_img_str", "dm_img_inter")


@dataclass
class Burst:
    """One client IP's recent space calls and refusals (fake clock), and its block."""

    calls: deque[float] = field(default_factory=deque)
    refusals: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


@dataclass
class Guard:
    """The burst counters per client IP and the refusals so far. Under the fake's lock."""

    bursts: dict[str, Burst] = field(default_factory=dict)
    refused: list[dict[str, Any]] = field(default_factory=list)


def _trim(times: deque[float], since: float) -> None:
    while times and times[0] <= since:
        times.popleft()


def burst_refusal(state: State, req: Request) -> Response | None:
    """-352, then -412 (HTTP 412), for a client calling the space endpoints too often."""
    if not state.rules["space_burst"]:
        return None
    now = state.now()
    burst = state.space.guard.bursts.setdefault(req.client, Burst())
    if now < burst.blocked_until:
        return fail(-412, status=412)
    _trim(burst.calls, now - BURST_WINDOW)
    burst.calls.append(now)
    if len(burst.calls) <= BURST_CALLS:
        return None
    _trim(burst.refusals, now - BLOCK_WINDOW)
    burst.refusals.append(now)
    if len(burst.refusals) > BLOCK_AFTER:
        burst.blocked_until = now + BLOCK_SECONDS
        return fail(-412, status=412)
    return strict.risk_control()


def app_sign_refusal(state: State, req: Request) -> Response | None:
    """-400 for a bare app list call, -3/-1 for a bad sign or appkey, None when signed."""
    if not state.rules["space_app_sign"]:
        return None
    if "sign" not in req.query and "appkey" not in req.query:
        return fail(-400)
    code = check_app_sign(req)
    return fail(code) if code else None


def wbi_refusal(state: State, req: Request) -> Response | None:
    """arc/search: -352 without a signature, -403 with a wrong one, -352 without dm_*."""
    if not state.rules["space_wbi_dm"]:
        return None
    query = req.query
    if not query.get("w_rid") or not query.get("wts"):
        return strict.risk_control()
    if not strict.wbi_valid(state, req):
        return fail(-403)
    if (
        any(not query.get(name) for name in DM_PARAMS)
        or query.get("platform") != "web"
        or not query.get("web_location")
    ):
        return strict.risk_control()
    return None


def refusal(state: State, req: Request, endpoint: str) -> Response | None:
    """The first refusal of the rules for a space `endpoint` ("app", "wbi" or "card"), kept in
    the refusal log; None when the call passes."""
    checks: list[tuple[str, Any]] = [("space_burst", burst_refusal)]
    if endpoint == "app":
        checks.append(("space_app_sign", app_sign_refusal))
    elif endpoint == "wbi":
        checks.append(("space_wbi_dm", wbi_refusal))
    for rule, check in checks:
        response = check(state, req)
        if response is not None:
            state.space.guard.refused.append(
                {"endpoint": endpoint, "rule": rule, "code": _code(response)}
            )
            return response
    return None


def _code(response: Response) -> int:
    return int(json.loads(response.body)["code"])
