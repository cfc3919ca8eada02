"""Every example of the REST document (../shared/reference/biliup-rest-api.md), replayed as an
outside client over real HTTP against one running site and the fake Bilibili, on the document's
own paths (/api/v1/...). Each answer is checked for its status and the fields the document shows
(their shape, not their example values).

The examples depend on each other (a streamer names a template, an upload names cookies.json), so
they run in an order where what one needs exists, set up as a user would: a cookies.json in the
data folder, a QR login confirmed on the fake, a live room on the fake, media files written into
the recordings folder. The tests share the site and run in file order.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests.fakebili.server import FakeBilibili
from tests.integration.shared import Shared
from tests.livesite import SEGMENT, Site
from tests.polling import wait_for

pytestmark = pytest.mark.integration

DOC_USER = {"username": "admin", "password": "password123"}
ROOM = 123456
ROOM_URL = f"https://live.bilibili.com/{ROOM}"
COOKIES_MID = 880001
QR_MID = 880002

# The document's example bodies, as written.
STREAMER = {"url": ROOM_URL, "template_name": "默认模板", "remark": "测试主播"}
TEMPLATE = {
    "id": None,
    "template_name": "默认模板",
    "title": "{{title}}",
    "tid": 171,
    "tag": "游戏,直播录像",
    "copyright": 1,
    "source": "",
    "desc": "直播录像",
    "dynamic": "",
    "cover": "",
    "dolby": 0,
    "hires": 0,
    "no_reprint": 1,
    "open_elec": 1,
    "user_cookie": "cookies.json",
}
NEW_TEMPLATE = {
    "id": None,
    "template_name": "新模板",
    "title": "{{title}}",
    "tid": 171,
    "tag": "游戏,直播",
}
UPLOAD_PARAMS = {
    "template_name": "默认模板",
    "title": "测试视频",
    "tid": 171,
    "tag": "测试",
    "user_cookie": "cookies.json",
}
STREAMER_FIELDS = {"id", "url", "template_name", "remark", "split_time", "split_size"}
TEMPLATE_FIELDS = set(TEMPLATE)


@pytest.fixture(scope="module")
def fake(shared_for_module: Shared) -> FakeBilibili:
    shared_for_module.fake.add_room(ROOM, uname="主播名称", title="直播标题", speed=1)
    return shared_for_module.fake


@pytest.fixture(scope="module")
def site(shared_for_module: Shared, fake: FakeBilibili) -> Site:
    return shared_for_module.site


@pytest.fixture(scope="module")
def cookies(site: Site) -> requests.Session:
    """`-b cookies.txt`: the session the document's login example saved."""
    return requests.Session()


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What one example hands the next (ids the site gave)."""
    return {}


def url(site: Site, path: str) -> str:
    return f"{site.url}/api/v1{path}"


def answer(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def has(data: Any, fields: set[str]) -> None:
    assert isinstance(data, dict), data
    missing = fields - set(data)
    assert not missing, f"missing {sorted(missing)} in {data}"


# --- 认证 API --------------------------------------------------------------------------------


def test_register(site: Site) -> None:
    answer(requests.post(url(site, "/users/register"), json=DOC_USER, timeout=10))


def test_login_saves_a_session_cookie(site: Site, cookies: requests.Session) -> None:
    answer(cookies.post(url(site, "/users/login"), json=DOC_USER, timeout=10))
    assert cookies.cookies, "no session cookie was set"


def test_login_with_next(site: Site) -> None:
    body = {**DOC_USER, "next": "/dashboard"}
    answer(requests.post(url(site, "/users/login"), json=body, timeout=10))


def test_users_biliup(site: Site, cookies: requests.Session) -> None:
    answer(cookies.get(url(site, "/users/biliup"), timeout=10))
    answer(requests.get(url(site, "/users/biliup"), timeout=10), 404)


# --- B 站账号管理 API ------------------------------------------------------------------------


def test_users_lists_cookies_json(
    site: Site, fake: FakeBilibili, cookies: requests.Session
) -> None:
    # The user's cookies.json (biliup-rs login's file) is in the data folder; they add it.
    fake.add_account(COOKIES_MID, "用户名")
    (site.data_dir / "cookies.json").write_text(json.dumps(fake.login(COOKIES_MID)))
    body = {"key": "bilibili-cookies", "value": "cookies.json"}
    answer(cookies.post(url(site, "/users"), json=body, timeout=10))
    rows = answer(cookies.get(url(site, "/users"), timeout=10))
    [row] = [r for r in rows if r["value"] == "cookies.json"]
    has(row, {"id", "name", "value", "platform"})
    assert row["platform"] == "bilibili-cookies"


def test_users_add_and_delete(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    body = {"key": "bilibili-cookies", "value": "new_cookies.json"}
    added = answer(cookies.post(url(site, "/users"), json=body, timeout=10))
    has(added, {"id", "value"})
    assert added["value"] == "new_cookies.json"
    answer(cookies.delete(url(site, f"/users/{added['id']}"), timeout=10))
    values = [r["value"] for r in answer(cookies.get(url(site, "/users"), timeout=10))]
    assert "new_cookies.json" not in values


def qr_login(site: Site, fake: FakeBilibili, client: requests.Session) -> Any:
    started = answer(client.get(url(site, "/qrcode"), timeout=10))
    has(started, {"url", "qrcode_key"})
    key = started["qrcode_key"]
    # The phone scans and confirms once the site polls; login_by_qrcode waits for it.
    fake.scan_qr(key)
    fake.confirm_qr(key, mid=QR_MID)
    body = {"qrcode_key": key}
    return client.post(url(site, "/login_by_qrcode"), json=body, timeout=60)


def test_qrcode_and_login_by_qrcode(
    site: Site, fake: FakeBilibili, cookies: requests.Session
) -> None:
    done = answer(qr_login(site, fake, cookies))
    has(done, {"filename"})
    assert done["filename"].endswith(f"{QR_MID}.json")


@pytest.mark.xfail(
    strict=True,
    reason="The document's qrcode/login_by_qrcode curls send no session cookie; the site "
    "answers 401, as biliup's own server does (its routes sit behind login_required): an "
    "anonymous visitor must not attach Bilibili accounts to the site.",
)
def test_qrcode_without_a_session(site: Site, fake: FakeBilibili) -> None:
    answer(qr_login(site, fake, requests.Session()))


# --- B 站 API 代理 ---------------------------------------------------------------------------


def test_myinfo(site: Site, cookies: requests.Session, state: dict[str, Any]) -> None:
    info = answer(
        cookies.get(url(site, "/myinfo"), params={"user": "cookies.json"}, timeout=10)
    )
    has(info, {"mid", "uname", "face"})
    assert info["mid"] == COOKIES_MID
    state["face"] = info["face"]


def test_archive_pre(site: Site, cookies: requests.Session) -> None:
    pre = answer(cookies.get(url(site, "/archive_pre"), timeout=10))
    has(pre, {"typelist"})
    assert isinstance(pre["typelist"], list) and pre["typelist"]
    assert isinstance(pre.get("archive_tags", []), list)


@pytest.mark.xfail(
    strict=True,
    reason="/archive_pre answers Bilibili's archive/pre data as is, and that has no "
    "archive_tags (bilibili-protocol.md §3.10: typelist, industry_list, showtype_list, "
    "staff_activity_conf, neutral_mark); the document's example lists archive_tags beside "
    "typelist. Inventing an empty list was not done.",
)
def test_archive_pre_has_archive_tags(site: Site, cookies: requests.Session) -> None:
    has(answer(cookies.get(url(site, "/archive_pre"), timeout=10)), {"archive_tags"})


def test_proxy(site: Site, cookies: requests.Session, state: dict[str, Any]) -> None:
    # The document proxies an image; the account's face (on the fake) is one.
    r = cookies.get(url(site, "/proxy"), params={"url": state["face"]}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("image/") and r.content


# --- 配置管理 API ----------------------------------------------------------------------------


def test_configuration(site: Site, cookies: requests.Session) -> None:
    config = answer(cookies.get(url(site, "/configuration"), timeout=10))
    has(config, {"lines", "threads", "submit_api", "download_limit", "upload_limit"})


def test_configuration_update(site: Site, cookies: requests.Session) -> None:
    body = {"lines": "bda2", "threads": 5, "download_limit": 10, "upload_limit": 3}
    config = answer(cookies.put(url(site, "/configuration"), json=body, timeout=10))
    assert {k: config[k] for k in body} == body
    # The request-body example sends submit_api: null too.
    body = {**body, "submit_api": None}
    config = answer(cookies.put(url(site, "/configuration"), json=body, timeout=10))
    assert {k: config[k] for k in body} == body


# --- 上传模板 API ----------------------------------------------------------------------------


def test_upload_streamers(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    # The GET example's template, made as the user would before listing.
    made = answer(
        cookies.post(url(site, "/upload_streamers"), json=TEMPLATE, timeout=10)
    )
    state["default_template"] = made["id"]
    rows = answer(cookies.get(url(site, "/upload_streamers"), timeout=10))
    [row] = [r for r in rows if r["id"] == made["id"]]
    has(row, TEMPLATE_FIELDS)
    assert {k: row[k] for k in TEMPLATE if k != "id"} == {
        k: v for k, v in TEMPLATE.items() if k != "id"
    }


def test_upload_streamer_by_id(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    pk = state["default_template"]
    row = answer(cookies.get(url(site, f"/upload_streamers/{pk}"), timeout=10))
    has(row, TEMPLATE_FIELDS)
    assert row["id"] == pk


def test_upload_streamers_create(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    made = answer(
        cookies.post(url(site, "/upload_streamers"), json=NEW_TEMPLATE, timeout=10)
    )
    has(made, TEMPLATE_FIELDS)
    assert made["id"] and made["template_name"] == "新模板"
    state["new_template"] = made["id"]


# --- 录制任务 API ----------------------------------------------------------------------------


def test_streamers_create(
    site: Site, fake: FakeBilibili, cookies: requests.Session, state: dict[str, Any]
) -> None:
    fake.set_live(ROOM, 1)
    made = answer(cookies.post(url(site, "/streamers"), json=STREAMER, timeout=10))
    has(made, STREAMER_FIELDS)
    assert made["url"] == ROOM_URL and made["template_name"] == "默认模板"
    assert (made["split_time"], made["split_size"]) == (3600, 2048)
    state["streamer"] = made["id"]


def streamer_rows(site: Site, client: requests.Session) -> list[dict[str, Any]]:
    return answer(client.get(url(site, "/streamers"), timeout=10))


def test_streamers_list_shows_the_room_working(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    def row() -> dict[str, Any]:
        [found] = [
            r
            for r in streamer_rows(site, cookies)
            if r["inner"]["id"] == state["streamer"]
        ]
        return found

    wait_for(lambda: row()["status"] == "Working", 30, "the live room was not recorded")
    found = row()
    has(found, {"status", "upload_status", "inner"})
    has(found["inner"], STREAMER_FIELDS)
    assert found["upload_status"] in ("Idle", "Working")


def test_streamers_update(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    body = {
        "id": state["streamer"],
        "url": ROOM_URL,
        "template_name": "新模板",
        "remark": "更新后的备注",
    }
    updated = answer(cookies.put(url(site, "/streamers"), json=body, timeout=10))
    has(updated, STREAMER_FIELDS)
    assert (updated["template_name"], updated["remark"]) == ("新模板", "更新后的备注")
    # The request-body example also changes the split.
    body = {**body, "split_time": 7200, "split_size": 4096}
    updated = answer(cookies.put(url(site, "/streamers"), json=body, timeout=10))
    assert (updated["split_time"], updated["split_size"]) == (7200, 4096)


def test_streamers_pause_then_resume(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    pause = url(site, f"/streamers/{state['streamer']}/pause")
    paused = answer(cookies.post(pause, timeout=10))
    assert paused["status"] == "Pause", paused
    # Paused, the recording stops: its segment is closed (and listed by /streamer_info).
    wait_for(
        lambda: any(
            s["video_path"]
            for s in answer(cookies.get(url(site, "/streamer_info"), timeout=10))
        ),
        30,
        "pausing did not close the recording",
    )
    # And the recording worker lets go of the room, a moment after the segment is closed (in a
    # soak run under load, long enough to resume first and be answered Working).
    row = url(site, f"/streamers/{state['streamer']}")
    wait_for(
        lambda: answer(cookies.get(row, timeout=10))["state"] != "recording",
        30,
        "pausing did not end the recording",
    )
    resumed = answer(cookies.post(pause, timeout=10))
    # Resumed, the live room is checked at once: the answer is Idle, or already Working when a
    # recorder claimed the room before this request read its row back (seen under load).
    assert resumed["status"] in ("Idle", "Working"), resumed


def test_upload_streamers_update(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    body = {
        "id": state["new_template"],
        "template_name": "更新的模板",
        "title": "新标题",
    }
    updated = answer(
        cookies.post(url(site, "/upload_streamers"), json=body, timeout=10)
    )
    has(updated, TEMPLATE_FIELDS)
    assert updated["id"] == state["new_template"]
    assert (updated["template_name"], updated["title"]) == ("更新的模板", "新标题")


# --- 系统状态 API ----------------------------------------------------------------------------


def test_streamer_info_and_its_files(site: Site, cookies: requests.Session) -> None:
    # Pausing closed the room's first recording: a session with a file.
    def sessions() -> list[dict[str, Any]]:
        return [
            s
            for s in answer(cookies.get(url(site, "/streamer_info"), timeout=10))
            if s["video_path"]
        ]

    wait_for(sessions, 30, "no recorded session with a file")
    session = sessions()[0]
    has(
        session,
        {
            "id",
            "template_name",
            "stream_title",
            "streamer_name",
            "start_time",
            "video_path",
        },
    )
    assert session["stream_title"] == "直播标题" and session["streamer_name"]
    files = answer(
        cookies.get(url(site, f"/streamer_info/{session['id']}/files"), timeout=10)
    )
    assert files
    has(files[0], {"id", "streamer_info_id", "file_path", "file_size", "duration"})
    assert files[0]["streamer_info_id"] == session["id"]


# --- 视频管理 API ----------------------------------------------------------------------------


def test_videos(site: Site, cookies: requests.Session) -> None:
    for name in (
        "recording.mp4",
        "recording_20250110_120000.mp4",
        "recording_20250110_130000.mp4",
    ):
        (site.recordings_dir / name).write_bytes(SEGMENT)
    rows = answer(cookies.get(url(site, "/videos"), timeout=10))
    [row] = [r for r in rows if r["name"] == "recording.mp4"]
    has(row, {"key", "name", "updateTime", "size"})
    assert row["size"] == len(SEGMENT) and isinstance(row["updateTime"], int)


def test_uploads(site: Site, cookies: requests.Session) -> None:
    body = {"files": ["recording.mp4"], "params": UPLOAD_PARAMS}
    assert answer(cookies.post(url(site, "/uploads"), json=body, timeout=10)) == {}


def test_uploads_with_every_param(site: Site, cookies: requests.Session) -> None:
    params = {
        **{k: v for k, v in TEMPLATE.items() if k != "id"},
        "title": "直播录像 2025-01-10",
    }
    body = {
        "files": ["recording_20250110_120000.mp4", "recording_20250110_130000.mp4"],
        "params": params,
    }
    assert answer(cookies.post(url(site, "/uploads"), json=body, timeout=10)) == {}


def test_status(site: Site, cookies: requests.Session) -> None:
    status = answer(cookies.get(url(site, "/status"), timeout=10))
    has(
        status,
        {"version", "rooms", "download_semaphore", "update_semaphore", "config"},
    )
    assert isinstance(status["version"], str) and status["rooms"]
    room = status["rooms"][0]
    has(
        room,
        {"downloader_status", "uploader_status", "live_streamer", "upload_streamer"},
    )
    has(room["live_streamer"], {"id", "url", "template_name", "remark"})
    has(room["upload_streamer"], {"template_name", "title", "tid"})
    has(status["config"], {"lines", "threads", "download_limit", "upload_limit"})


def test_streamers_delete(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    pk = state["streamer"]
    deleted = answer(cookies.delete(url(site, f"/streamers/{pk}"), timeout=10))
    has(deleted, STREAMER_FIELDS)
    assert deleted["id"] == pk
    assert pk not in [r["inner"]["id"] for r in streamer_rows(site, cookies)]


def test_upload_streamers_delete(
    site: Site, cookies: requests.Session, state: dict[str, Any]
) -> None:
    pk = state["new_template"]
    answer(cookies.delete(url(site, f"/upload_streamers/{pk}"), timeout=10))
    answer(cookies.get(url(site, f"/upload_streamers/{pk}"), timeout=10), 404)


# --- 完整示例 --------------------------------------------------------------------------------


def delete_streamer(site: Site, client: requests.Session, pk: int) -> None:
    """Not in the examples: each one starts from no streamer for the room (urls are unique)."""
    answer(client.delete(url(site, f"/streamers/{pk}"), timeout=10))


def test_python_example(site: Site) -> None:
    session = requests.Session()
    response = session.post(url(site, "/users/login"), json=DOC_USER, timeout=10)
    assert response.status_code == 200
    assert isinstance(answer(session.get(url(site, "/streamers"), timeout=10)), list)
    response = session.post(url(site, "/streamers"), json=STREAMER, timeout=10)
    streamer = answer(response)
    response = session.post(url(site, f"/streamers/{streamer['id']}/pause"), timeout=10)
    assert response.status_code == 200
    status = answer(session.get(url(site, "/status"), timeout=10))
    assert isinstance(status["version"], str) and isinstance(status["rooms"], list)
    delete_streamer(site, session, streamer["id"])


def test_javascript_example(site: Site) -> None:
    session = requests.Session()
    r = session.post(url(site, "/users/login"), json=DOC_USER, timeout=10)
    assert r.ok
    assert isinstance(answer(session.get(url(site, "/streamers"), timeout=10)), list)
    new = answer(session.post(url(site, "/streamers"), json=STREAMER, timeout=10))
    assert isinstance(new["id"], int)
    delete_streamer(site, session, new["id"])


def test_curl_workflow(site: Site) -> None:
    session = requests.Session()
    answer(session.post(url(site, "/users/login"), json=DOC_USER, timeout=10))
    answer(session.get(url(site, "/status"), timeout=10))
    made = answer(session.post(url(site, "/streamers"), json=STREAMER, timeout=10))
    assert made["id"] in [r["inner"]["id"] for r in streamer_rows(site, session)]
    answer(session.post(url(site, f"/streamers/{made['id']}/pause"), timeout=10))
    assert "recording.mp4" in [
        v["name"] for v in answer(session.get(url(site, "/videos"), timeout=10))
    ]
    body = {"files": ["recording.mp4"], "params": UPLOAD_PARAMS}
    assert answer(session.post(url(site, "/uploads"), json=body, timeout=10)) == {}
    logout = session.get(url(site, "/logout"), timeout=10, allow_redirects=False)
    assert logout.status_code in (301, 302, 303, 307), logout.text
    answer(session.get(url(site, "/users/biliup"), timeout=10), 404)
    # Not in the workflow: leave the room free again.
    answer(session.post(url(site, "/users/login"), json=DOC_USER, timeout=10))
    delete_streamer(site, session, made["id"])


# --- 用户登出 --------------------------------------------------------------------------------


def test_logout_redirects_to_the_login_page(
    site: Site, cookies: requests.Session
) -> None:
    r = cookies.get(url(site, "/logout"), timeout=10, allow_redirects=False)
    assert r.status_code in (301, 302, 303, 307), r.text
    login_page = urljoin(r.url, r.headers["Location"])
    assert "login" in login_page
    assert cookies.get(login_page, timeout=10).status_code == 200
    answer(cookies.get(url(site, "/users/biliup"), timeout=10), 404)
