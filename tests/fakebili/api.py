"""The api host: nav (login state and WBI keys) and space/myinfo.

Reference: /work/shared/reference/bilibili-protocol.md §2 and §7.3 (WBI keys).
"""

from __future__ import annotations

import random
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from tests.fakebili.strict import FIRST_WBI_KEYS
from tests.fakebili.wire import Request, Response, fail, json_response, ok

if TYPE_CHECKING:
    from tests.fakebili.server import Account, State

# §7.3 test vectors: the WBI keys are the file names of nav's wbi_img URLs. These are the first
# keys; they rotate (state.wbi_keys, strict.py).
WBI_IMG_KEY, WBI_SUB_KEY = FIRST_WBI_KEYS
# Experience needed to reach each level (level 6 is the top: next_exp "--").
LEVEL_EXP = [0, 1, 200, 1500, 4500, 10800, 28800]


def wbi_img(base_url: str, keys: tuple[str, str]) -> dict[str, str]:
    img_key, sub_key = keys
    return {
        "img_url": f"{base_url}/bfs/wbi/{img_key}.png",
        "sub_url": f"{base_url}/bfs/wbi/{sub_key}.png",
    }


def _level(account: Account) -> dict[str, Any]:
    level = max(0, min(6, account.level))
    current_min = LEVEL_EXP[level]
    if level == 6:
        return {
            "current_level": 6,
            "current_min": current_min,
            "current_exp": current_min + 1234,
            "next_exp": "--",
        }
    next_exp = LEVEL_EXP[level + 1]
    return {
        "current_level": level,
        "current_min": current_min,
        "current_exp": (current_min + next_exp) // 2,
        "next_exp": next_exp,
    }


def _vip(account: Account) -> dict[str, Any]:
    # Due in about a year if the account has VIP; ms since the epoch, as Bilibili writes it.
    return {
        "type": account.vip_type,
        "status": account.vip_status,
        "due_date": 1767196800000 if account.vip_status else 0,
        "vip_pay_type": 0,
        "theme_type": 0,
        "avatar_subscript": int(bool(account.vip_status)),
        "nickname_color": "#FB7299" if account.vip_status else "",
    }


def nav(state: State, req: Request) -> Response:
    session = state.session_for(req)
    if session is None:
        # §2: logged out still carries wbi_img.
        return fail(
            -101,
            data={"isLogin": False, "wbi_img": wbi_img(req.base_url, state.wbi_keys)},
        )
    account = state.account(session.mid)
    vip = _vip(account)
    return ok(
        {
            "isLogin": True,
            "email_verified": 1,
            "face": req.base_url + account.face_path,
            "face_nft": 0,
            "level_info": _level(account),
            "mid": account.mid,
            "mobile_verified": 1,
            "money": account.coins,
            "moral": 70,
            "official": {"role": 0, "title": "", "desc": "", "type": -1},
            "pendant": {"pid": 0, "name": "", "image": "", "expire": 0},
            "scores": 0,
            "uname": account.uname,
            "vipDueDate": vip["due_date"],
            "vipStatus": account.vip_status,
            "vipType": account.vip_type,
            "vip_pay_type": 0,
            "vip_theme_type": 0,
            "vip": vip,
            "wallet": {"mid": account.mid, "bcoin_balance": 0, "coupon_balance": 0},
            "has_shop": False,
            "shop_url": "",
            "is_senior_member": 0,
            "is_jury": False,
            "wbi_img": wbi_img(req.base_url, state.wbi_keys),
        }
    )


def myinfo(state: State, req: Request) -> Response:
    session = state.session_for(req)
    if session is None:
        return fail(-101)
    account = state.account(session.mid)
    level = _level(account)
    return ok(
        {
            "mid": account.mid,
            "name": account.uname,
            "sex": account.sex,
            "face": req.base_url + account.face_path,
            "sign": account.sign,
            "rank": 10000,
            "level": level["current_level"],
            "jointime": 0,
            "moral": 70,
            "silence": 0,
            "email_status": 1,
            "tel_status": 1,
            "identification": 1,
            "vip": {
                "type": account.vip_type,
                "status": account.vip_status,
                "due_date": _vip(account)["due_date"],
            },
            "birthday": 946656000,
            "is_tourist": 0,
            "is_fake_account": 0,
            "pin_prompting": 0,
            "is_deleted": 0,
            "coins": account.coins,
            "following": 12,
            "follower": 34,
            "level_exp": {
                "current_level": level["current_level"],
                "current_exp": level["current_exp"],
                "next_exp": -1 if level["next_exp"] == "--" else level["next_exp"],
            },
        }
    )


def finger_spi(state: State, req: Request) -> Response:
    """A fresh buvid3 and buvid4, as the web client gets them before its first call (the
    buvid3 getDanmuInfo wants: rule danmu_buvid3). Any non-empty buvid3 passes here, as
    synthesised ones do on the site."""
    # Reference: bilibili-2026.md "Live chat" (buvid3 from /x/frontend/finger/spi).
    b_3 = f"{str(uuid.uuid4()).upper()}{random.randint(10000, 99999)}infoc"
    b_4 = f"{str(uuid.uuid4()).upper()}{random.randint(10000, 99999)}-{random.randint(10**8, 10**9 - 1)}-{secrets.token_urlsafe(16)}"
    return json_response({"code": 0, "message": "ok", "data": {"b_3": b_3, "b_4": b_4}})


ROUTES = {
    ("GET", "/x/web-interface/nav"): nav,
    ("GET", "/x/space/myinfo"): myinfo,
    ("GET", "/x/frontend/finger/spi"): finger_spi,
}
