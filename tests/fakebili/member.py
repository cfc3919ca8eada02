"""The member host (creator centre): archive/pre, the category list.

Reference: /work/shared/reference/bilibili-protocol.md §3.10. Only typelist's shape is documented;
industry_list, showtype_list, staff_activity_conf and neutral_mark are plausible stand-ins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakebili.wire import Request, Response, fail, ok

if TYPE_CHECKING:
    from tests.fakebili.server import State

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


ROUTES = {("GET", "/x/vupre/web/archive/pre"): archive_pre}
