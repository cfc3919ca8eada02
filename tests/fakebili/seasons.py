"""Collections (合集, "seasons") on the member host: an account's seasons with their sections,
and adding archives to a section as episodes.

Two endpoints, cookie auth:
- GET /x2/creative/web/seasons?pn=&ps= lists the account's seasons, newest first: each with
  `season`, `checkin`, `seasonStat`, `sections.sections[]` and `part_episodes` (null when empty).
- POST /x2/creative/web/season/section/episodes/add?csrf= with a JSON body
  {"sectionId": n, "episodes": [{"title", "aid", "cid", "charging_pay"?}]} adds archives to the
  end of a section. Each episode's archive must be the account's, and `cid` one of its parts.

Seasons are made by a control (SeasonControls.add_season), not by the creator centre's
season/add (which goes to manual review on the real site).

Reference: bilibili-API-collect docs/creativecenter/season.md (the list's fields; the add
body as its example sends it: sectionId and episodes); bilibili-2026.md "Collections".
Invented where the sources are silent: the refusals' codes and messages (-400 for a bad body,
-404 for an unknown section or archive, -403 for another account's section or archive, 20080
"稿件已在合集中" for an archive already in a season, -400 for a cid that is not the
archive's), pn/ps defaults of 1/30 with ps capped at 50, and that an archive under review
may be added.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakebili.member import logged
from tests.fakebili.wire import ControlError, Request, Response, fail, ok

if TYPE_CHECKING:
    from tests.fakebili.server import State

ALREADY_ADDED = (20080, "稿件已在合集中")
PS_MAX = 50
# Real ids are 7-digit and up; start there so they look alike.
FIRST_SEASON_ID = 3_541_000
FIRST_SECTION_ID = 3_954_000
FIRST_EPISODE_ID = 77_260_000


@dataclass
class Episode:
    id: int
    aid: int
    bvid: str
    cid: int
    title: str
    season_id: int
    section_id: int
    order: int

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "aid": self.aid,
            "bvid": self.bvid,
            "cid": self.cid,
            "seasonId": self.season_id,
            "sectionId": self.section_id,
            "order": self.order,
            "videoTitle": "",
            "archiveTitle": "",
            "archiveState": 0,
            "rejectReason": "",
            "state": 0,
            "cover": "",
            "is_free": 0,
            "aid_owner": False,
            "charging_pay": 0,
        }


@dataclass
class Section:
    id: int
    season_id: int
    title: str
    order: int
    ctime: int
    episodes: list[Episode] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": 1,
            "seasonId": self.season_id,
            "title": self.title,
            "order": self.order,
            "state": 0,
            "partState": 0,
            "rejectReason": "",
            "ctime": self.ctime,
            "mtime": self.ctime,
            "epCount": len(self.episodes),
            "cover": "",
            "has_charging_pay": 0,
            "Episodes": None,
        }


@dataclass
class Season:
    id: int
    mid: int
    title: str
    ctime: int
    sections: list[Section] = field(default_factory=list)

    def episodes(self) -> list[Episode]:
        return [e for s in self.sections for e in s.episodes]

    def to_api(self) -> dict[str, Any]:
        episodes = self.episodes()
        return {
            "season": {
                "id": self.id,
                "title": self.title,
                "desc": "",
                "cover": "",
                "isEnd": 0,
                "mid": self.mid,
                "isAct": 0,
                "is_pay": 0,
                "state": 0,
                "partState": 0,
                "signState": 0,
                "rejectReason": "",
                "ctime": self.ctime,
                "mtime": self.ctime,
                "no_section": 1 if len(self.sections) == 1 else 0,
                "forbid": 0,
                "protocol_id": "",
                "ep_num": len(episodes),
                "season_price": 0,
                "is_opened": 1,
                "has_charging_pay": 0,
            },
            "course": None,
            "checkin": {"status": 0, "status_reason": "", "season_status": 1},
            "seasonStat": dict.fromkeys(
                (
                    "view",
                    "danmaku",
                    "reply",
                    "fav",
                    "coin",
                    "share",
                    "nowRank",
                    "hisRank",
                    "like",
                    "subscription",
                    "vt",
                ),
                0,
            ),
            "sections": {"sections": [s.to_api() for s in self.sections]},
            "part_episodes": [e.to_api() for e in episodes] or None,
        }

    def to_dict(self) -> dict[str, Any]:
        """The control's view: ids, titles and episodes per section."""
        return {
            "id": self.id,
            "mid": self.mid,
            "title": self.title,
            "sections": [
                {
                    "id": s.id,
                    "title": s.title,
                    "episodes": [
                        {"id": e.id, "aid": e.aid, "cid": e.cid, "title": e.title}
                        for e in s.episodes
                    ],
                }
                for s in self.sections
            ],
        }


class SeasonState:
    """Every season, by id. Under the fake's lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seasons: dict[int, Season] = {}
        self.ids = itertools.count(FIRST_SEASON_ID)
        self.section_ids = itertools.count(FIRST_SECTION_ID)
        self.episode_ids = itertools.count(FIRST_EPISODE_ID)

    def section(self, section_id: int) -> tuple[Season, Section] | None:
        for season in self.seasons.values():
            for section in season.sections:
                if section.id == section_id:
                    return season, section
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def list_seasons(state: State, req: Request) -> Response:
    """GET /x2/creative/web/seasons?pn=&ps=: the account's seasons, newest first."""
    session = state.session_for(req)
    if session is None:
        return fail(-101)
    pn, ps = _int(req.query.get("pn", "1")), _int(req.query.get("ps", "30"))
    if pn is None or ps is None or pn < 1 or not 1 <= ps <= PS_MAX:
        return fail(-400)
    mine = [s for s in state.seasons.seasons.values() if s.mid == session.mid]
    mine.sort(key=lambda s: (s.ctime, s.id), reverse=True)
    page = mine[(pn - 1) * ps : pn * ps]
    return ok(
        {
            "seasons": [s.to_api() for s in page],
            "tip": {"title": "", "url": ""},
            "total": len(mine),
            "play_type": 1,
        }
    )


def _episodes(body: Any) -> list[tuple[int, int, str]] | None:
    """[(aid, cid, title)] of a well-formed add body's episodes; None if malformed."""
    episodes = body.get("episodes") if isinstance(body, dict) else None
    if not isinstance(episodes, list) or not episodes:
        return None
    found = []
    for episode in episodes:
        if not isinstance(episode, dict):
            return None
        aid, cid = _int(episode.get("aid")), _int(episode.get("cid"))
        title = episode.get("title")
        if not aid or not cid or not isinstance(title, str) or not title.strip():
            return None
        found.append((aid, cid, title))
    return found


def add_episodes(state: State, req: Request) -> Response:
    """POST /x2/creative/web/season/section/episodes/add?csrf=: archives to a section's end."""
    session = state.session_for(req)
    if session is None:
        return fail(-101)
    if req.query.get("csrf") != session.bili_jct:
        return fail(-111)
    try:
        body = req.json()
    except ValueError:
        return fail(-400)
    episodes = _episodes(body)
    section_id = _int(body.get("sectionId")) if isinstance(body, dict) else None
    if episodes is None or section_id is None:
        return fail(-400, "请求错误：需要 sectionId 与 episodes[{title, aid, cid}]")
    found = state.seasons.section(section_id)
    if found is None:
        return fail(-404, "小节不存在")
    season, section = found
    if season.mid != session.mid:
        return fail(-403)
    in_seasons = {e.aid for s in state.seasons.seasons.values() for e in s.episodes()}
    for aid, cid, _ in episodes:
        archive = state.archives.get(aid)
        if archive is None:
            return fail(-404, f"稿件 {aid} 不存在")
        if archive.mid != session.mid:
            return fail(-403, f"稿件 {aid} 不属于你")
        if cid not in [v["cid"] for v in archive.videos]:
            return fail(-400, f"cid {cid} 不属于稿件 {aid}")
        if aid in in_seasons:
            return fail(*ALREADY_ADDED)
        in_seasons.add(aid)
    for aid, cid, title in episodes:
        section.episodes.append(
            Episode(
                id=next(state.seasons.episode_ids),
                aid=aid,
                bvid=state.archives[aid].bvid,
                cid=cid,
                title=title,
                season_id=season.id,
                section_id=section.id,
                order=len(section.episodes) + 1,
            )
        )
    return ok()


ROUTES = {
    key: logged(handler)
    for key, handler in {
        ("GET", "/x2/creative/web/seasons"): list_seasons,
        ("POST", "/x2/creative/web/season/section/episodes/add"): add_episodes,
    }.items()
}


# Controls


class SeasonControls:
    """Collections for tests: mixed into FakeBilibili (which provides `state`)."""

    state: State

    def add_season(
        self, mid: int, title: str = "合集", sections: list[str] | None = None
    ) -> dict[str, Any]:
        """A new season of account `mid` with these sections (default one, "正片")."""
        sections = ["正片"] if sections is None else sections
        if not isinstance(title, str) or not title.strip():
            raise ControlError("title must be a non-empty string")
        if (
            not isinstance(sections, list)
            or not sections
            or not all(isinstance(s, str) and s.strip() for s in sections)
        ):
            raise ControlError("sections must be a non-empty list of titles")
        with self.state.lock:
            owner = _int(mid)
            if owner is None or owner not in self.state.accounts:
                raise ControlError(f"no account {mid}", 404)
            now = int(self.state.now())
            seasons = self.state.seasons
            season = Season(id=next(seasons.ids), mid=owner, title=title, ctime=now)
            season.sections = [
                Section(next(seasons.section_ids), season.id, name, order, now)
                for order, name in enumerate(sections, start=1)
            ]
            seasons.seasons[season.id] = season
            return season.to_dict()

    def seasons(self) -> list[dict[str, Any]]:
        """Every season, oldest first, with its sections and their episodes."""
        with self.state.lock:
            return [s.to_dict() for s in self.state.seasons.seasons.values()]


# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", r"/_fake/seasons", lambda f, b: {"seasons": f.seasons()}),
    ("POST", r"/_fake/seasons", lambda f, b: f.add_season(**b)),
]
