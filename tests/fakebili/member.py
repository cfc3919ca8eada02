"""The member host (creator centre): archive/pre and the category list, the 2025 partition list
(human/type2/list, HUMAN_TYPES), and the calls biliup's clients make around a submit: the tag
check, recommended tags and geetest/pre/add.

The creator centre's routes (these and submit.py's) are logged (MemberState.calls: method, path,
the code answered), so a test can show which submit route a client used and which it never did.

Shapes: archive/pre as §3.10; the tag check as bilibili-API-collect's creativecenter/upload.md
(`data:{code,content}`; a refused tag answers 16025 "tag已经被封印了~"), recommended tags the
same (`data:[{tag,checked,request_id}]` and a request_id beside data), as biliup-rs calls them
(/x/vupre/web/tag/recommend?upload_id=&subtype_id=&title=&filename=&description=&cover_url=&t=).
geetest/pre/add is called by biliup's Python uploader before each submit, which ignores the
answer. All need the web cookies (-101).

Reference: /work/shared/reference/bilibili-protocol.md §3.10. Invented where the sources are
silent: industry_list, showtype_list, staff_activity_conf and neutral_mark; which tags the site
refuses (none, until a test bans some); how tags are recommended (the partition's name and its
parent's, then words of the title); geetest/pre/add's data (a geetest challenge, shaped like
geetest's own register answer).
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakebili.wire import Request, Response, fail, json_response, ok

if TYPE_CHECKING:
    from tests.fakebili.server import State

Handler = Callable[["State", Request], Response]

TAG_BANNED = (16025, "tag已经被封印了~")
RECOMMEND_MAX = 5
# Title words worth recommending: runs of CJK or latin letters, 2 to 10 of them.
TITLE_WORD = re.compile(r"[\u4e00-\u9fff]{2,10}|[A-Za-z]{2,10}")


@dataclass
class Call:
    """One call to a creator-centre route: what was asked, what the envelope's code was."""

    method: str
    path: str
    code: int | None  # None: the answer was not a JSON envelope
    at: float  # the fake's clock


@dataclass
class MemberState:
    """What the creator centre remembers besides archives: every call to its routes, when each
    account last submitted (submit.py, rule "submit_interval"), and the tags it refuses."""

    calls: list[Call] = field(default_factory=list)
    last_submit: dict[int, float] = field(default_factory=dict)
    banned_tags: set[str] = field(default_factory=set)

    def calls_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(call) for call in self.calls]


def _code(response: Response) -> int | None:
    try:
        code = json.loads(response.body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def logged(handler: Handler) -> Handler:
    """`handler`, its calls written to state.member.calls."""

    @functools.wraps(handler)
    def call(state: State, req: Request) -> Response:
        response = handler(state, req)
        state.member.calls.append(
            Call(req.method, req.path, _code(response), state.now())
        )
        return response

    return call


# (id, name, rank, children [(id, name, rank, description)]), real ids and names.
CATEGORIES = [
    (
        160,
        "生活",
        95,
        [
            (138, "搞笑", 30, "搞笑的、轻松有趣的、具有独特笑点或娱乐精神的作品"),
            (21, "日常", 25, "一般日常向的生活类视频"),
            (161, "手工", 20, "手工制品、DIY、小发明等手工相关的视频"),
        ],
    ),
    (
        4,
        "游戏",
        90,
        [
            (17, "单机游戏", 30, "以所有平台的单机或联机游戏为主的视频内容"),
            (171, "电子竞技", 25, "具有高对抗性的电子竞技游戏项目"),
            (172, "手机游戏", 20, "以手机及平板设备为主要平台的游戏"),
            (65, "网络游戏", 15, "由网络运营商运营的多人在线游戏"),
        ],
    ),
    (
        36,
        "知识",
        85,
        [
            (201, "科学科普", 30, "回答你的十万个为什么"),
            (122, "野生技术协会", 20, "技能展示或技能教学分享类视频"),
        ],
    ),
    (
        188,
        "科技",
        80,
        [
            (95, "数码", 30, "科技数码产品大全，一起来做发烧友"),
            (231, "计算机技术", 20, "软硬件开发、人工智能、网络技术等"),
        ],
    ),
]


# The 2025 partitions (human_type2) the creator centre's type2 list gives: the main partitions,
# real ids and names, in its order (bilibili-API-collect creativecenter/upload.md).
HUMAN_TYPES = [
    (1001, "影视"), (1002, "娱乐"), (1003, "音乐"), (1004, "舞蹈"), (1005, "动画"),
    (1006, "绘画"), (1007, "鬼畜"), (1008, "游戏"), (1009, "资讯"), (1010, "知识"),
    (1011, "人工智能"), (1012, "科技数码"), (1013, "汽车"), (1014, "时尚美妆"),
    (1015, "家装房产"), (1016, "户外潮流"), (1017, "健身"), (1018, "体育运动"), (1019, "手工"),
    (1020, "美食"), (1021, "小剧场"), (1022, "旅游出行"), (1023, "三农"), (1024, "动物"),
    (1025, "亲子"), (1026, "健康"), (1027, "情感"), (1029, "vlog"), (1030, "生活兴趣"),
    (1031, "生活经验"),
]  # fmt: skip


def typelist() -> list[dict[str, Any]]:
    tree = []
    for parent_id, name, rank, children in CATEGORIES:
        tree.append(
            {
                "id": parent_id,
                "parent": 0,
                "parent_name": "",
                "name": name,
                "description": name,
                "desc": name,
                "intro_original": "",
                "intro_copy": "",
                "notice": "",
                "copy_right": 0,
                "show": True,
                "rank": rank,
                "max_video_count": 50,
                "request_id": "",
                "children": [
                    {
                        "id": child_id,
                        "parent": parent_id,
                        "parent_name": name,
                        "name": child_name,
                        "description": description,
                        "desc": description,
                        "intro_original": "请注明原创内容的创作过程和亮点",
                        "intro_copy": "请注明转载来源，例如视频链接",
                        "notice": "",
                        "copy_right": 0,
                        "show": True,
                        "rank": child_rank,
                        "max_video_count": 50,
                        "request_id": "",
                    }
                    for child_id, child_name, child_rank, description in children
                ],
            }
        )
    return tree


def archive_pre(state: State, req: Request) -> Response:
    if state.session_for(req) is None:
        return fail(-101)
    return ok(
        {
            "typelist": typelist(),
            "industry_list": [
                {"id": 1, "name": "游戏", "is_show": 1},
                {"id": 2, "name": "数码", "is_show": 1},
                {"id": 3, "name": "美食", "is_show": 1},
            ],
            "showtype_list": [
                {"id": 1, "name": "口播", "is_show": 1},
                {"id": 2, "name": "剧情", "is_show": 1},
            ],
            "staff_activity_conf": {"enable": False, "max_staff": 10},
            "neutral_mark": {"show": False, "text": ""},
        }
    )


def human_type2_list(state: State, req: Request) -> Response:
    """GET /x/vupre/web/archive/human/type2/list?t=: the 2025 partitions, `data.type_list`."""
    if state.session_for(req) is None:
        return fail(-101)
    return ok({"type_list": [{"id": i, "name": name} for i, name in HUMAN_TYPES]})


def tag_check(state: State, req: Request) -> Response:
    """GET /x/vupre/web/topic/tag/check?tag=: may an archive carry this tag?"""
    if state.session_for(req) is None:
        return fail(-101)
    if req.query.get("tag", "").strip() in state.member.banned_tags:
        code, message = TAG_BANNED
        return fail(code, message, {"code": 1, "content": "服务器错误"})
    return ok({"code": 0, "content": ""})


def _category(tid: int | None) -> tuple[str, str] | None:
    """The (name, parent name) of a second-level partition."""
    for _, parent, _, children in CATEGORIES:
        for child_id, name, _, _ in children:
            if child_id == tid:
                return name, parent
    return None


def recommend_tags(state: State, req: Request) -> Response:
    """GET /x/vupre/web/tag/recommend?subtype_id=&title=…: tags for an archive like this one."""
    if state.session_for(req) is None:
        return fail(-101)
    try:
        tid: int | None = int(req.query.get("subtype_id") or "")
    except ValueError:
        tid = None
    found = _category(tid)
    words = [*(found or ()), *TITLE_WORD.findall(req.query.get("title", ""))]
    tags: list[str] = []
    for word in words:
        if word not in tags and word not in state.member.banned_tags:
            tags.append(word)
    request_id = f"TAG_{int(state.now() * 1000)}_{secrets.randbelow(10000)}"
    return json_response(
        {
            "code": 0,
            "data": [
                {"tag": tag, "checked": 0, "request_id": request_id if i == 0 else ""}
                for i, tag in enumerate(tags[:RECOMMEND_MAX])
            ],
            "message": "0",
            "request_id": request_id,
        }
    )


def geetest_pre_add(state: State, req: Request) -> Response:
    """GET /x/geetest/pre/add: what biliup's Python uploader asks before each submit."""
    if state.session_for(req) is None:
        return fail(-101)
    return ok(
        {
            "gt": secrets.token_hex(16),
            "challenge": secrets.token_hex(16),
            "success": 1,
            "new_captcha": True,
        }
    )


ROUTES = {
    ("GET", "/x/vupre/web/archive/pre"): logged(archive_pre),
    ("GET", "/x/vupre/web/archive/human/type2/list"): logged(human_type2_list),
    ("GET", "/x/vupre/web/topic/tag/check"): logged(tag_check),
    ("GET", "/x/vupre/web/tag/recommend"): logged(recommend_tags),
    ("GET", "/x/geetest/pre/add"): logged(geetest_pre_add),
}
