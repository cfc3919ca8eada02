"""What goes over the wire in the fake Bilibili: requests, responses, the envelope, APP signing.

The host modules (passport.py, api.py, …) import only this module at run time, so server.py can
import them without a cycle.

Reference: /work/shared/reference/bilibili-protocol.md §0 (envelope, APP sign, app keys), §8
(codes) and §9 (be lenient on what is accepted, strict on what is returned).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode

# §0: the app keys biliup uses (public constants in its source).
BILITV_APPKEY = "4409e2ce8ffd12b8"
ANDROID_APPKEY = "783bbb7264451d82"
BCUT_APPKEY = "5dce947fe22167f9"
APP_SECRETS = {
    BILITV_APPKEY: "59b43e04ad6965f34319062b478f83dd",
    ANDROID_APPKEY: "2653583c8873dea268ab9386918b1d65",
    BCUT_APPKEY: "5491a31c6bc11fb764a9b1f8d4acf092",
}

# §1 and §8: the messages Bilibili sends with its codes.
MESSAGES = {
    0: "0",
    -1: "应用程序不存在或已被封禁",
    -2: "Access Key错误",
    -3: "API校验密匙错误",
    -101: "账号未登录",
    -102: "账号被封停",
    -111: "csrf 校验失败",
    -352: "风控校验失败",
    -400: "请求错误",
    -403: "访问权限不足",
    -404: "啥都木有",
    -405: "请求方法错误",
    -412: "请求被拦截",
    -500: "服务器错误",
    -503: "过载保护,服务暂不可用",
    -509: "超出限制",
    -658: "Token 过期",
    -663: "鉴权失败，请联系账号组",
    -702: "请求频率过高",
    -799: "请求过于频繁，请稍后再试",
    -8888: "对不起，服务器开小差了~ (ಥ﹏ಥ)",
    86038: "二维码已失效",
    86039: "二维码尚未确认",
    86090: "二维码已扫码未确认",
    86101: "未扫码",
    21566: "投稿过于频繁，建议将APP升级至最新版本后再试",
    137022: "投稿过于频繁，请稍后再试",
    # §3.7, §4, §8: submit and edit.
    -616: "上传文件不存在",
    21001: "参数错误",
    21103: "标题过长",
}


@dataclass
class Request:
    """One parsed HTTP request. `query` and `form` keep the last value of a repeated key."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    # The peer's IP, set by the server: risk control counts calls per client IP (space_guard).
    client: str = ""

    @classmethod
    def parse(
        cls, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Request:
        path, _, query_string = target.partition("?")
        lowered = {k.lower(): v for k, v in headers.items()}
        form: dict[str, str] = {}
        if "application/x-www-form-urlencoded" in lowered.get("content-type", ""):
            form = dict(
                parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            )
        return cls(
            method=method,
            path=path,
            query_string=query_string,
            headers=lowered,
            body=body,
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            form=form,
            cookies=parse_cookie_header(lowered.get("cookie", "")),
        )

    @property
    def base_url(self) -> str:
        """The fake's own address as the client reached it, for the URLs it hands out."""
        return f"http://{self.headers.get('host', '127.0.0.1')}"

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        return json.loads(self.body)

    def signed_params(self) -> tuple[list[tuple[str, str]], str]:
        """The APP-signed parameters and their raw text: a POST's form, else the query (also
        for a POST whose body is JSON, like app submit's, §4.3)."""
        if (
            self.method == "POST"
            and self.body
            and not self.body.lstrip().startswith(b"{")
        ):
            raw = self.body.decode("utf-8", "replace")
        else:
            raw = self.query_string
        return parse_qsl(raw, keep_blank_values=True), raw

    def params(self) -> dict[str, str]:
        """Query and form together (form wins): Bilibili reads most fields from either."""
        return {**self.query, **self.form}


class ControlError(Exception):
    """A control call that cannot be done: unknown QR key, bad arguments. HTTP: {"error": …}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Hangup(Exception):
    """Raised by a streamed body to cut the connection there, without ending the body."""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    # A list, not a dict: a login answer carries several Set-Cookie headers.
    headers: list[tuple[str, str]] = field(default_factory=list)
    # A body sent as it comes (chunked, then the connection closes) instead of `body`. b"" means
    # "nothing yet": the server checks it is not stopping and asks again.
    stream: Generator[bytes, None, None] | None = None
    # The stream sent close-delimited instead: neither chunked nor a length, the body ends where
    # the connection does (HTTP/1.1 allows it; some CDN nodes do it: cdn.py).
    close_delimited: bool = False


def parse_cookie_header(header: str) -> dict[str, str]:
    # Not http.cookies.SimpleCookie: it drops the whole header on one odd value.
    cookies = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies[name] = value.strip().strip('"')
    return cookies


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(
        status=status, body=json.dumps(payload, ensure_ascii=False).encode()
    )


def error_page(status: int, body: str | None = None) -> Response:
    """An HTTP error as an overloaded front end (nginx/Tengine) shows it, or with `body`."""
    if body is None:
        try:
            line = f"{status} {HTTPStatus(status).phrase}"
        except ValueError:
            line = str(status)
        body = (
            f"<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n"
            f"<center><h1>{line}</h1></center>\r\n<hr><center>Tengine</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
    return Response(
        status=status, body=body.encode(), content_type="text/html; charset=utf-8"
    )


def ok(data: Any = None) -> Response:
    """The §0 envelope of a success."""
    return json_response({"code": 0, "message": "0", "ttl": 1, "data": data})


def fail(
    code: int, message: str | None = None, data: Any = None, status: int = 200
) -> Response:
    """The §0 envelope of an error: HTTP 200 unless told otherwise, the code in the body."""
    body = {
        "code": code,
        "message": MESSAGES.get(code, str(code)) if message is None else message,
        "ttl": 1,
        "data": data,
    }
    return json_response(body, status=status)


def app_sign(params: dict[str, str], appsec: str) -> str:
    """§0: md5hex(urlencode(params sorted by key, without sign) + appsec)."""
    pairs = sorted((k, v) for k, v in params.items() if k != "sign")
    return hashlib.md5((urlencode(pairs) + appsec).encode()).hexdigest()


def check_app_sign(req: Request) -> int:
    """0 if the request's APP sign is good, else the code Bilibili answers with.

    §9: encoders differ on spaces and quotes, so any usual spelling is accepted: the text as
    the client sent it (minus sign), and the sorted params re-encoded with "+" or "%20".
    """
    pairs, raw = req.signed_params()
    params = dict(pairs)
    appkey = params.get("appkey", "")
    appsec = APP_SECRETS.get(appkey)
    if appsec is None:
        return -1 if appkey else -3
    sign = params.get("sign", "").lower()
    if not sign:
        return -3
    unsigned = sorted((k, v) for k, v in pairs if k != "sign")
    as_sent = "&".join(p for p in raw.split("&") if p and not p.startswith("sign="))
    candidates = {
        as_sent,
        unquote(as_sent),
        urlencode(unsigned, quote_via=quote_plus),
        urlencode(unsigned, quote_via=quote),
        urlencode(unsigned, quote_via=quote, safe="/:"),
    }
    for text in candidates:
        if hashlib.md5((text + appsec).encode()).hexdigest() == sign:
            return 0
    return -3
