"""A user's published videos: the app cursor list, the web WBI list and the user card.

Three read-only endpoints, no login: the app host's /x/v2/space/archive/cursor (§7.1: an aid
cursor, newest first or most played), the api host's /x/space/wbi/arc/search (§7.2: numbered
pages, WBI-signed as §7.3 says) and the api host's /x/web-interface/card (the uploader's name,
face and follower count). justoneapi.py wraps the first one, as the real JustOneAPI does.

What a user has published is, newest first by ctime (then aid):
- videos added by the controls (SpaceControls: add_space_videos), with increasing aids and each
  one newer than the last, and
- archives made by submit (submit.py) once they are open: the fake's clock has passed their ctime
  plus the review delay (set_space_review; 0 by default), so advance_clock makes a new upload
  appear, unless submit's review_archive settled it (a rejected one never shows). An archive
  shows its Studio title, tid and cover, 60 s long, never played, until set_space_video says
  otherwise.
A user is known if they are an account, were added with add_space_user, or have had videos added;
anyone else is -404 "啥都木有" on all three endpoints. Every listing request (these two and
justoneapi.py's) is logged for tests: endpoint, mid, cursor and pn, never a token.

What the endpoints refuse (the app list unsigned, arc/search without WBI or the dm_* parameters,
a burst of calls) is space_guard.py's, one strict rule each (strict.py).

Reference: /work/shared/reference/bilibili-protocol.md §7.1, §7.2, §7.3, §8 and §9 (IDs);
justoneapi-user-videos-v2.txt (its example is a real app cursor answer: the item fields beyond
§7.1's are taken from it). Invented where the sources are silent:
- -404 for an unknown user, -400 for a cursor aid that is not in the list, an unknown order, a
  ps outside 1..50 on the WBI list or a pn below 1; the app list clamps ps to 1..50 instead.
- Ties: most played, then newest, then the highest aid. cursor_attr.rank is the 1-based place
  in the list's order.
- publish_time_text is "M月D日" in China time, "YYYY年M月D日" for another year (the app also
  says "刚刚" or "N小时前" for recent videos: not modelled). view_content abbreviates from
  10000 plays on ("48万", as the JustOneAPI example shows).
- tlist groups the videos by parent zone (§7.2's example keys 188 "科技" while the video's
  typeid is a child zone), and tid= filters on that parent; keyword= filters titles.
- The card's fields beyond mid, name, face, sign, fans and attention, and its follower count.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tests.fakebili import space_guard
from tests.fakebili.member import CATEGORIES
from tests.fakebili.submit import STATE_OPEN, Archive, archive_state, av2bv
from tests.fakebili.wire import ControlError, Request, Response, fail, ok

if TYPE_CHECKING:
    from tests.fakebili.server import State

Endpoint = Literal["app", "wbi", "justoneapi"]
Order = Literal["pubdate", "click"]

# tid → (name, parent tid, parent name), for the child zones of member.CATEGORIES.
ZONES = {
    child_id: (child_name, parent_id, parent_name)
    for parent_id, parent_name, _, children in CATEGORIES
    for child_id, child_name, _, _ in children
}
DEFAULT_TID = 21  # 日常
# New videos' aids: above every real-looking low aid, below submit's random 2^50 ones.
AID_BASE = 1_000_000_000
CID_BASE = 30_000_000_000
# A new video is at least this much newer than the uploader's newest.
NEWER_BY = 60
# §7.1 app list: 20 a page by default; §7.2 web list: 30. Both take at most 50.
APP_PS = 20
WBI_PS = 30
MAX_PS = 50
ARCHIVE_DURATION = 60
CHINA = 8 * 3600
# More videos than any test needs, in one call.
MAX_ADD = 10_000
# How many logged requests the snapshot shows.
SNAPSHOT_REQUESTS = 20

ORDERS = [
    {"title": "最新发布", "value": "pubdate"},
    {"title": "最多播放", "value": "click"},
]
LAST_WATCHED_LOCATOR = {
    "display_threshold": 10,
    "insert_ranking": 6,
    "text": "定位至上次观看",
}


@dataclass
class SpaceUser:
    """An uploader added by add_space_user; `face` None: the image host's /bfs/face/<mid>.jpg."""

    mid: int
    name: str
    face: str | None = None


@dataclass
class Video:
    """One published video, as the lists show it. `cover` "": /bfs/archive/<bvid>.jpg."""

    aid: int
    bvid: str
    mid: int
    title: str
    tid: int
    duration: int
    play: int
    danmaku: int
    ctime: int
    cid: int
    cover: str = ""
    copyright: int = 1
    parts: int = 1

    @property
    def tname(self) -> str:
        return ZONES.get(self.tid, ("", 0, ""))[0]

    def cover_url(self, base_url: str) -> str:
        if not self.cover:
            return f"{base_url}/bfs/archive/{self.bvid}.jpg"
        return base_url + self.cover if self.cover.startswith("/") else self.cover

    def to_dict(self, base_url: str) -> dict[str, Any]:
        return {
            "aid": self.aid,
            "bvid": self.bvid,
            "mid": self.mid,
            "title": self.title,
            "ctime": self.ctime,
            "play": self.play,
            "danmaku": self.danmaku,
            "duration": self.duration,
            "tid": self.tid,
            "tname": self.tname,
            "cover": self.cover_url(base_url),
        }


class SpaceState:
    """The uploaders, their videos, the review delay and the request log. Under the fake's lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.users: dict[int, SpaceUser] = {}
        # Videos added by the controls, per mid; a mid stays here (known) when all are deleted.
        self.videos: dict[int, list[Video]] = {}
        # How many videos each mid has had added: new default titles go on counting.
        self.added: dict[int, int] = {}
        # Submit's archives: the controls' changes ({play, danmaku, title}) and deletions.
        self.archive_edits: dict[int, dict[str, Any]] = {}
        self.deleted_archives: set[int] = set()
        self.review_seconds = 0.0
        self.requests: list[dict[str, Any]] = []
        self.guard = space_guard.Guard()
        self.next_aid = AID_BASE + random.randrange(100_000_000)
        self.next_cid = CID_BASE + random.randrange(100_000_000)

    def log(
        self,
        endpoint: Endpoint,
        mid: int | None,
        cursor: str | None = None,
        pn: int | None = None,
    ) -> None:
        self.requests.append(
            {"endpoint": endpoint, "mid": mid, "cursor": cursor, "pn": pn}
        )


# Who and what


def _digits(value: str | None) -> int | None:
    """A non-negative int written in ASCII digits; None for anything else."""
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def known(state: State, mid: int) -> bool:
    space = state.space
    return (
        mid in state.accounts
        or mid in space.users
        or mid in space.videos
        or any(a.mid == mid for a in state.archives.values())
    )


def author(state: State, mid: int) -> str:
    """The uploader's name: an account's uname, else the name add_space_user gave."""
    if mid in state.accounts:
        return state.accounts[mid].uname
    user = state.space.users.get(mid)
    return user.name if user is not None else f"用户{mid}"


def face(state: State, mid: int, base_url: str) -> str:
    user = state.space.users.get(mid)
    if user is None or not user.face:
        return f"{base_url}/bfs/face/{mid}.jpg"
    return base_url + user.face if user.face.startswith("/") else user.face


def _archive_video(state: State, archive: Archive) -> Video:
    body = archive.body
    tid = body.get("tid")
    try:
        tid = int(tid)
    except (TypeError, ValueError):
        tid = 0
    copyright_ = 2 if str(body.get("copyright")) == "2" else 1
    video = Video(
        aid=archive.aid,
        bvid=archive.bvid,
        mid=archive.mid,
        title=str(body.get("title") or ""),
        tid=tid,
        duration=ARCHIVE_DURATION,
        play=0,
        danmaku=0,
        ctime=archive.ctime,
        cid=archive.videos[0]["cid"] if archive.videos else 0,
        cover=str(body.get("cover") or ""),
        copyright=copyright_,
        parts=max(1, len(archive.videos)),
    )
    return dataclasses.replace(video, **state.space.archive_edits.get(archive.aid, {}))


def visible(state: State, mid: int) -> list[Video]:
    """What `mid` has published, as the lists see it now: newest first."""
    space = state.space
    videos = list(space.videos.get(mid, []))
    videos += [
        _archive_video(state, archive)
        for archive in state.archives.values()
        if archive.mid == mid
        and archive.aid not in space.deleted_archives
        and archive_state(state, archive) == STATE_OPEN
    ]
    return ordered(videos, "pubdate")


def ordered(videos: list[Video], order: Order) -> list[Video]:
    if order == "click":
        return sorted(videos, key=lambda v: (v.play, v.ctime, v.aid), reverse=True)
    return sorted(videos, key=lambda v: (v.ctime, v.aid), reverse=True)


def _order(value: str | None) -> Order | None:
    if not value or value == "pubdate":
        return "pubdate"
    if value == "click":
        return "click"
    return None


# §7.1 App cursor list


def _publish_time_text(ctime: int, now: float) -> str:
    when = time.gmtime(ctime + CHINA)
    if when.tm_year == time.gmtime(now + CHINA).tm_year:
        return f"{when.tm_mon}月{when.tm_mday}日"
    return f"{when.tm_year}年{when.tm_mon}月{when.tm_mday}日"


def view_content(play: int) -> str:
    """The app's play count text: "1248", "48万" (the JustOneAPI example's 480257)."""
    if play < 10000:
        return str(play)
    return f"{play / 10000:.1f}".removesuffix(".0") + "万"


# The item fields that are the same for every plain video (no paid, interactive or PGC ones).
APP_ITEM_FIXED: dict[str, Any] = {
    "translated_title": "", "translate_status": "", "subtitle": "", "cover_icon": "",
    "goto": "av", "length": "", "is_popular": False, "is_steins": False,
    "is_ugcpay": False, "is_cooperation": False, "is_pgc": False,
    "is_live_playback": False, "is_pugv": False, "is_fold": False, "is_oneself": False,
    "view_self_type": 0, "ugc_pay": 0, "state": False, "icon_type": 0,
    "cover_left_icon": "", "cover_left_text": "", "sub_title_icon": "",
}  # fmt: skip


def _app_item(
    video: Video, name: str, rank: int, base_url: str, now: float
) -> dict[str, Any]:
    return {
        **APP_ITEM_FIXED,
        "title": video.title,
        "tname": video.tname,
        "cover": video.cover_url(base_url),
        "uri": f"bilibili://video/{video.aid}",
        "param": str(video.aid),
        "duration": video.duration,
        "play": video.play,
        "danmaku": video.danmaku,
        "ctime": video.ctime,
        "author": name,
        "bvid": video.bvid,
        "videos": video.parts,
        "three_point": [
            {
                "type": "addtoview",
                "icon": f"{base_url}/bfs/activity-plat/static/0X5s0d3xaY.png",
                "text": "添加至稍后再看",
                "translate": None,
            }
        ],
        "first_cid": video.cid,
        "cursor_attr": {"is_last_watched_arc": False, "rank": rank},
        "view_content": view_content(video.play),
        "publish_time_text": _publish_time_text(video.ctime, now),
    }


def cursor_page(
    state: State, base_url: str, params: dict[str, str]
) -> dict[str, Any] | int:
    """§7.1's data for `params` (vmid, aid, order, ps), or the error code. Not logged: the
    callers log, each as its own endpoint."""
    mid = _digits(params.get("vmid"))
    if mid is None:
        return -400
    order = _order(params.get("order"))
    if order is None:
        return -400
    ps = (params.get("ps") or str(APP_PS)).strip()
    if not re.fullmatch(r"-?\d+", ps, re.ASCII):
        return -400
    ps_value = max(1, min(MAX_PS, int(ps)))
    if not known(state, mid):
        return -404
    videos = ordered(visible(state, mid), order)
    cursor = params.get("aid") or None
    start = 0
    if cursor is not None:
        aids = [str(v.aid) for v in videos]
        if cursor not in aids:
            return -400
        start = aids.index(cursor) + 1
    name = author(state, mid)
    now = state.now()
    page = videos[start : start + ps_value]
    return {
        "episodic_button": {
            "text": "播放全部",
            "uri": (
                f"bilibili://music/playlist/spacepage/{mid}?desc=1&offset=0&oid=0"
                f"&order=time&page_type=1&sort_field=1&total_count={len(videos)}"
            ),
        },
        "order": ORDERS,
        "count": len(videos),
        "item": [
            _app_item(video, name, start + i + 1, base_url, now)
            for i, video in enumerate(page)
        ],
        "last_watched_locator": LAST_WATCHED_LOCATOR,
        "has_next": start + len(page) < len(videos),
        "has_prev": cursor is not None,
    }


def archive_cursor(state: State, req: Request) -> Response:
    """GET /x/v2/space/archive/cursor?vmid=&aid=&order=&ps=&appkey=&ts=&sign= (app host)."""
    state.space.log(
        "app", _digits(req.query.get("vmid")), cursor=req.query.get("aid") or None
    )
    refusal = space_guard.refusal(state, req, "app")
    if refusal is not None:
        return refusal
    data = cursor_page(state, req.base_url, req.query)
    return fail(data) if isinstance(data, int) else ok(data)


# §7.2 Web list, §7.3 WBI


def _length(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def _vlist_item(video: Video, name: str, base_url: str) -> dict[str, Any]:
    return {
        "aid": video.aid,
        "bvid": video.bvid,
        "title": video.title,
        "description": "",
        "pic": video.cover_url(base_url),
        "author": name,
        "mid": video.mid,
        "created": video.ctime,
        "length": _length(video.duration),
        "play": video.play,
        "comment": 0,
        "video_review": video.danmaku,
        "typeid": video.tid,
        "copyright": str(video.copyright),
        "is_live_playback": 0,
        "is_union_video": 0,
        "meta": None,
        "season_id": 0,
        "attribute": 0,
    }


def _parent(tid: int) -> tuple[int, str]:
    _, parent_id, parent_name = ZONES.get(tid, ("", tid, ""))
    return parent_id, parent_name


def arc_search(state: State, req: Request) -> Response:
    """GET /x/space/wbi/arc/search?mid=&pn=&ps=&order=&tid=&keyword=&wts=&w_rid= (api host)."""
    query = req.query
    mid = _digits(query.get("mid"))
    pn = _digits(query.get("pn") or "1")
    state.space.log("wbi", mid, pn=pn)
    refusal = space_guard.refusal(state, req, "wbi")
    if refusal is not None:
        return refusal
    ps = _digits(query.get("ps") or str(WBI_PS))
    # §7.2 lists stow (most favourited) too: favourites are not modelled, so it is pubdate.
    order = "pubdate" if query.get("order") == "stow" else _order(query.get("order"))
    tid = _digits(query.get("tid") or "0")
    if (
        mid is None
        or pn is None
        or pn < 1
        or ps is None
        or not 1 <= ps <= MAX_PS
        or order is None
        or tid is None
    ):
        return fail(-400)
    if not known(state, mid):
        return fail(-404)
    videos = visible(state, mid)
    tlist: dict[str, dict[str, Any]] = {}
    for video in videos:
        parent_id, parent_name = _parent(video.tid)
        zone = tlist.setdefault(
            str(parent_id), {"tid": parent_id, "count": 0, "name": parent_name}
        )
        zone["count"] += 1
    keyword = query.get("keyword", "").strip().lower()
    chosen = [
        v
        for v in ordered(videos, order)
        if (not tid or _parent(v.tid)[0] == tid)
        and (not keyword or keyword in v.title.lower())
    ]
    name = author(state, mid)
    page = chosen[(pn - 1) * ps : pn * ps]
    return ok(
        {
            "list": {
                "slist": [],
                "tlist": tlist,
                "vlist": [_vlist_item(v, name, req.base_url) for v in page],
            },
            "page": {"pn": pn, "ps": ps, "count": len(chosen)},
            "episodic_button": {
                "text": "播放全部",
                "uri": f"//www.bilibili.com/medialist/play/{mid}?from=space",
            },
            "is_risk": False,
            "gaia_res_type": 0,
            "gaia_data": None,
        }
    )


# The user card


def fans(mid: int) -> int:
    """A follower count that stays put for a mid."""
    return mid * 7919 % 100_000


def card(state: State, req: Request) -> Response:
    """GET /x/web-interface/card?mid= (api host, no login)."""
    refusal = space_guard.refusal(state, req, "card")
    if refusal is not None:
        return refusal
    mid = _digits(req.query.get("mid"))
    if mid is None:
        return fail(-400)
    if not known(state, mid):
        return fail(-404)
    account = state.accounts.get(mid)
    followers = fans(mid)
    return ok(
        {
            "card": {
                "mid": str(mid),
                "name": author(state, mid),
                "approve": False,
                "sex": account.sex if account else "保密",
                "rank": "10000",
                "face": face(state, mid, req.base_url),
                "face_nft": 0,
                "sign": account.sign if account else "",
                "fans": followers,
                "friend": 0,
                "attention": 0,
                "level_info": {"current_level": account.level if account else 3},
                "official_verify": {"type": -1, "desc": ""},
            },
            "following": False,
            "archive_count": len(visible(state, mid)),
            "article_count": 0,
            "follower": followers,
            "like_num": 0,
        }
    )


ROUTES = {
    ("GET", "/x/v2/space/archive/cursor"): archive_cursor,
    ("GET", "/x/space/wbi/arc/search"): arc_search,
    ("GET", "/x/web-interface/card"): card,
}


# Controls


def _count(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise ControlError(f"{name} must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be a whole number") from None
    if number < minimum:
        raise ControlError(f"{name} must be at least {minimum}")
    return number


class SpaceControls:
    """The uploaders and their videos, for tests: mixed into FakeBilibili (which provides `state`
    and `url`)."""

    state: State
    url: str

    def add_space_user(
        self, mid: int, name: str, face: str | None = None
    ) -> dict[str, Any]:
        """A known uploader (the lists answer, if empty, instead of -404), or a new name and
        face for one. An account's own uname still wins in the lists (set it with add_account).
        face: a URL, or a path on the image host; None: /bfs/face/<mid>.jpg."""
        mid = _count("mid", mid, 1)
        if not isinstance(name, str) or not name:
            raise ControlError("name must be a non-empty string")
        if face is not None and not isinstance(face, str):
            raise ControlError("face must be a URL, a path or null")
        with self.state.lock:
            user = SpaceUser(mid, name, face or None)
            self.state.space.users[mid] = user
            return {**dataclasses.asdict(user), "face": _face(self, mid)}

    def add_space_videos(
        self,
        mid: int,
        count: int = 1,
        *,
        title: str | None = None,
        play: int | None = None,
        danmaku: int | None = None,
        duration: int | None = None,
        tid: int | None = None,
        ctime: int | None = None,
    ) -> list[dict[str, Any]]:
        """Publish `count` videos as `mid`, oldest first in the answer, each newer than anything
        the uploader had (ctime: now, or a minute after their newest). title: f"视频 {n}",
        numbered per mid; play, danmaku, duration: small numbers that stay put for (mid, n);
        tid: a child zone of member.CATEGORIES (21 日常 by default); ctime: the first video's
        (later ones a minute apart each)."""
        mid = _count("mid", mid, 1)
        count = _count("count", count, 1)
        if count > MAX_ADD:
            raise ControlError(f"count must be at most {MAX_ADD}")
        tid = DEFAULT_TID if tid is None else _count("tid", tid)
        if tid not in ZONES:
            raise ControlError(f"tid {tid} is not a child zone of member.CATEGORIES")
        if title is not None and (not isinstance(title, str) or not title):
            raise ControlError("title must be a non-empty string")
        fixed = {
            "play": None if play is None else _count("play", play),
            "danmaku": None if danmaku is None else _count("danmaku", danmaku),
            "duration": None if duration is None else _count("duration", duration, 1),
        }
        first = None if ctime is None else _count("ctime", ctime)
        with self.state.lock:
            space = self.state.space
            mine = space.videos.setdefault(mid, [])
            owned = [*mine, *(a for a in self.state.archives.values() if a.mid == mid)]
            newest = max((v.ctime for v in owned), default=None)
            if first is not None:
                when = first
            else:
                when = int(self.state.now())
                if newest is not None:
                    when = max(when, newest + NEWER_BY)
            added = []
            for _ in range(count):
                n = space.added.get(mid, 0) + 1
                space.added[mid] = n
                space.next_aid += 1 + random.randrange(1000)
                while space.next_aid in self.state.archives:
                    space.next_aid += 1
                space.next_cid += 1 + random.randrange(1000)
                default_play = 100 + (mid * 7919 + n * 104729) % 9900
                video = Video(
                    aid=space.next_aid,
                    bvid=av2bv(space.next_aid),
                    mid=mid,
                    title=title or f"视频 {n}",
                    tid=tid,
                    duration=fixed["duration"] or 30 + (mid + n * 97) % 1800,
                    play=default_play if fixed["play"] is None else fixed["play"],
                    danmaku=default_play // 37
                    if fixed["danmaku"] is None
                    else fixed["danmaku"],
                    ctime=when,
                    cid=space.next_cid,
                )
                mine.append(video)
                added.append(video.to_dict(self.url))
                when += NEWER_BY
            return added

    def _find_video(self, bvid: str) -> tuple[Video | None, Archive | None]:
        """(the control-added video, or None; the archive, or None) with this bvid."""
        for videos in self.state.space.videos.values():
            for video in videos:
                if video.bvid == bvid:
                    return video, None
        for archive in self.state.archives.values():
            if (
                archive.bvid == bvid
                and archive.aid not in self.state.space.deleted_archives
            ):
                return None, archive
        raise ControlError(f"no published video {bvid}", 404)

    def set_space_video(
        self,
        bvid: str,
        *,
        play: int | None = None,
        danmaku: int | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """Change a published video (added, or a submitted archive, even one still in review):
        its play count, danmaku count or title."""
        changes: dict[str, Any] = {}
        if play is not None:
            changes["play"] = _count("play", play)
        if danmaku is not None:
            changes["danmaku"] = _count("danmaku", danmaku)
        if title is not None:
            if not isinstance(title, str) or not title:
                raise ControlError("title must be a non-empty string")
            changes["title"] = title
        with self.state.lock:
            video, archive = self._find_video(str(bvid))
            if video is not None:
                for name, value in changes.items():
                    setattr(video, name, value)
                return video.to_dict(self.url)
            assert archive is not None
            self.state.space.archive_edits.setdefault(archive.aid, {}).update(changes)
            return _archive_video(self.state, archive).to_dict(self.url)

    def delete_space_video(self, bvid: str) -> None:
        """The video is gone from every list (an archive stays in archives())."""
        with self.state.lock:
            video, archive = self._find_video(str(bvid))
            if video is not None:
                self.state.space.videos[video.mid].remove(video)
            elif archive is not None:
                self.state.space.deleted_archives.add(archive.aid)

    def set_space_review(self, seconds: float) -> None:
        """Submitted archives appear in the lists `seconds` after their ctime (fake clock)."""
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            raise ControlError("seconds must be a number") from None
        if seconds < 0:
            raise ControlError("seconds must be 0 or more")
        with self.state.lock:
            self.state.space.review_seconds = seconds

    def space_videos(self, mid: int) -> list[dict[str, Any]]:
        """What the lists show for `mid` now, newest first (empty for an unknown mid)."""
        with self.state.lock:
            return [v.to_dict(self.url) for v in visible(self.state, int(mid))]

    def space_requests(self) -> list[dict[str, Any]]:
        """Every listing request so far, oldest first: {endpoint ("app", "wbi" or
        "justoneapi"), mid, cursor (app and justoneapi), pn (wbi)}."""
        with self.state.lock:
            return [dict(r) for r in self.state.space.requests]

    def clear_space_requests(self) -> None:
        with self.state.lock:
            self.state.space.requests.clear()

    def space_refusals(self) -> list[dict[str, Any]]:
        """Every space call refused by a strict rule so far, oldest first: {endpoint ("app",
        "wbi" or "card"), rule, code}."""
        with self.state.lock:
            return [dict(r) for r in self.state.space.guard.refused]

    def space_snapshot(self) -> dict[str, Any]:
        """The space section of snapshot()."""
        with self.state.lock:
            space = self.state.space
            mids = sorted(
                set(space.users)
                | set(space.videos)
                | {a.mid for a in self.state.archives.values()}
            )
            return {
                "users": [
                    {
                        "mid": mid,
                        "name": author(self.state, mid),
                        "face": _face(self, mid),
                    }
                    for mid in mids
                ],
                "videos": {str(mid): len(visible(self.state, mid)) for mid in mids},
                "review_seconds": space.review_seconds,
                "requests": [dict(r) for r in space.requests[-SNAPSHOT_REQUESTS:]],
                "request_count": len(space.requests),
                "refusals": [dict(r) for r in space.guard.refused],
            }


def _face(fake: SpaceControls, mid: int) -> str:
    return face(fake.state, mid, fake.url)


_USER = r"/_fake/space/(?P<mid>\d+)"
_VIDEO = r"/_fake/space/videos/(?P<bvid>[^/]+)"
# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("POST", _USER, lambda f, b, mid: f.add_space_user(int(mid), **b)),
    (
        "POST",
        _USER + "/videos",
        lambda f, b, mid: {"videos": f.add_space_videos(int(mid), **b)},
    ),
    (
        "GET",
        _USER + "/videos",
        lambda f, b, mid: {"videos": f.space_videos(int(mid))},
    ),
    ("POST", _VIDEO, lambda f, b, bvid: f.set_space_video(bvid, **b)),
    ("DELETE", _VIDEO, lambda f, b, bvid: f.delete_space_video(bvid)),
    ("POST", r"/_fake/space/review", lambda f, b: f.set_space_review(b["seconds"])),
    ("GET", r"/_fake/space/requests", lambda f, b: {"requests": f.space_requests()}),
    ("DELETE", r"/_fake/space/requests", lambda f, b: f.clear_space_requests()),
    ("GET", r"/_fake/space/refusals", lambda f, b: {"refusals": f.space_refusals()}),
]
