"""JustOneAPI's "User Published Videos (V2)": Bilibili's app space list, fetched for us.

GET <env>/api/bilibili/get-user-video-list/v2?token=&uid=&param= answers {"code", "data"}, and
its `data` is Bilibili's own §7.1 answer ({"code", "message", "ttl", "data"}), parsed by
space.parse_app_page(). `param` is the previous page's last aid, as §7.1's `aid`.

The token is a secret that travels in the query string, as the service wants: it is never put
in a message or a log line here (http.call names only the host; urllib3's debug log, which
prints request lines, is held at INFO in settings.LOGGING).

Reference: justoneapi-user-videos-v2.txt (parameters, environments, timeout, business codes);
bilibili-protocol.md §7.1. The body of an error answer is not documented beyond `code`: any
`message` it has is shown as JustOneAPI's own words.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings

from biliup_site.bilibili.http import BilibiliError, BilibiliUnavailable, call
from biliup_site.bilibili.space import SpacePage, parse_app_page

PATH = "/api/bilibili/get-user-video-list/v2"
# The document: "Set request timeout to at least 60 seconds." (connect, read)
TIMEOUT = (10.0, 60.0)

# Business codes and what the document calls them.
CODES: dict[int, str] = {
    100: "invalid or inactive token",
    301: "collection failed, please retry",
    302: "rate limit exceeded",
    303: "daily quota exceeded",
    400: "invalid parameters",
    500: "internal server error",
    600: "permission denied",
    601: "insufficient balance",
}
RETRY = frozenset({301})
RATE_LIMITED = frozenset({302})
QUOTA = frozenset({303})
# The token itself is refused: nothing works until the user changes it or tops it up.
STOP = frozenset({100, 600, 601})


class JustOneApiError(Exception):
    """JustOneAPI answered with a non-zero business code."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        meaning = CODES.get(self.code)
        said = self.message.strip()
        if meaning and said and _words(said) != _words(meaning):
            return f"JustOneAPI code {self.code}: {meaning} ({said})"
        return f"JustOneAPI code {self.code}: {meaning or said or 'unknown code'}"

    @property
    def retry(self) -> bool:
        return self.code in RETRY

    @property
    def rate_limited(self) -> bool:
        return self.code in RATE_LIMITED

    @property
    def quota(self) -> bool:
        return self.code in QUOTA

    @property
    def stops(self) -> bool:
        return self.code in STOP


def _words(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def base_url(env: str) -> str:
    return settings.JUSTONEAPI_CN_URL if env == "cn" else settings.JUSTONEAPI_GLOBAL_URL


def session() -> requests.Session:
    sess = requests.Session()
    sess.headers["User-Agent"] = f"biliup-site/{settings.VERSION}"
    return sess


def user_videos(
    sess: requests.Session,
    token: str,
    env: str,
    uid: int,
    param: str | None = None,
) -> SpacePage:
    """One page of the user's videos, newest first.

    Raises JustOneApiError for a business code, BilibiliError when JustOneAPI succeeded but
    Bilibili's answer inside is an error, BilibiliUnavailable when the service cannot be
    reached or answers garbage.
    """
    # Reference: justoneapi-user-videos-v2.txt; the Bilibili answer inside is §7.1.
    params: dict[str, Any] = {"token": token, "uid": uid}
    if param:
        params["param"] = param
    try:
        inner = call(sess, "GET", base_url(env) + PATH, params=params, timeout=TIMEOUT)
    except BilibiliError as exc:
        # http.unwrap() read the wrapper's code: here it is JustOneAPI's business code.
        raise JustOneApiError(exc.code, exc.message) from None
    if not isinstance(inner, dict) or not isinstance(inner.get("code"), int):
        raise BilibiliUnavailable(
            "unexpected answer from JustOneAPI: no Bilibili response inside"
        )
    if inner["code"] != 0:
        raise BilibiliError(
            inner["code"], str(inner.get("message") or ""), inner.get("data")
        )
    return parse_app_page(inner.get("data"), "JustOneAPI user video list")
