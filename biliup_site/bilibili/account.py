"""Who an account is and what it may do, as Bilibili says: nav, space/myinfo and archive/pre.
One function per endpoint; each takes the account's cookies.json document.

Reference: ../shared/reference/bilibili-protocol.md §2 and §3.10.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from biliup_site.bilibili.http import (
    BilibiliUnavailable,
    api_url,
    call,
    member_url,
    session,
)


@dataclass(frozen=True)
class Nav:
    mid: int
    uname: str
    face: str
    level: int


def nav(credential: dict[str, Any]) -> Nav:
    # Reference: §2 nav. Logged out is code -101 (BilibiliError.expired_credential).
    data = call(session(credential), "GET", api_url("/x/web-interface/nav"))
    return Nav(
        mid=int(data["mid"]),
        uname=str(data.get("uname", "")),
        face=str(data.get("face", "")),
        level=int((data.get("level_info") or {}).get("current_level", 0)),
    )


def myinfo(credential: dict[str, Any]) -> dict[str, Any]:
    """space/myinfo's data as Bilibili sends it, plus `uname` (the documented API's name for `name`)."""
    # Reference: §2 space/myinfo.
    data = call(session(credential), "GET", api_url("/x/space/myinfo"))
    if not isinstance(data, dict):
        raise BilibiliUnavailable("space/myinfo answered without data")
    return {**data, "uname": data.get("name", "")}


def archive_pre(credential: dict[str, Any]) -> dict[str, Any]:
    """archive/pre's data as Bilibili sends it: the category list (`typelist`) and more.

    Not cached here: the caller knows whose list it is and how long to keep it.
    """
    # Reference: §3.10 archive/pre.
    data = call(session(credential), "GET", member_url("/x/vupre/web/archive/pre"))
    if not isinstance(data, dict) or not isinstance(data.get("typelist"), list):
        raise BilibiliUnavailable("archive/pre answered without a category list")
    return data
