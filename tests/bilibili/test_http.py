from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from biliup_site import bilibili
from biliup_site.bilibili import (
    BilibiliError,
    BilibiliUnavailable,
)
from tests.livesite import free_port

API = "http://api.fake.test"
PASSPORT = "http://passport.fake.test:8000"

# The shape of biliup's cookies.json (protocol doc §1.2).
CREDENTIAL: dict[str, Any] = {
    "cookie_info": {
        "cookies": [
            {
                "name": "SESSDATA",
                "value": "sess%2Cdata",
                "http_only": 1,
                "expires": 1679988973,
                "secure": 0,
            },
            {
                "name": "bili_jct",
                "value": "csrf-token",
                "http_only": 0,
                "expires": 1679988973,
                "secure": 0,
            },
            {
                "name": "DedeUserID",
                "value": "10086",
                "http_only": 0,
                "expires": 1679988973,
                "secure": 0,
            },
        ],
        "domains": [".bilibili.com"],
    },
    "sso": ["https://passport.bilibili.com/api/v2/sso"],
    "token_info": {
        "access_token": "app-token",
        "expires_in": 15552000,
        "mid": 10086,
        "refresh_token": "refresh-token",
    },
    "platform": "BiliTV",
}


@pytest.fixture(autouse=True)
def fake_hosts(settings: Any) -> None:
    settings.BILIBILI_API_URL = API
    settings.BILIBILI_PASSPORT_URL = PASSPORT
    settings.BILIBILI_MEMBER_URL = "http://member.fake.test"
    settings.BILIBILI_LIVE_API_URL = "http://live.fake.test"
    settings.BILIBILI_APP_API_URL = "http://app.fake.test"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def _unavailable(**kwargs: Any) -> BilibiliUnavailable:
    with pytest.raises(BilibiliUnavailable) as info:
        bilibili.call(bilibili.session(), "GET", API + "/x/web-interface/nav", **kwargs)
    return info.value


def _error() -> BilibiliError:
    with pytest.raises(BilibiliError) as info:
        bilibili.call(bilibili.session(), "GET", API + "/x/web-interface/nav")
    return info.value


# Sessions and credentials


def test_a_session_sends_a_browser_ua_a_referer_and_the_credential_cookies(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(API + "/x/web-interface/nav", json={"code": 0, "data": {}})

    bilibili.session(CREDENTIAL).get(API + "/x/web-interface/nav")

    headers = rsps.calls[0].request.headers
    assert headers["User-Agent"] == bilibili.BROWSER_UA
    assert "Chrome/" in headers["User-Agent"]
    assert headers["Referer"] == "https://www.bilibili.com/"
    assert headers["Cookie"] == (
        "SESSDATA=sess%2Cdata; bili_jct=csrf-token; DedeUserID=10086"
    )


def test_a_session_reaches_a_fake_bilibili_on_localhost_with_its_cookies(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post("http://127.0.0.1:8000/x/vu/web/add", json={"code": 0, "data": {}})

    bilibili.session(CREDENTIAL).post("http://127.0.0.1:8000/x/vu/web/add")

    assert "bili_jct=csrf-token" in rsps.calls[0].request.headers["Cookie"]


def test_an_app_session_sends_the_bilidroid_ua(rsps: responses.RequestsMock) -> None:
    rsps.get(API + "/x/web-interface/nav", json={"code": 0, "data": {}})

    bilibili.session(CREDENTIAL, app=True).get(API + "/x/web-interface/nav")

    user_agent = rsps.calls[0].request.headers["User-Agent"]
    assert user_agent == bilibili.APP_UA
    assert "BiliDroid/7.80.0" in user_agent


def test_a_session_without_a_credential_sends_no_cookies(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(API + "/x/web-interface/nav", json={"code": 0, "data": {}})

    bilibili.session().get(API + "/x/web-interface/nav")

    assert "Cookie" not in rsps.calls[0].request.headers


def test_a_session_tolerates_a_credential_without_cookies() -> None:
    assert not bilibili.session({"token_info": {"access_token": "t"}}).cookies
    assert not bilibili.session({"cookie_info": None}).cookies


def test_cookie_value_finds_a_cookie_by_name() -> None:
    assert bilibili.cookie_value(CREDENTIAL, "bili_jct") == "csrf-token"
    assert bilibili.cookie_value(CREDENTIAL, "SESSDATA") == "sess%2Cdata"


def test_cookie_value_is_none_for_a_missing_cookie() -> None:
    assert bilibili.cookie_value(CREDENTIAL, "sid") is None
    assert bilibili.cookie_value({}, "bili_jct") is None
    assert bilibili.cookie_value({"cookie_info": None}, "bili_jct") is None


def test_access_token_reads_token_info() -> None:
    assert bilibili.access_token(CREDENTIAL) == "app-token"


def test_access_token_is_none_without_a_token() -> None:
    assert bilibili.access_token({"cookie_info": {"cookies": []}}) is None
    assert bilibili.access_token({"token_info": None}) is None
    assert bilibili.access_token({"token_info": {"access_token": ""}}) is None


def test_the_url_helpers_join_the_configured_hosts_and_a_path() -> None:
    assert bilibili.api_url("/x/web-interface/nav") == API + "/x/web-interface/nav"
    assert bilibili.passport_url("x/passport-tv-login/qrcode/poll") == (
        PASSPORT + "/x/passport-tv-login/qrcode/poll"
    )
    assert bilibili.member_url("/preupload") == "http://member.fake.test/preupload"
    assert bilibili.live_url("/room/v1/Room/room_init") == (
        "http://live.fake.test/room/v1/Room/room_init"
    )
    assert bilibili.app_url("/x/v2/space/archive/cursor") == (
        "http://app.fake.test/x/v2/space/archive/cursor"
    )


# The envelope


def test_call_returns_the_data_of_a_successful_answer(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        API + "/x/web-interface/nav",
        json={"code": 0, "message": "0", "ttl": 1, "data": {"mid": 10086}},
    )

    assert bilibili.call(bilibili.session(), "GET", API + "/x/web-interface/nav") == {
        "mid": 10086
    }


def test_call_passes_params_and_uses_the_default_timeout(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(
        PASSPORT + "/x/passport-tv-login/qrcode/auth_code",
        match=[responses.matchers.urlencoded_params_matcher({"local_id": "0"})],
        json={"code": 0, "data": {"auth_code": "abc"}},
    )

    data = bilibili.call(
        bilibili.session(),
        "POST",
        PASSPORT + "/x/passport-tv-login/qrcode/auth_code",
        data={"local_id": "0"},
    )

    assert data == {"auth_code": "abc"}
    assert rsps.calls[0].request.req_kwargs["timeout"] == bilibili.TIMEOUT


def test_unwrap_works_on_a_response_of_its_own(rsps: responses.RequestsMock) -> None:
    rsps.get(API + "/x/web-interface/nav", json={"code": 0, "data": [1, 2]})

    resp = bilibili.session().get(API + "/x/web-interface/nav")

    assert bilibili.unwrap(resp) == [1, 2]


def test_not_logged_in_is_an_expired_credential(rsps: responses.RequestsMock) -> None:
    rsps.get(
        API + "/x/web-interface/nav",
        json={"code": -101, "message": "账号未登录", "ttl": 1},
    )

    exc = _error()

    assert exc.code == -101
    assert exc.message == "账号未登录"
    assert exc.expired_credential
    assert not exc.risk_control
    assert str(exc) == "Bilibili error -101: 账号未登录 (not logged in)"


@pytest.mark.parametrize("code", [-2, -658])
def test_a_bad_or_expired_token_is_an_expired_credential(
    rsps: responses.RequestsMock, code: int
) -> None:
    rsps.get(API + "/x/web-interface/nav", json={"code": code, "message": "x"})

    assert _error().expired_credential


def test_risk_control_keeps_the_voucher(rsps: responses.RequestsMock) -> None:
    rsps.get(
        API + "/x/web-interface/nav",
        json={"code": -352, "message": "-352", "data": {"v_voucher": "voucher_1"}},
    )

    exc = _error()

    assert exc.risk_control
    assert not exc.expired_credential
    assert exc.data == {"v_voucher": "voucher_1"}
    assert str(exc) == "Bilibili error -352: risk control: refused as a robot"


def test_risk_control_takes_the_voucher_from_the_header_when_data_is_empty(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        API + "/x/web-interface/nav",
        json={"code": -352, "message": "-352", "data": None},
        headers={"x-bili-gaia-vvoucher": "voucher_2"},
    )

    assert _error().data == {"v_voucher": "voucher_2"}


def test_the_live_api_msg_is_used_when_there_is_no_message(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        API + "/x/web-interface/nav",
        json={"code": 19002000, "msg": "房间不存在", "message": ""},
    )

    exc = _error()

    assert exc.message == "房间不存在"
    assert str(exc) == "Bilibili error 19002000: 房间不存在"


def test_the_tv_qr_poll_status_is_raised_for_the_caller_to_handle(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(
        PASSPORT + "/x/passport-tv-login/qrcode/poll",
        json={"code": 86039, "message": "二维码尚未确认", "ttl": 1, "data": None},
    )

    with pytest.raises(BilibiliError) as info:
        bilibili.call(
            bilibili.session(), "POST", PASSPORT + "/x/passport-tv-login/qrcode/poll"
        )

    assert info.value.code == 86039
    assert str(info.value) == (
        "Bilibili error 86039: 二维码尚未确认 (QR code not confirmed yet)"
    )


def test_an_error_without_a_message_still_reads_well() -> None:
    assert str(BilibiliError(-799, "")) == "Bilibili error -799: too many requests"
    assert str(BilibiliError(12345, "")) == "Bilibili error 12345: no message"


def test_http_412_is_ip_risk_control(rsps: responses.RequestsMock) -> None:
    rsps.get(
        API + "/x/web-interface/nav",
        status=412,
        body="<html>blocked</html>",
        content_type="text/html",
    )

    exc = _error()

    assert exc.code == -412
    assert exc.risk_control
    assert str(exc) == (
        "Bilibili error -412: HTTP 412 from api.fake.test (blocked by risk control (IP))"
    )


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_means_bilibili_is_unavailable(
    rsps: responses.RequestsMock, status: int
) -> None:
    rsps.get(API + "/x/web-interface/nav", status=status, json={"code": -500})

    assert _unavailable().message == f"HTTP {status} from api.fake.test"


def test_a_body_that_is_not_json_means_bilibili_is_unavailable(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        API + "/x/web-interface/nav", body="<html>hi</html>", content_type="text/html"
    )

    assert _unavailable().message == (
        "HTTP 200 from api.fake.test is not JSON (text/html)"
    )


def test_a_json_list_means_bilibili_is_unavailable(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(API + "/x/web-interface/nav", json=[{"code": 0}])

    assert _unavailable().message == "HTTP 200 from api.fake.test is not a JSON object"


def test_an_object_without_a_code_means_bilibili_is_unavailable(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(API + "/x/web-interface/nav", json={"OK": 1})

    assert "has no Bilibili response code" in _unavailable().message


# Network failures


def test_a_connection_error_means_bilibili_is_unavailable(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        API + "/x/web-interface/nav", body=requests.ConnectionError("network down")
    )

    assert _unavailable().message == "cannot connect to api.fake.test"


def test_a_read_timeout_says_how_long_was_waited(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(API + "/x/web-interface/nav", body=requests.ReadTimeout("slow"))

    assert _unavailable().message == "api.fake.test did not answer within 20 s"


def test_a_connect_timeout_says_how_long_was_waited(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(API + "/x/web-interface/nav", body=requests.ConnectTimeout("slow"))

    assert _unavailable(timeout=2.5).message == (
        "api.fake.test did not accept a connection within 2.5 s"
    )


def test_other_request_failures_mean_bilibili_is_unavailable(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(API + "/x/web-interface/nav", body=requests.TooManyRedirects("loop"))

    assert _unavailable().message == (
        "request to api.fake.test failed (TooManyRedirects)"
    )


def test_a_refused_connection_says_so() -> None:
    # A real refused connection on this machine: a free port no one listens on.
    port = free_port()

    with pytest.raises(BilibiliUnavailable) as info:
        bilibili.call(
            bilibili.session(), "GET", f"http://127.0.0.1:{port}/x/web-interface/nav"
        )

    assert info.value.message == f"connection refused by 127.0.0.1:{port}"


def test_errors_and_logs_never_show_tokens_or_cookies(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="biliup_site.bilibili")
    url = PASSPORT + "/x/passport-login/oauth2/info"
    rsps.get(url, json={"code": 0, "data": {}})
    rsps.get(url, body=requests.ConnectionError(f"{url}?access_key=app-token failed"))

    sess = bilibili.session(CREDENTIAL)
    bilibili.call(sess, "GET", url, params={"access_key": "app-token"})
    with pytest.raises(BilibiliUnavailable) as info:
        bilibili.call(sess, "GET", url, params={"access_key": "app-token"})

    assert "GET /x/passport-login/oauth2/info: HTTP 200" in caplog.text
    for secret in ("app-token", "sess%2Cdata", "csrf-token"):
        assert secret not in caplog.text
        assert secret not in str(info.value)
