"""The creator endpoints on the member host: cover upload, submit, edit, archive view and list.

Submit takes the "Studio" JSON of §4.1, from the app (signed query with an access_key, §4.3),
BCut (/x/vu/mvp/add, the same signed with the BCut key, §4.3) or the web (cookies and csrf,
§4.2), and makes an archive: a random aid, its bvid (§9), the whole
body as sent, and one part per video, whose cid is the UPOS upload's biz_id. A video's filename
must be a completed UPOS upload (upos.py) of the same account. Edit replaces an archive's body,
keeping its parts first (§4.4); view and list read the archives back.

Checks, with their codes: a title of 1 to 80 characters (21103), a tid among member.CATEGORIES'
children, 1 to 10 tags, copyright 1 or 2, a repost's source, a non-empty videos list (all 21001),
and each new video's file (-616); the 2025 partition (human_type2) and creation statement as
submit_form.py checks them. On edit: an unknown aid is -404, another account's -403, and
videos must start with the archive's parts, in order (21001).

Strict rules (strict.py; bilibili-2026.md "Upload and submit"), each switchable:
- "client_add_closed": the legacy client routes, /x/vu/client/add and /x/vu/client/edit, answer
  21590 "投稿工具已停用" (closed 2025-07-15). Off, they take §4.3's old form (the Studio JSON,
  `access_key` in the query, no sign), as they did.
- "submit_interval": a submit (app, web, BCut or client add; not an edit) within SUBMIT_INTERVAL
  seconds of the same account's last accepted one, on the fake's clock, answers 21566.
  137022 is left to injected faults.
- "dtime_window": a dtime less than 2 h or more than 15 days ahead of the fake's clock answers
  21006 "发布时间离当前时间必须≥2小时且≤15天，请重新选择" (an edit keeping the archive's dtime
  passes). Off, any dtime that is a number passes.

Review: a new archive is under review (state -30, 审核中, "is_pubing" in the list's status
filter) until the fake's clock passes its ctime plus the review delay (set_review, the same knob as
space.py's set_space_review; 0 by default, so an archive is open at once unless a test asks),
then open (0, 开放浏览, "pubed"). review_archive settles one at once: public, or rejected (-2,
已退回, "not_pubed") with a reject_reason. An edit does not send an archive back to review
(invented: the real site re-reviews edits). View and list show state, state_desc and
reject_reason; the space lists show open archives only (space.py).

Reference: /work/shared/reference/bilibili-protocol.md §3.9 (cover), §4 (submit, edit, view,
list), §8 (codes) and §9 (IDs, auth); bilibili-2026.md (the strict rules; 21006's wording is
biliup#221/#257's with the web's 2-hour minimum of biliup-app#39/#76 and biliAPI#3, the 30 s
between submits is the creator centre's "30秒一稿"). Invented where the sources are silent: the
messages of 21001 and 21103 for each check (Bilibili's own wording is unknown), an empty title
answering 21103, which archive fields view adds defaults for, that the view's sign is checked
only if one is sent, that only accepted submits start the 30 s, and that edits are not limited.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakebili import submit_form
from tests.fakebili.member import CATEGORIES, logged
from tests.fakebili.wire import (
    BCUT_APPKEY,
    ControlError,
    Request,
    Response,
    check_app_sign,
    fail,
    ok,
)

if TYPE_CHECKING:
    from tests.fakebili.server import State

# §9: av ↔ bv.
AV_XOR = 23442827791579
AV_MASK = 2**51 - 1
AV_MAX = 2**51
BV_ALPHABET = "FcwAPNKTMug3GV5Lj7EJnHpWsx4tb8haYeviqBz6rkCy12mUSDQX9RdoZf"

TITLE_MAX = 80
TAGS_MAX = 10  # §4.1
# bilibili-2026.md: a scheduled publish time is 2 h to 15 days ahead.
DTIME_MIN_AHEAD = 2 * 3600
DTIME_MAX_AHEAD = 15 * 86400
DTIME_REFUSED = (21006, "发布时间离当前时间必须≥2小时且≤15天，请重新选择")
# The creator centre takes one submit per account every 30 s.
SUBMIT_INTERVAL = 30.0
CLIENT_CLOSED = (21590, "投稿工具已停用")
TIDS = {child[0] for _, _, _, children in CATEGORIES for child in children}
COVER_DATA_URL = re.compile(r"data:image/(?:jpeg|jpg|png);base64,(?P<data>.*)", re.S)
# The fields view always gives, whatever the Studio held.
VIEW_DEFAULTS: dict[str, Any] = {
    "title": "",
    "tid": 0,
    "tag": "",
    "copyright": 1,
    "source": "",
    "desc": "",
    "cover": "",
    "dynamic": "",
    "no_reprint": 0,
}


def av2bv(aid: int) -> str:
    """§9: the bvid of an aid (below 2^51)."""
    chars = list("BV1000000000")
    t = (AV_MAX | aid) ^ AV_XOR
    for position in range(11, 2, -1):
        t, digit = divmod(t, 58)
        chars[position] = BV_ALPHABET[digit]
    chars[3], chars[9] = chars[9], chars[3]
    chars[4], chars[7] = chars[7], chars[4]
    return "".join(chars)


def bv2av(bvid: str) -> int:
    """§9: the aid of a bvid. Raises ValueError on a malformed one."""
    chars = list(bvid)
    if len(chars) != 12 or bvid[:3].upper() != "BV1":
        raise ValueError(f"not a bvid: {bvid!r}")
    chars[3], chars[9] = chars[9], chars[3]
    chars[4], chars[7] = chars[7], chars[4]
    t = 0
    for char in chars[3:]:
        t = t * 58 + BV_ALPHABET.index(char)
    return (t & AV_MASK) ^ AV_XOR


@dataclass
class Archive:
    aid: int
    bvid: str
    mid: int
    ctime: int
    body: dict[str, Any]  # the Studio JSON as last sent
    videos: list[dict[str, Any]]  # {title, filename, desc, cid}
    # The review's verdict when a control gave one (0 open, -2 rejected); None: the clock's.
    verdict: int | None = None
    reject_reason: str = ""

    @property
    def dtime(self) -> int:
        return _int(self.body.get("dtime")) or 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "aid": self.aid,
            "bvid": self.bvid,
            "mid": self.mid,
            "ctime": self.ctime,
            "body": self.body,
            "videos": self.videos,
            # Where the site filed it (submit_form.py: a legacy tid alone lands in 生活-日常).
            "partition": submit_form.partition_of(self.body),
        }


STATE_OPEN = 0
STATE_REJECTED = -2
STATE_REVIEWING = -30
STATE_DESC = {
    STATE_OPEN: "开放浏览",
    STATE_REJECTED: "已退回",
    STATE_REVIEWING: "审核中",
}
# The list's status filter (§4.4): which states each name selects.
STATUS_FILTER = {
    "is_pubing": STATE_REVIEWING,
    "pubed": STATE_OPEN,
    "not_pubed": STATE_REJECTED,
}


def archive_state(state: State, archive: Archive) -> int:
    """The archive's review state now: a control's verdict, else under review until the fake's
    clock passes ctime plus the review delay."""
    if archive.verdict is not None:
        return archive.verdict
    if state.now() >= archive.ctime + state.space.review_seconds:
        return STATE_OPEN
    return STATE_REVIEWING


def review_fields(state: State, archive: Archive) -> dict[str, Any]:
    """state, state_desc and reject_reason, as view and list give them."""
    code = archive_state(state, archive)
    return {
        "state": code,
        "state_desc": STATE_DESC[code],
        "reject_reason": archive.reject_reason if code == STATE_REJECTED else "",
    }


def _int(value: Any) -> int | None:
    """An int, or a string of one; None for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


# Auth


def _signed_token(state: State, req: Request) -> Any:
    """The live token of a signed app query's access_key, or the refusal (a Response)."""
    if state.check_sign:
        code = check_app_sign(req)
        if code:
            return fail(code)
    token = state.live_token(req.query.get("access_key", ""))
    return fail(-101) if token is None else token


def _app_mid(state: State, req: Request) -> int | Response:
    """§4.3: the mid of the signed query's access_key."""
    token = _signed_token(state, req)
    if isinstance(token, Response):
        return token
    appkey = req.query.get("appkey")
    if appkey and appkey != token.appkey:
        # §0: a token only works with the appkey pair that issued it.
        return fail(-663)
    return token.mid


def _bcut_mid(state: State, req: Request) -> int | Response:
    """§4.3 (BCut): the mid of the access_key, the query signed with the BCut key. The token may
    be one another key issued: biliup-rs sends its TV login's token to mvp/add. Invented: a query
    signed with another key answers -3 (the route is BCut's)."""
    if req.query.get("appkey") != BCUT_APPKEY:
        return fail(-3)
    token = _signed_token(state, req)
    return token if isinstance(token, Response) else token.mid


def _client_mid(state: State, req: Request) -> int | Response:
    """§4.3 (legacy client): the mid of the query's access_key; there is no sign."""
    if state.rules["client_add_closed"]:
        return fail(*CLIENT_CLOSED)
    token = state.live_token(req.query.get("access_key", ""))
    if token is None:
        return fail(-101)
    return token.mid


def _web_mid(state: State, req: Request) -> int | Response:
    """§4.2: the mid of the cookies, if csrf (query or form) is their bili_jct."""
    session = state.session_for(req)
    if session is None:
        return fail(-101)
    if req.params().get("csrf") != session.bili_jct:
        return fail(-111)
    return session.mid


# §3.9 Cover


def cover_up(state: State, req: Request) -> Response:
    mid = _web_mid(state, req)
    if isinstance(mid, Response):
        return mid
    match = COVER_DATA_URL.fullmatch(req.form.get("cover", "").strip())
    if match is None:
        return fail(-400, "封面格式错误")
    # A "+" sent unescaped in a form arrives as a space.
    text = "".join(match["data"].replace(" ", "+").split())
    try:
        image = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return fail(-400, "封面格式错误")
    if not image.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        return fail(-400, "封面格式错误")
    digest = hashlib.sha1(image).hexdigest()
    return ok({"url": f"{req.base_url}/bfs/archive/{digest}.jpg"})


# §4 Submit and edit


def _studio(req: Request) -> dict[str, Any] | Response:
    try:
        body = req.json()
    except ValueError:
        return fail(-400)
    return body if isinstance(body, dict) else fail(-400)


def _check_studio(
    state: State, mid: int, body: dict[str, Any], archive: Archive | None = None
) -> list[dict[str, Any]] | Response:
    """§4.1: the body's parts ({title, filename, desc, cid}) if it is a valid Studio for `mid`
    (an edit of `archive`, if given); else the refusal."""
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        return fail(21103, "标题不能为空")
    if len(title) > TITLE_MAX:
        return fail(21103)
    if _int(body.get("tid")) not in TIDS:
        return fail(21001, f"分区 {body.get('tid')!r} 不存在")
    if (refused := submit_form.check(body)) is not None:
        return refused
    tag = body.get("tag")
    tags = [t for t in tag.split(",") if t.strip()] if isinstance(tag, str) else []
    if not 1 <= len(tags) <= TAGS_MAX:
        return fail(21001, f"标签须为 1 到 {TAGS_MAX} 个")
    copyright_ = _int(body.get("copyright"))
    if copyright_ not in (1, 2):
        return fail(21001, "copyright 须为 1（自制）或 2（转载）")
    if copyright_ == 2 and not str(body.get("source") or "").strip():
        return fail(21001, "转载稿件须填写来源")
    if body.get("dtime") not in (None, 0):
        dtime = _int(body["dtime"])
        if dtime is None:
            return fail(21001, "dtime 须为 unix 时间（秒）")
        unchanged = archive is not None and dtime == archive.dtime
        ahead = dtime - state.now()
        in_window = DTIME_MIN_AHEAD <= ahead <= DTIME_MAX_AHEAD
        if state.rules["dtime_window"] and not in_window and not unchanged:
            return fail(*DTIME_REFUSED)
    videos = body.get("videos")
    if not isinstance(videos, list) or not videos:
        return fail(21001, "videos 不能为空")
    if not all(
        isinstance(v, dict) and isinstance(v.get("filename"), str) for v in videos
    ):
        return fail(21001, "每个分P须有 filename")
    kept = archive.videos if archive is not None else []
    if [v["filename"] for v in videos[: len(kept)]] != [v["filename"] for v in kept]:
        return fail(21001, "须按原顺序保留已有分P")
    parts = []
    for index, video in enumerate(videos):
        if index < len(kept):
            cid = kept[index]["cid"]
        else:
            file = state.upos.files.get(video["filename"])
            if file is None or file.mid != mid:
                return fail(-616)
            cid = file.biz_id
        parts.append(
            {
                "title": str(video.get("title") or ""),
                "filename": video["filename"],
                "desc": str(video.get("desc") or ""),
                "cid": cid,
            }
        )
    return parts


def _add(state: State, req: Request, mid: int | Response) -> Response:
    if isinstance(mid, Response):
        return mid
    body = _studio(req)
    if isinstance(body, Response):
        return body
    parts = _check_studio(state, mid, body)
    if isinstance(parts, Response):
        return parts
    now = state.now()
    last = state.member.last_submit.get(mid)
    if (
        state.rules["submit_interval"]
        and last is not None
        and now - last < SUBMIT_INTERVAL
    ):
        return fail(21566)
    state.member.last_submit[mid] = now
    aid = secrets.randbelow(2**50) + 1
    while aid in state.archives:
        aid = secrets.randbelow(2**50) + 1
    archive = Archive(
        aid=aid,
        bvid=av2bv(aid),
        mid=mid,
        ctime=int(now),
        body=body,
        videos=parts,
    )
    state.archives[aid] = archive
    return ok({"aid": archive.aid, "bvid": archive.bvid})


def _edit(state: State, req: Request, mid: int | Response) -> Response:
    if isinstance(mid, Response):
        return mid
    body = _studio(req)
    if isinstance(body, Response):
        return body
    archive = state.archives.get(_int(body.get("aid")) or 0)
    if archive is None:
        return fail(-404)
    if archive.mid != mid:
        return fail(-403)
    parts = _check_studio(state, mid, body, archive)
    if isinstance(parts, Response):
        return parts
    archive.body = body
    archive.videos = parts
    return ok({"aid": archive.aid, "bvid": archive.bvid})


def app_add(state: State, req: Request) -> Response:
    return _add(state, req, _app_mid(state, req))


def web_add(state: State, req: Request) -> Response:
    return _add(state, req, _web_mid(state, req))


def bcut_add(state: State, req: Request) -> Response:
    return _add(state, req, _bcut_mid(state, req))


def client_add(state: State, req: Request) -> Response:
    return _add(state, req, _client_mid(state, req))


def client_edit(state: State, req: Request) -> Response:
    return _edit(state, req, _client_mid(state, req))


def app_edit(state: State, req: Request) -> Response:
    return _edit(state, req, _app_mid(state, req))


def web_edit(state: State, req: Request) -> Response:
    return _edit(state, req, _web_mid(state, req))


# §4.4 View and list


def _find(state: State, params: dict[str, str]) -> Archive | None:
    if params.get("aid"):
        return state.archives.get(_int(params["aid"]) or 0)
    bvid = params.get("bvid", "")
    return next((a for a in state.archives.values() if a.bvid == bvid), None)


def archive_view(state: State, req: Request) -> Response:
    """GET /x/client/archive/view?access_key=&aid= (or bvid=): the archive's Studio fields and
    its parts, for an append."""
    if state.check_sign and "sign" in req.query:
        code = check_app_sign(req)
        if code:
            return fail(code)
    token = state.live_token(req.query.get("access_key", ""))
    if token is None:
        return fail(-101)
    archive = _find(state, req.query)
    if archive is None:
        return fail(-404)
    if archive.mid != token.mid:
        return fail(-403)
    studio = {k: v for k, v in archive.body.items() if k not in ("videos", "aid")}
    return ok(
        {
            "archive": {
                **VIEW_DEFAULTS,
                **studio,
                "aid": archive.aid,
                "bvid": archive.bvid,
                **review_fields(state, archive),
            },
            "videos": [{**video, "duration": 0} for video in archive.videos],
        }
    )


def archives_list(state: State, req: Request) -> Response:
    """GET /x/web/archives?status=&pn=&ps=: the account's archives, newest first."""
    session = state.session_for(req)
    if session is None:
        return fail(-101)
    pn = max(1, _int(req.query.get("pn")) or 1)
    ps = max(1, _int(req.query.get("ps")) or 10)
    wanted = {s for s in req.query.get("status", "").split(",") if s}
    mine = [a for a in reversed(state.archives.values()) if a.mid == session.mid]
    if wanted:
        states = {STATUS_FILTER[s] for s in wanted if s in STATUS_FILTER}
        mine = [a for a in mine if archive_state(state, a) in states]
    # Stable: archives of the same second stay newest first.
    mine.sort(key=lambda a: a.ctime, reverse=True)
    page = mine[(pn - 1) * ps : pn * ps]
    audits = [
        {
            "Archive": {
                "aid": a.aid,
                "bvid": a.bvid,
                "title": a.body.get("title", ""),
                "cover": a.body.get("cover", ""),
                "desc": a.body.get("desc", ""),
                "duration": 0,
                **review_fields(state, a),
                "dtime": a.dtime,
                "ptime": a.dtime or a.ctime,
                "ctime": a.ctime,
            },
            "Videos": [
                {"title": v["title"], "filename": v["filename"], "cid": v["cid"]}
                for v in a.videos
            ],
        }
        for a in page
    ]
    return ok({"arc_audits": audits, "page": {"pn": pn, "ps": ps, "count": len(mine)}})


ROUTES = {
    key: logged(handler)
    for key, handler in {
        ("POST", "/x/vu/web/cover/up"): cover_up,
        ("POST", "/x/vu/app/add"): app_add,
        # §4.3: BCut's submit, signed with the BCut key.
        ("POST", "/x/vu/mvp/add"): bcut_add,
        ("POST", "/x/vu/web/add/v3"): web_add,
        # §4.2: the older web submit takes the same body.
        ("POST", "/x/vu/web/add"): web_add,
        # §4.3, §4.4: the legacy client routes, closed (rule "client_add_closed").
        ("POST", "/x/vu/client/add"): client_add,
        ("POST", "/x/vu/client/edit"): client_edit,
        ("POST", "/x/vu/app/edit/full"): app_edit,
        ("POST", "/x/vu/web/edit"): web_edit,
        ("GET", "/x/client/archive/view"): archive_view,
        ("GET", "/x/web/archives"): archives_list,
    }.items()
}


# Controls


class SubmitControls:
    """The archives, the creator centre's call log and its refused tags, for tests: mixed into
    FakeBilibili (which provides `state`)."""

    state: State

    def archives(self) -> list[dict[str, Any]]:
        """Every archive, oldest first: mid, aid, bvid, ctime, body, parts and the review's
        state, state_desc and reject_reason."""
        with self.state.lock:
            return [
                {**a.to_dict(), **review_fields(self.state, a)}
                for a in self.state.archives.values()
            ]

    def review_archive(
        self, aid: int, verdict: str, reject_reason: str = ""
    ) -> dict[str, Any]:
        """Settle an archive's review now: "public", "rejected" (with reject_reason) or
        "clock" (back to the review delay's say)."""
        verdicts = {"public": STATE_OPEN, "rejected": STATE_REJECTED, "clock": None}
        if verdict not in verdicts:
            raise ControlError(f"verdict must be one of {sorted(verdicts)}")
        if not isinstance(reject_reason, str):
            raise ControlError("reject_reason must be a string")
        if verdict == "rejected" and not reject_reason.strip():
            raise ControlError("a rejection needs a reject_reason")
        with self.state.lock:
            archive = self.state.archives.get(_int(aid) or 0)
            if archive is None:
                raise ControlError(f"no archive {aid}", 404)
            archive.verdict = verdicts[verdict]
            archive.reject_reason = reject_reason if verdict == "rejected" else ""
            return {**archive.to_dict(), **review_fields(self.state, archive)}

    def set_review(self, seconds: float) -> None:
        """New archives are under review for `seconds` after their ctime (the fake's clock);
        the same delay as set_space_review."""
        self.set_space_review(seconds)  # type: ignore[attr-defined]

    def member_calls(self) -> list[dict[str, Any]]:
        """Every call to a creator-centre route (member.py, submit.py), oldest first: method,
        path, the code answered (None if not an envelope) and when (the fake's clock)."""
        with self.state.lock:
            return self.state.member.calls_as_dicts()

    def ban_tags(self, tags: list[str]) -> list[str]:
        """The tag check refuses these tags (16025) from now on, and recommendations skip
        them; returns every refused tag."""
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ControlError("tags must be a list of strings")
        with self.state.lock:
            self.state.member.banned_tags.update(t.strip() for t in tags)
            return sorted(self.state.member.banned_tags)


# (method, path pattern, action(fake, json body, **groups)), as in server.CONTROL_ROUTES.
CONTROL_ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", r"/_fake/archives", lambda f, b: f.archives()),
    ("GET", r"/_fake/member/calls", lambda f, b: f.member_calls()),
    ("POST", r"/_fake/archives/review", lambda f, b: f.set_review(b["seconds"])),
    (
        "POST",
        r"/_fake/archives/(?P<aid>\d+)/review",
        lambda f, b, aid: f.review_archive(int(aid), **b),
    ),
    ("POST", r"/_fake/member/banned_tags", lambda f, b: f.ban_tags(**b)),
]
