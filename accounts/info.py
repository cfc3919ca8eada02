"""Who an account is, as Bilibili says: nav and space/myinfo. One function per endpoint.

Reference: ../shared/reference/bilibili-protocol.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from biliup_site import bilibili


@dataclass(frozen=True)
class Nav:
    mid: int
    uname: str
    face: str
    level: int


def nav(credential: dict[str, Any]) -> Nav:
    # Reference: §2 nav. Logged out is code -101 (BilibiliError.expired_credential).
    data = bilibili.call(
        bilibili.session(credential), "GET", bilibili.api_url("/x/web-interface/nav")
    )
    return Nav(
        mid=int(data["mid"]),
        uname=str(data.get("uname", "")),
        face=str(data.get("face", "")),
        level=int((data.get("level_info") or {}).get("current_level", 0)),
    )


def myinfo(credential: dict[str, Any]) -> dict[str, Any]:
    """space/myinfo's data as Bilibili sends it, plus `uname` (the documented API's name for `name`)."""
    # Reference: §2 space/myinfo.
    data = bilibili.call(
        bilibili.session(credential), "GET", bilibili.api_url("/x/space/myinfo")
    )
    if not isinstance(data, dict):
        raise bilibili.BilibiliUnavailable("space/myinfo answered without data")
    return {**data, "uname": data.get("name", "")}
