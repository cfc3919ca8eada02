"""The passport host: web and TV QR logins, web cookies → TV token, app token info and refresh.

Reference: /work/shared/reference/bilibili-protocol.md §1.1–§1.4, §9 "QR state machines", "Auth".
"""

from __future__ import annotations

import secrets
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tests.fakebili.wire import Request, Response, check_app_sign, fail, ok

if TYPE_CHECKING:
    from tests.fakebili.server import Session, State, Token

# §1.4: oauth2/info says refresh:true when the token has less than this left (the threshold is
# unconfirmed; 30 days is what clients assume).
REFRESH_BELOW_SECONDS = 30 * 86400
COOKIE_DOMAINS = [
    ".bilibili.com",
    ".biligame.com",
    ".bigfun.cn",
    ".bigfunapp.cn",
    ".dreamcast.hk",
]


def _sign_error(state: State, req: Request) -> Response | None:
    if not state.check_sign:
        return None
    code = check_app_sign(req)
    return fail(code) if code else None


def _signed(req: Request) -> dict[str, str]:
    return dict(req.signed_params()[0])


def login_data(
    state: State, base_url: str, token: Token, session: Session, is_new: bool = False
) -> dict[str, Any]:
    """§1.2: the data of a TV poll success (also the core of a refresh answer)."""
    expires_in = max(0, round(token.expires_at - state.now()))
    cookies = [
        {
            "name": name,
            "value": value,
            "http_only": int(name == "SESSDATA"),
            "expires": int(session.expires_at),
            "secure": 0,
        }
        for name, value in session.cookies().items()
    ]
    token_info = {
        "mid": token.mid,
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "expires_in": expires_in,
    }
    return {
        "is_new": is_new,
        "mid": token.mid,
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "expires_in": expires_in,
        "token_info": token_info,
        "cookie_info": {"cookies": cookies, "domains": COOKIE_DOMAINS},
        # The first SSO URL is the passport host itself: the fake.
        "sso": [
            f"{base_url}/api/v2/sso",
            "https://passport.biligame.com/api/v2/sso",
            "https://passport.bigfunapp.cn/api/v2/sso",
        ],
    }


# §1.1 Web QR


def web_qr_generate(state: State, req: Request) -> Response:
    qr = state.new_qr("web")
    url = (
        f"{req.base_url}/h5-app/passport/login/scan?navhide=1&qrcode_key={qr.key}&from="
    )
    return ok({"url": url, "qrcode_key": qr.key})


def _web_poll(code: int, message: str) -> Response:
    return ok(
        {
            "url": "",
            "refresh_token": "",
            "timestamp": 0,
            "code": code,
            "message": message,
        }
    )


def web_qr_poll(state: State, req: Request) -> Response:
    # The outer code is always 0; the QR state is data.code.
    qr = state.qr.get(req.query.get("qrcode_key", ""))
    if qr is not None:
        qr.polls += 1
    status = state.qr_status(qr) if qr is not None and qr.kind == "web" else "expired"
    if status == "new":
        return _web_poll(86101, "未扫码")
    if status == "scanned":
        return _web_poll(86090, "二维码已扫码未确认")
    if status != "confirmed" or qr is None or qr.mid is None:
        # Expired, unknown, or already used (a used key answering 86038 is unconfirmed).
        return _web_poll(86038, "二维码已失效")
    session = state.new_session(qr.mid)
    qr.status = "done"
    cookies = session.cookies()
    # The real URL goes to passport.biligame.com/crossDomain; the fake points at itself.
    query = "&".join(
        [
            f"DedeUserID={cookies['DedeUserID']}",
            f"DedeUserID__ckMd5={cookies['DedeUserID__ckMd5']}",
            f"Expires={int(session.expires_at)}",
            f"SESSDATA={cookies['SESSDATA']}",
            f"bili_jct={cookies['bili_jct']}",
            f"gourl={quote(req.base_url, safe='')}",
        ]
    )
    response = ok(
        {
            "url": f"{req.base_url}/crossDomain?{query}",
            # For §1.5 cookie refresh, which the fake does not serve yet.
            "refresh_token": secrets.token_hex(16),
            "timestamp": int(state.now() * 1000),
            "code": 0,
            "message": "",
        }
    )
    expires = formatdate(session.expires_at, usegmt=True)
    for name, value in cookies.items():
        # Real Bilibili adds Domain=bilibili.com and Secure. The fake is plain HTTP on
        # 127.0.0.1, where a browser or requests would drop such cookies, so it leaves them out.
        flags = "; HttpOnly" if name == "SESSDATA" else ""
        response.headers.append(
            ("Set-Cookie", f"{name}={value}; Path=/; Expires={expires}{flags}")
        )
    return response


# §1.2 TV QR


def tv_auth_code(state: State, req: Request) -> Response:
    if (error := _sign_error(state, req)) is not None:
        return error
    qr = state.new_qr("tv")
    url = f"{req.base_url}/x/passport-tv-login/h5/qrcode/auth?auth_code={qr.key}"
    return ok({"url": url, "auth_code": qr.key})


def tv_poll(state: State, req: Request) -> Response:
    # Unlike the web poll, the QR state is the top-level code, with data null.
    if (error := _sign_error(state, req)) is not None:
        return error
    params = _signed(req)
    qr = state.qr.get(params.get("auth_code", ""))
    if qr is not None:
        qr.polls += 1
    status = state.qr_status(qr) if qr is not None and qr.kind == "tv" else "expired"
    if status == "new":
        return fail(86039)
    if status == "scanned":
        return fail(86090)
    if status != "confirmed" or qr is None or qr.mid is None:
        return fail(86038)
    session = state.new_session(qr.mid)
    token = state.issue_token(qr.mid, params["appkey"], session)
    qr.status = "done"
    return ok(login_data(state, req.base_url, token, session, is_new=qr.new_account))


# §1.3 Web cookies → TV token


def tv_h5_confirm(state: State, req: Request) -> Response:
    session = state.session_for(req)
    if session is None:
        return fail(-101)
    params = req.params()
    if params.get("csrf") != session.bili_jct:
        return fail(-111)
    qr = state.qr.get(params.get("auth_code", ""))
    if qr is None or qr.kind != "tv" or state.qr_status(qr) not in ("new", "scanned"):
        return fail(86038)
    qr.status = "confirmed"
    qr.mid = session.mid
    qr.new_account = False
    return ok(None)


# §1.4 App token validation and refresh


def oauth2_info(state: State, req: Request) -> Response:
    if (error := _sign_error(state, req)) is not None:
        return error
    # Any known appkey may ask (biliup asks with the Android key about a BiliTV token).
    token = state.live_token(_signed(req).get("access_key", ""))
    if token is None:
        return fail(-101)
    remaining = round(token.expires_at - state.now())
    return ok(
        {
            "mid": token.mid,
            "access_token": token.access_token,
            "expires_in": remaining,
            "refresh": remaining < REFRESH_BELOW_SECONDS,
        }
    )


def oauth2_refresh(state: State, req: Request) -> Response:
    if (error := _sign_error(state, req)) is not None:
        return error
    params = _signed(req)
    # A token whose time ran out can still be refreshed: the refresh token is what counts
    # (unconfirmed). A revoked one (refreshed before, or the account expired) cannot.
    token = state.tokens.get(params.get("access_key", ""))
    if token is None or params.get("refresh_token") != token.refresh_token:
        return fail(-101)
    if params.get("appkey") != token.appkey:
        # §0: a token only works with the appkey pair that issued it.
        return fail(-663)
    state.revoke(token)
    session = state.new_session(token.mid)
    new = state.issue_token(token.mid, token.appkey, session)
    data = login_data(state, req.base_url, new, session)
    return ok(
        {
            "status": 0,
            "message": "",
            "url": "",
            "token_info": data["token_info"],
            "cookie_info": data["cookie_info"],
            "sso": data["sso"],
        }
    )


ROUTES = {
    ("GET", "/x/passport-login/web/qrcode/generate"): web_qr_generate,
    ("GET", "/x/passport-login/web/qrcode/poll"): web_qr_poll,
    ("POST", "/x/passport-tv-login/qrcode/auth_code"): tv_auth_code,
    ("POST", "/x/passport-tv-login/qrcode/poll"): tv_poll,
    ("POST", "/x/passport-tv-login/h5/qrcode/confirm"): tv_h5_confirm,
    ("GET", "/x/passport-login/oauth2/info"): oauth2_info,
    ("POST", "/x/passport-login/oauth2/refresh_token"): oauth2_refresh,
}
