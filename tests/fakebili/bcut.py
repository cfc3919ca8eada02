"""BCut (必剪), the third upload route: member's /preupload as the BCut PC client calls it.

The BCut PC client preuploads on the member host with the account's web cookies, like the web,
but with profile=ugcfx/bcut-pc, version=3.11.x, build=<its build> and the User-Agent
"bcut-pc build:<its build>" (renmu123/biliAPI upload.ts; biliLive-tools PR#306). Init, chunks and
complete are then UPOS's, as upos.py serves them. Its submit, /x/vu/mvp/add, is in submit.py.

Rule "bcut_identity" (strict.py): a preupload naming the BCut profile must come from the BCut
client, a User-Agent starting "bcut-pc build:" and a version 3.<minor>.<patch>; a browser (or
anything else) asking for ugcfx/bcut-pc gets HTTP 403 {"OK":0,"info":IDENTITY_REFUSED}.

Budget: bilibili-2026.md says BCut's preupload "was not throttled the same way" (biliAPI: the
web's has 406 risk control, BCut's "looks like it has none"), so BCut preuploads have no hourly
budget here and do not count against the web one (rule "preupload_budget"). The control
bcut_rate_limit(times) throttles the next BCut preuploads (HTTP 406, the web's answer), for tests
of a fallback that is throttled too.

Invented where the sources are silent: the refusal's status and info, that the version's major
must be 3, and that BCut has no budget at all rather than a larger one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakebili.wire import ControlError, Request, Response, json_response

if TYPE_CHECKING:
    from tests.fakebili.server import State

PROFILE = "ugcfx/bcut-pc"
UA_PREFIX = "bcut-pc build:"
VERSION = re.compile(r"3\.\d+\.\d+")
IDENTITY_REFUSED = "profile ugcfx/bcut-pc 仅限必剪客户端"


def is_bcut(req: Request) -> bool:
    """Whether this preupload asks for the BCut profile."""
    return req.query.get("profile") == PROFILE


def identity_refusal(state: State, req: Request) -> Response | None:
    """The refusal of a BCut preupload not sent as the BCut client (rule "bcut_identity"), or
    None. Lock held."""
    if not state.rules["bcut_identity"]:
        return None
    agent = req.headers.get("user-agent", "")
    version = req.query.get("version", "")
    if agent.startswith(UA_PREFIX) and VERSION.fullmatch(version):
        return None
    return json_response({"OK": 0, "info": IDENTITY_REFUSED}, status=403)


def take_throttle(state: State) -> bool:
    """Whether this BCut preupload is one of the next `bcut_rate_limit`; counts it. Lock held."""
    if state.upos.bcut_rate_limit <= 0:
        return False
    state.upos.bcut_rate_limit -= 1
    return True


class BcutControls:
    """The BCut controls, mixed into FakeBilibili through upos.UposControls."""

    state: State

    def bcut_rate_limit(self, times: int = 1) -> None:
        """The next `times` BCut preuploads are throttled (HTTP 406 {"OK":0,"info":"您上传视频
        过快…"}); web preuploads are not affected."""
        if int(times) < 0:
            raise ControlError("times must be 0 or more")
        with self.state.lock:
            self.state.upos.bcut_rate_limit = int(times)


# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("POST", r"/_fake/upos/bcut_rate_limit", lambda f, b: f.bcut_rate_limit(**b)),
]
