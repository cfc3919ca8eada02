"""Submitting archives: the Studio body, app and web submit and edit, cover upload, and looking
an archive up (to tell whether a submit whose answer was lost went through).

Reference: bilibili-protocol.md §3.9 (cover), §3.10 (recommended tags), §4.1 (body), §4.2 (web),
§4.3 (app), §4.4 (edit, view, list), §8 (codes); bilibili-2026.md "Upload and submit" (the dtime
window; the legacy client submit and edit routes are closed, so nothing here uses them). One
function per endpoint; the job's runner (uploads/runner.py) decides when.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from biliup_site.bilibili import http, partitions
from biliup_site.bilibili.http import BilibiliError
from biliup_site.bilibili.sign import APP_KEYS, app_sign

# §8: "submitting too fast". 21070 is unconfirmed; the reference says to treat it like 137022.
TOO_FAST_CODES = frozenset({21566, 137022, 21070, -702, -799})
TITLE_MAX = 80
# §4.4: an archive's state once reviewed (anything else negative is still in progress).
STATE_OPEN = 0
STATE_REJECTED = -2
# How far down the archive list archive_state looks when it cannot view (no app token).
STATE_LIST_PAGES = 5
DESC_MAX = 2000
TAGS_MAX = 10  # §4.1
# bilibili-2026.md: a scheduled publish time is 2 h to 15 days ahead (else 21006).
DTIME_MIN_AHEAD = 2 * 3600
DTIME_MAX_AHEAD = 15 * 86400
# 创作声明 (replaced charging in 2025): the key a template stores → the id the submit sends as
# `creation_statement: {"id": n}`, for a self-made archive only. Reference: bilibili-2026.md
# "Upload and submit" (biliLive-tools #454, #541: -1 none needed, 1 AI-generated, 2 fiction or
# staged, 3 marketing, 4 personal opinion).
CREATION_STATEMENTS = {"none": -1, "ai": 1, "fiction": 2, "marketing": 3, "opinion": 4}
APP_QUERY = {
    "build": "7800300",
    "c_locale": "zh-Hans_CN",
    "channel": "bili",
    "disable_rcmd": "0",
    "mobi_app": "android",
    "platform": "android",
    "s_locale": "zh-Hans_CN",
    "statistics": '{"appId":1,"platform":3,"version":"7.80.0","abtest":""}',
}
# §4.3 BCut: the Android BCut app's query (biliup-rs submit_by_bcut_android), signed with the BCut
# key; the access_key is the account's own (a TV login's), which mvp/add takes.
BCUT_QUERY = {
    "aurora_version": "2.39.0",
    "build": "2800030",
    "c_locale": "zh-Hans_CN",
    "channel": "master",
    "mobi_app": "android_bbs",
    "montage_version": "1.42.1.0",
    "platform": "android",
    "s_locale": "zh-Hans_CN",
    "sdk_type": "mon",
}
BCUT_UA = (
    "Mozilla/5.0 os/android model/Mi 10 Pro mobi_app/android_bbs build/2800030"
    " channel/master osVer/13 BiliDroid/5.6.0 (bbcallen@gmail.com)"
)


@dataclass(frozen=True)
class Part:
    """One video of an archive: Bilibili's file name, its title and cid (biz_id) if known."""

    filename: str
    title: str
    cid: int | None = None

    def to_video(self, with_cid: bool) -> dict[str, Any]:
        video: dict[str, Any] = {
            "title": self.title[:TITLE_MAX],
            "filename": self.filename,
            "desc": "",
        }
        if with_cid and self.cid:
            video["cid"] = self.cid
        return video


@dataclass(frozen=True)
class Archive:
    aid: int
    bvid: str


@dataclass(frozen=True)
class ArchiveState:
    """§4.4: where an archive's review stands. `state` 0 is open, -2 rejected (see
    reject_reason), -30 and other negatives still in progress; `cids` of its parts, in order."""

    state: int
    state_desc: str
    reject_reason: str
    cids: tuple[int, ...]

    @property
    def is_open(self) -> bool:
        return self.state == STATE_OPEN

    @property
    def is_rejected(self) -> bool:
        return self.state == STATE_REJECTED


class ScheduleRefused(ValueError):
    """The scheduled publish time (dtime) is outside what Bilibili takes; the message says so."""


def check_dtime(dtime: int, now: float | None = None) -> None:
    """Raise ScheduleRefused unless `dtime` is 2 h to 15 days after `now` (default: now)."""
    now = time.time() if now is None else now
    ahead = dtime - now
    if DTIME_MIN_AHEAD <= ahead <= DTIME_MAX_AHEAD:
        return
    try:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(dtime))
    except (OverflowError, OSError, ValueError):
        when = str(dtime)  # past what the platform's time_t or strftime can show
    if ahead < DTIME_MIN_AHEAD:
        distance = (
            f"{-ahead / 3600:.1f} h ago"
            if ahead < 0
            else f"only {ahead / 3600:.1f} h ahead"
        )
    else:
        distance = f"{ahead / 86400:.1f} days ahead"
    raise ScheduleRefused(
        f"The scheduled publish time {when} is {distance}; Bilibili takes 2 hours to"
        " 15 days ahead"
    )


def studio(
    params: Mapping[str, Any],
    title: str,
    parts: Sequence[Part],
    cover: str = "",
    with_cid: bool = False,
    edit: bool = False,
    tags: Sequence[str] | None = None,
) -> dict[str, Any]:
    """§4.1: the archive's body from a job's settings (an UploadTemplate.to_dict() snapshot).

    A dtime outside 2 h to 15 days ahead raises ScheduleRefused rather than being dropped
    (the archive would go public at once); an edit sends the archive's dtime as it is, since
    Bilibili keeps an unchanged one. `tags`, if given, replace the template's. The 2025
    fields: `human_type2` from the template's tid_v2 (partitions.py; `tid` stays, legacy),
    `creation_statement: {"id": n}` on a self-made archive, and charging (open_elec,
    charging_pay) only when the template turns it on."""
    desc = str(params.get("desc") or "")[:DESC_MAX]
    body: dict[str, Any] = {
        "copyright": int(params.get("copyright") or 1),
        "source": str(params.get("source") or ""),
        "tid": int(params.get("tid") or 171),
        "cover": cover,
        "title": title[:TITLE_MAX],
        "desc_format_id": 0,
        "desc": desc,
        "desc_v2": [{"raw_text": desc, "biz_id": "", "type": 1}] if desc else [],
        "dynamic": str(params.get("dynamic") or ""),
        "subtitle": {"open": 0, "lan": ""},
        "tag": ",".join(params.get("tags") or [] if tags is None else tags),
        "videos": [p.to_video(with_cid) for p in parts],
        "open_subtitle": False,
        "interactive": 0,
        "mission_id": None,
        "dolby": int(params.get("dolby") or 0),
        "lossless_music": int(params.get("hires") or 0),
        "no_reprint": int(params.get("no_reprint") or 0),
        # Charging is deprecated: off unless the template turns it on.
        "open_elec": 1 if params.get("open_elec") else 0,
        "is_only_self": int(params.get("is_only_self") or 0),
        "up_selection_reply": bool(params.get("up_selection_reply")),
        "up_close_reply": bool(params.get("up_close_reply")),
        "up_close_danmu": bool(params.get("up_close_danmu")),
    }
    dtime = params.get("dtime")
    if dtime:
        if not edit:
            check_dtime(int(dtime))
        body["dtime"] = int(dtime)
    if body["open_elec"]:
        body["charging_pay"] = 1
    if params.get("tid_v2"):
        # The 2025 partition; `tid` stays as the legacy field (alone, Bilibili files the
        # archive under 生活-日常).
        body["human_type2"] = partitions.human_type2(int(params["tid_v2"]))
    if body["copyright"] != 2:
        body["source"] = ""
        statement = CREATION_STATEMENTS.get(str(params.get("creation_statement") or ""))
        if statement is not None:
            body["creation_statement"] = {"id": statement}
    # biliup's escape hatch: anything Bilibili takes that the template does not model.
    body.update(params.get("extra_fields") or {})
    return body


def _token(credential: dict[str, Any]) -> str:
    token = http.access_token(credential)
    if not token:
        raise BilibiliError(
            -101,
            "this account has no app token (a web login): use submit_api web, or log in"
            " with the QR code",
        )
    return token


def _app_query(credential: dict[str, Any], **extra: Any) -> dict[str, str]:
    token = _token(credential)
    key = APP_KEYS.get(credential.get("platform") or "BiliTV", APP_KEYS["BiliTV"])
    return app_sign(
        {"access_key": token, **APP_QUERY, "ts": int(time.time()), **extra}, key
    )


def _csrf(credential: dict[str, Any]) -> str:
    csrf = http.cookie_value(credential, "bili_jct")
    if not csrf:
        raise BilibiliError(-101, "this account's cookies lack bili_jct (csrf)")
    return csrf


def _archive(data: Any) -> Archive:
    if not isinstance(data, dict) or not data.get("aid"):
        raise http.BilibiliUnavailable("the submit answer has no aid")
    return Archive(int(data["aid"]), str(data.get("bvid") or ""))


def _post_archive(
    credential: dict[str, Any], api: str, web_path: str, app_path: str, body: Any
) -> Archive:
    if api == "web":
        url = http.member_url(web_path)
        query = {"t": int(time.time() * 1000), "csrf": _csrf(credential)}
        sess = http.session(credential)
    else:
        url = http.member_url(app_path)
        query = _app_query(credential)
        sess = http.session(credential, app=True)
    with sess:
        return _archive(http.call(sess, "POST", url, params=query, json=body))


def add(credential: dict[str, Any], api: str, body: dict[str, Any]) -> Archive:
    """§4.2/§4.3: submit a new archive by the app (default), web or BCut ("bcut") endpoint."""
    if api == "bcut":
        query = app_sign(
            {"access_key": _token(credential), **BCUT_QUERY, "ts": int(time.time())},
            APP_KEYS["BCut"],
        )
        with http.session(credential, app=True) as sess:
            sess.headers["User-Agent"] = BCUT_UA
            data = http.call(
                sess, "POST", http.member_url("/x/vu/mvp/add"), params=query, json=body
            )
        return _archive(data)
    return _post_archive(credential, api, "/x/vu/web/add/v3", "/x/vu/app/add", body)


def edit(credential: dict[str, Any], api: str, body: dict[str, Any]) -> Archive:
    """§4.4: replace an archive's body (with `aid`); used to append parts."""
    return _post_archive(credential, api, "/x/vu/web/edit", "/x/vu/app/edit/full", body)


def recommend_tags(
    credential: dict[str, Any], tid: int, title: str, filename: str = ""
) -> list[str]:
    """§3.10: the tags Bilibili's creator centre suggests for an archive like this, best first
    (biliup-rs fills an empty tag list from them)."""
    with http.session(credential) as sess:
        data = http.call(
            sess,
            "GET",
            http.member_url("/x/vupre/web/tag/recommend"),
            params={
                "upload_id": "",
                "subtype_id": tid,
                "title": title,
                "filename": filename,
                "description": "",
                "cover_url": "",
                "t": int(time.time() * 1000),
            },
        )
    return [
        str(item["tag"])
        for item in data or []
        if isinstance(item, dict) and str(item.get("tag") or "").strip()
    ]


def view_parts(credential: dict[str, Any], aid: int) -> list[Part] | None:
    """§4.4: the parts an archive has now; None when the account has no app token to ask."""
    data = _view(credential, aid)
    if data is None:
        return None
    return [
        Part(str(v.get("filename", "")), str(v.get("title", "")), v.get("cid"))
        for v in data.get("videos") or []
        if isinstance(v, dict)
    ]


def _view(credential: dict[str, Any], aid: int) -> dict[str, Any] | None:
    """§4.4 view: the archive and its videos; None when the account has no app token."""
    token = http.access_token(credential)
    if not token:
        return None
    with http.session(credential, app=True) as sess:
        data = http.call(
            sess,
            "GET",
            http.member_url("/x/client/archive/view"),
            params={"access_key": token, "aid": aid},
        )
    return data if isinstance(data, dict) else {}


def _archive_state(arc: Any, videos: Any) -> ArchiveState:
    arc = arc if isinstance(arc, dict) else {}
    return ArchiveState(
        state=int(arc.get("state") or 0),
        state_desc=str(arc.get("state_desc") or ""),
        reject_reason=str(arc.get("reject_reason") or ""),
        cids=tuple(
            int(v["cid"])
            for v in videos or []
            if isinstance(v, dict) and str(v.get("cid") or "").isdigit()
        ),
    )


def archive_state(credential: dict[str, Any], aid: int) -> ArchiveState:
    """§4.4: the archive's review state and part cids, by view (app token) or else (or when
    the view lacks the state) by looking for it in the first pages of the archive list.
    Raises BilibiliError(-404) if the list does not hold it."""
    data = _view(credential, aid)
    if data is not None:
        arc = data.get("archive")
        # A view without the state says nothing of the review: the list does.
        if isinstance(arc, dict) and "state" in arc:
            return _archive_state(arc, data.get("videos"))
    for item in _archive_list(credential, STATE_LIST_PAGES):
        arc = item.get("Archive")
        if isinstance(arc, dict) and int(arc.get("aid") or 0) == aid:
            return _archive_state(arc, item.get("Videos"))
    raise BilibiliError(-404, f"archive av{aid} is not in the account's archive list")


def recent_archives(
    credential: dict[str, Any], pages: int = 2
) -> list[tuple[Archive, str, int, list[str]]]:
    """§4.4 list: (archive, title, ctime, part file names if given) of the newest archives."""
    found = []
    for item in _archive_list(credential, pages):
        arc = item.get("Archive") or {}
        videos = item.get("Videos") or []
        found.append(
            (
                Archive(int(arc.get("aid") or 0), str(arc.get("bvid") or "")),
                str(arc.get("title") or ""),
                int(arc.get("ctime") or 0),
                [str(v.get("filename")) for v in videos if isinstance(v, dict)],
            )
        )
    return found


def _archive_list(credential: dict[str, Any], pages: int) -> Iterator[dict[str, Any]]:
    """§4.4 list: the account's archives (each {Archive, Videos}), newest first, up to
    `pages` pages of 20."""
    with http.session(credential) as sess:
        for pn in range(1, pages + 1):
            data = http.call(
                sess,
                "GET",
                http.member_url("/x/web/archives"),
                params={"status": "is_pubing,pubed,not_pubed", "pn": pn, "ps": 20},
            )
            audits = (data or {}).get("arc_audits") or []
            yield from (item for item in audits if isinstance(item, dict))
            if len(audits) < 20:
                return


def find_submitted(
    credential: dict[str, Any], title: str, filenames: Sequence[str], since: float
) -> Archive | None:
    """The archive a submit made if it went through though its answer was lost: same title,
    made after `since`, holding our first file (checked by viewing it when the list is silent)."""
    for archive, arc_title, ctime, names in recent_archives(credential):
        if arc_title != title[:TITLE_MAX] or (ctime and ctime < since - 120):
            continue
        if not names:
            parts = view_parts(credential, archive.aid)
            names = [p.filename for p in parts] if parts is not None else []
        if not names or filenames[0] in names:
            return archive
    return None


def upload_cover(credential: dict[str, Any], image: bytes) -> str:
    """§3.9: the cover image's URL on Bilibili's image host."""
    kind = "png" if image.startswith(b"\x89PNG") else "jpeg"
    encoded = base64.b64encode(image).decode()
    with http.session(credential) as sess:
        data = http.call(
            sess,
            "POST",
            http.member_url("/x/vu/web/cover/up"),
            params={"ts": int(time.time() * 1000)},
            data={
                "cover": f"data:image/{kind};base64,{encoded}",
                "csrf": _csrf(credential),
            },
        )
    url = str((data or {}).get("url") or "")
    if not url:
        raise http.BilibiliUnavailable("the cover upload answer has no url")
    # The Python client strips "http:" so the page picks its scheme.
    return url.removeprefix("http:")
