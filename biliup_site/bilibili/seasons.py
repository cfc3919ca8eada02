"""Collections (合集, "seasons"): an account's seasons with their sections, and adding an
archive to a section once it exists and has its cid.

Reference: bilibili-API-collect docs/creativecenter/season.md (the season list; adding
episodes, with the body its example sends: sectionId and episodes[{title, aid, cid}]);
bilibili-2026.md "Collections".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from biliup_site.bilibili import http
from biliup_site.bilibili.http import BilibiliError

PAGE_SIZE = 30
MAX_PAGES = 10


@dataclass(frozen=True)
class Section:
    id: int
    title: str


@dataclass(frozen=True)
class Season:
    id: int
    title: str
    sections: tuple[Section, ...]


def _season(item: Any) -> Season | None:
    if not isinstance(item, dict) or not isinstance(item.get("season"), dict):
        return None
    season = item["season"]
    sections = (item.get("sections") or {}).get("sections") or []
    return Season(
        id=int(season.get("id") or 0),
        title=str(season.get("title") or ""),
        sections=tuple(
            Section(int(s.get("id") or 0), str(s.get("title") or ""))
            for s in sections
            if isinstance(s, dict) and s.get("id")
        ),
    )


def list_seasons(credential: dict[str, Any]) -> list[Season]:
    """The account's seasons (newest first), each with its sections; cookie auth."""
    found: list[Season] = []
    with http.session(credential) as sess:
        for pn in range(1, MAX_PAGES + 1):
            data = http.call(
                sess,
                "GET",
                http.member_url("/x2/creative/web/seasons"),
                params={"pn": pn, "ps": PAGE_SIZE},
            )
            items = (data or {}).get("seasons") or []
            found += [s for s in map(_season, items) if s is not None and s.id]
            if len(items) < PAGE_SIZE or len(found) >= int(
                (data or {}).get("total") or 0
            ):
                break
    return found


def add_episode(
    credential: dict[str, Any], section_id: int, aid: int, cid: int, title: str
) -> None:
    """Add the archive `aid` (its first part's `cid`) at the end of the section, as `title`."""
    csrf = http.cookie_value(credential, "bili_jct")
    if not csrf:
        raise BilibiliError(-101, "this account's cookies lack bili_jct (csrf)")
    body = {
        "sectionId": int(section_id),
        "episodes": [
            {"title": title, "aid": int(aid), "cid": int(cid), "charging_pay": 0}
        ],
    }
    with http.session(credential) as sess:
        http.call(
            sess,
            "POST",
            http.member_url("/x2/creative/web/season/section/episodes/add"),
            params={"csrf": csrf},
            json=body,
        )
