"""The HTTP session every Bilibili client shares: headers, cookies, timeouts, the envelope, errors.

`session()` builds the requests Session (UA, Referer, the credential's cookies); `call()` sends one
request and unwraps the {"code","message","data"} envelope into its data, turning network
failures, HTTP 5xx and non-zero codes into BilibiliUnavailable and BilibiliError. Every host comes
from settings (BILIUP_BILIBILI_*_URL), so tests aim them at the fake Bilibili.

Reference: the Bilibili protocol doc (bilibili-protocol.md) §0 (conventions, headers), §1.2
(cookies.json), §8 (error codes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

# The session type every client takes, named here so that callers outside the package can hold
# and annotate one without importing requests.
Session = requests.Session


# (connect, read) seconds. Bilibili answers in well under a second; 20 s covers a slow submit.
TIMEOUT: tuple[float, float] = (5.0, 20.0)

# A missing or odd browser UA can earn -352 on WBI endpoints (§0 Headers).
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
)
APP_UA = (
    "Mozilla/5.0 BiliDroid/7.80.0 (bbcallen@gmail.com) os/android model/MI 6 "
    "mobi_app/android build/7800300 channel/bili innerVer/7800310 osVer/13 network/2"
)
# A header value, not a host we talk to: the web API wants a Referer from the main site.
REFERER = "https://www.bilibili.com/"
# The live API and stream pulls want the room's page as Referer (§6); also a header value only.
LIVE_REFERER = "https://live.bilibili.com/"

# English hints for the codes a user is likely to see (§1, §8).
HINTS: dict[int, str] = {
    -2: "bad access key",
    -3: "bad API sign",
    -101: "not logged in",
    -111: "csrf check failed",
    -352: "risk control: refused as a robot",
    -400: "bad request",
    -403: "no permission",
    -404: "not found",
    -412: "blocked by risk control (IP)",
    -658: "token expired",
    -663: "appkey/token mismatch",
    -702: "too many requests",
    -799: "too many requests",
    601: "uploading too fast",
    21566: "submitting too often",
    137022: "submitting too often",
    86038: "QR code expired",
    86039: "QR code not confirmed yet",
    86090: "QR code scanned, not confirmed yet",
    86101: "QR code not scanned yet",
}

EXPIRED_CREDENTIAL_CODES = frozenset({-101, -2, -658})
RISK_CONTROL_CODES = frozenset({-352, -412})


class BilibiliError(Exception):
    """Bilibili answered, with a non-zero code (or HTTP 412 → code -412)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        # The envelope's data: e.g. {"v_voucher": …} with -352.
        self.data = data

    def __str__(self) -> str:
        hint = HINTS.get(self.code)
        # Bilibili often repeats the code as the message ("-352"); that says nothing.
        message = "" if self.message == str(self.code) else self.message
        if message and hint:
            return f"Bilibili error {self.code}: {message} ({hint})"
        return f"Bilibili error {self.code}: {message or hint or 'no message'}"

    @property
    def expired_credential(self) -> bool:
        """The cookies or token are no longer valid: the account must log in again."""
        return self.code in EXPIRED_CREDENTIAL_CODES

    @property
    def risk_control(self) -> bool:
        """Bilibili took us for a robot or blocked the IP: slow down, retrying now won't help."""
        return self.code in RISK_CONTROL_CODES


class BilibiliUnavailable(Exception):
    """Bilibili could not be reached or answered garbage: network error, timeout, HTTP 5xx, non-JSON body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _join(base: str, path: str) -> str:
    return base + (path if path.startswith("/") else "/" + path)


def api_url(path: str) -> str:
    return _join(settings.BILIBILI_API_URL, path)


def passport_url(path: str) -> str:
    return _join(settings.BILIBILI_PASSPORT_URL, path)


def member_url(path: str) -> str:
    return _join(settings.BILIBILI_MEMBER_URL, path)


def live_url(path: str) -> str:
    return _join(settings.BILIBILI_LIVE_API_URL, path)


def app_url(path: str) -> str:
    return _join(settings.BILIBILI_APP_API_URL, path)


def _cookies(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    # Old or hand-edited cookies.json files may lack cookie_info or hold null there.
    cookie_info = credential.get("cookie_info")
    if not isinstance(cookie_info, dict):
        return []
    cookies = cookie_info.get("cookies")
    if not isinstance(cookies, list):
        return []
    return [c for c in cookies if isinstance(c, dict) and c.get("name")]


def session(credential: dict[str, Any] | None = None, *, app: bool = False) -> Session:
    """A Session with UA (browser, or app UA when app=True), Referer and the credential's cookies.

    `credential` is a biliup cookies.json document (§1.2); its cookie_info.cookies become
    name=value cookies sent to every host (they carry no domain, so they also reach a fake
    Bilibili on 127.0.0.1). No cookies when credential is None. The Session keeps connections
    alive: reuse one for a whole workflow (an upload, a login poll).
    """
    sess = requests.Session()
    sess.headers["User-Agent"] = APP_UA if app else BROWSER_UA
    sess.headers["Referer"] = REFERER
    if credential is not None:
        for cookie in _cookies(credential):
            sess.cookies.set(str(cookie["name"]), str(cookie.get("value", "")))
    return sess


def cookie_value(credential: dict[str, Any], name: str) -> str | None:
    """The value of cookie `name` in a cookies.json document, e.g. bili_jct (the csrf token)."""
    for cookie in _cookies(credential):
        if cookie["name"] == name:
            value = cookie.get("value")
            return None if value is None else str(value)
    return None


def access_token(credential: dict[str, Any]) -> str | None:
    """The app access token of a cookies.json document (token_info.access_token)."""
    token_info = credential.get("token_info")
    if not isinstance(token_info, dict):
        return None
    token = token_info.get("access_token")
    return str(token) if token else None


def _where(url: str | None) -> str:
    # host:port only: the path and query may carry access_key, csrf or a QR key.
    return urlsplit(url or "").netloc or "Bilibili"


def unwrap(resp: requests.Response) -> Any:
    """The `data` of a {"code","message","data"} envelope.

    Raises BilibiliUnavailable for HTTP 5xx or a body that is not a JSON object with an integer
    code; BilibiliError for HTTP 412 (code -412) or a non-zero code.
    """
    where = _where(resp.url)
    if resp.status_code == 412:
        # §8: IP risk control, sometimes a real HTTP 412 with an HTML page.
        raise BilibiliError(-412, f"HTTP 412 from {where}")
    if resp.status_code >= 500:
        raise BilibiliUnavailable(f"HTTP {resp.status_code} from {where}")
    try:
        body = resp.json()
    except ValueError:
        raise BilibiliUnavailable(
            f"HTTP {resp.status_code} from {where} is not JSON"
            f" ({resp.headers.get('Content-Type') or 'no content type'})"
        ) from None
    if not isinstance(body, dict):
        raise BilibiliUnavailable(
            f"HTTP {resp.status_code} from {where} is not a JSON object"
        )
    code = body.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        raise BilibiliUnavailable(
            f"HTTP {resp.status_code} from {where} has no Bilibili response code"
        )
    if code != 0:
        # The live room/v1 endpoints say "msg" (§0 Envelope).
        message = body.get("message") or body.get("msg") or ""
        data = body.get("data")
        voucher = resp.headers.get("x-bili-gaia-vvoucher")
        if data is None and voucher:
            # §8: -352 may carry the voucher in a header instead of data.
            data = {"v_voucher": voucher}
        raise BilibiliError(code, str(message), data)
    return body.get("data")


def _seconds(timeout: Any, index: int) -> str:
    if isinstance(timeout, tuple):
        timeout = timeout[index]
    return "ever" if timeout is None else f"{timeout:g} s"


def call(sess: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
    """Send the request, then unwrap(): the envelope's `data`.

    kwargs go to Session.request; timeout defaults to TIMEOUT. Raises BilibiliUnavailable when
    Bilibili cannot be reached (the message names the host, never the path or query), and what
    unwrap() raises.
    """
    kwargs.setdefault("timeout", TIMEOUT)
    timeout = kwargs["timeout"]
    where = _where(url)
    try:
        resp = sess.request(method, url, **kwargs)
    except requests.ConnectTimeout:
        raise BilibiliUnavailable(
            f"{where} did not accept a connection within {_seconds(timeout, 0)}"
        ) from None
    except requests.Timeout:
        raise BilibiliUnavailable(
            f"{where} did not answer within {_seconds(timeout, 1)}"
        ) from None
    except requests.ConnectionError as exc:
        raise BilibiliUnavailable(_describe_connection_error(exc, where)) from None
    except requests.RequestException as exc:
        raise BilibiliUnavailable(
            f"request to {where} failed ({type(exc).__name__})"
        ) from None
    logger.debug("%s %s: HTTP %s", method.upper(), urlsplit(url).path, resp.status_code)
    return unwrap(resp)


def _describe_connection_error(exc: requests.ConnectionError, where: str) -> str:
    # The exception's text names the full URL (query included), so only look at it.
    text = str(exc)
    if "refused" in text.lower():
        return f"connection refused by {where}"
    if "NameResolution" in text or "Name or service not known" in text:
        return f"cannot resolve the host of {where}"
    if "timed out" in text.lower():
        return f"{where} stopped answering"
    return f"cannot connect to {where}"
