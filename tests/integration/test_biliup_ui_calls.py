"""Every call biliup's web UI makes (app/ in github:biliup/biliup), replayed as the UI makes it
against one running site and the fake Bilibili, asserting the status and the fields the UI reads.

Already replayed elsewhere, so not here: the QR login (test_biliup_ui_accounts.py), the streamers
page's edit, pause and delete and the dashboard's save (test_biliup_ui_replay.py), the history
player's Range GETs and the log viewer's first tab (test_biliup_player_and_logs.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.fakebili.server import FakeBilibili
from tests.integration.shared import Shared
from tests.livesite import Site, configure, open_progress_socket
from tests.polling import wait_for

pytestmark = pytest.mark.integration

ROOM = 23077
MID = 778001
EXPIRED_MID = 778002
PASSWORD = "ui-calls-password-9"
NOFACE = "https://i0.hdslb.com/bfs/face/member/noface.jpg"


@pytest.fixture(scope="module")
def fake(shared_for_module: Shared) -> FakeBilibili:
    shared_for_module.fake.add_room(ROOM, speed=1, uname="主播C", title="今晚录播")
    return shared_for_module.fake


@pytest.fixture(scope="module")
def site(shared_for_module: Shared, fake: FakeBilibili) -> Site:
    return shared_for_module.site


@pytest.fixture(scope="module")
def ui(site: Site) -> requests.Session:
    """The login page on a new site: GET /v1/users/biliup answers 404 (register mode), then
    POST /v1/users/register with the form's fields; response.ok is all the page reads."""
    session = requests.Session()
    assert session.get(f"{site.url}/v1/users/biliup", timeout=10).status_code == 404
    r = session.post(
        f"{site.url}/v1/users/register",
        json={"username": "biliup", "password": PASSWORD, "remember": True},
        timeout=10,
    )
    assert r.ok, r.text
    assert session.get(f"{site.url}/v1/users/biliup", timeout=10).status_code == 200
    return session


@pytest.fixture(scope="module")
def cookie_file(site: Site, fake: FakeBilibili, ui: requests.Session) -> str:
    """A cookies.json in the data folder, added as UserList's "cookie文件" panel adds it."""
    name = f"{MID}.json"
    (site.data_dir / name).write_text(json.dumps(fake.login(MID)))
    info = _ok(ui.get(f"{site.url}/bili/space/myinfo", params={"user": name}))
    assert info["code"] == 0, info
    _ok(
        ui.post(f"{site.url}/v1/users", json={"key": "bilibili-cookies", "value": name})
    )
    return name


def _ok(response: requests.Response) -> Any:
    assert response.status_code == 200, f"{response.request.url}: {response.text}"
    return response.json()


def test_login_page_logs_in_and_says_why_not(site: Site, ui: requests.Session) -> None:
    browser = requests.Session()
    url = f"{site.url}/v1/users/login"
    wrong = browser.post(
        url, json={"username": "biliup", "password": "not-it"}, timeout=10
    )
    # The page shows `result.message` from the JSON body of a refusal.
    assert 400 <= wrong.status_code < 500
    assert wrong.json()["message"]
    r = browser.post(
        url,
        json={"username": "biliup", "password": PASSWORD, "remember": True},
        timeout=10,
    )
    assert r.ok, r.text
    assert browser.get(f"{site.url}/v1/streamers", timeout=10).status_code == 200


def test_user_list_reads_name_and_face_through_the_proxy(
    site: Site, ui: requests.Session, cookie_file: str
) -> None:
    # useBiliUsers: GET /v1/users, then per item myinfo?user=<value> and the face via /bili/proxy.
    users = _ok(ui.get(f"{site.url}/v1/users"))
    [user] = [u for u in users if u["value"] == cookie_file]
    assert {"id", "name", "value", "platform"} <= user.keys()
    info = _ok(ui.get(f"{site.url}/bili/space/myinfo", params={"user": user["value"]}))
    assert info["data"]["name"] and info["data"]["face"]
    face = ui.get(f"{site.url}/bili/proxy?url={info['data']['face']}", timeout=10)
    assert face.status_code == 200 and face.content
    assert face.headers["Content-Type"].startswith("image/")


def test_user_list_deletes_a_user_by_id(
    site: Site, fake: FakeBilibili, ui: requests.Session
) -> None:
    name = "to-delete.json"
    (site.data_dir / name).write_text(json.dumps(fake.login(MID)))
    added = _ok(
        ui.post(f"{site.url}/v1/users", json={"key": "bilibili-cookies", "value": name})
    )
    [user] = [u for u in _ok(ui.get(f"{site.url}/v1/users")) if u["value"] == name]
    assert added["id"] == user["id"]
    # requestDelete: DELETE /v1/users/<item.id>; the UI only checks res.ok.
    assert ui.delete(f"{site.url}/v1/users/{user['id']}", timeout=10).ok
    assert name not in [u["value"] for u in _ok(ui.get(f"{site.url}/v1/users"))]


def test_a_dead_cookie_falls_back_to_the_noface_image(
    site: Site, fake: FakeBilibili, ui: requests.Session
) -> None:
    name = f"{EXPIRED_MID}.json"
    (site.data_dir / name).write_text(json.dumps(fake.login(EXPIRED_MID)))
    _ok(
        ui.post(f"{site.url}/v1/users", json={"key": "bilibili-cookies", "value": name})
    )
    fake.expire_account(EXPIRED_MID)
    info = ui.get(f"{site.url}/bili/space/myinfo", params={"user": name}, timeout=10)
    # The UI's fetcher throws on !res.ok; a 200 must then carry a non-zero code.
    assert not info.ok or info.json()["code"] != 0
    # Bilibili's default avatar is answered from a bundled image, offline too.
    face = ui.get(f"{site.url}/bili/proxy?url={NOFACE}", timeout=10)
    assert face.status_code == 200 and face.content.startswith(b"\x89PNG")


def _a_category(ui: requests.Session, site: Site) -> tuple[int, int]:
    """useTypeTree: GET /bili/archive/pre, data.typelist[].{id, name, children[].{id, name, desc}}."""
    pre = _ok(ui.get(f"{site.url}/bili/archive/pre"))
    assert pre["code"] == 0
    parent = next(t for t in pre["data"]["typelist"] if t["children"])
    assert parent["name"] and {"id", "name", "desc"} <= parent["children"][0].keys()
    return parent["id"], parent["children"][0]["id"]


def _studio_entity(cookie_file: str, tid: int, **changes: Any) -> dict[str, Any]:
    """The body upload-manager/add builds from its form (id undefined: JSON drops it)."""
    return {
        "template_name": "ui-calls",
        "user_cookie": cookie_file,
        "copyright": 2,
        "copyright_source": "https://live.bilibili.com/23077",
        "tid": tid,
        "cover_path": "",
        "title": "{streamer} 录播",
        "description": "简介",
        "dynamic": "",
        "tags": ["录播", "游戏"],
        "dolby": 0,
        "hires": 1,
        "up_selection_reply": 0,
        "up_close_reply": 1,
        "up_close_danmu": 0,
        "charging_pay": 0,
        "no_reprint": 1,
        "is_only_self": 0,
        "dtime": None,
        "credits": [],
        "uploader": "biliup-rs",
        "extra_fields": "",
        **changes,
    }


EDIT_PAGE_READS = {
    "id",
    "template_name",
    "user_cookie",
    "copyright",
    "copyright_source",
    "tid",
    "cover_path",
    "title",
    "description",
    "dynamic",
    "tags",
    "dtime",
    "dolby",
    "hires",
    "no_reprint",
    "is_only_self",
    "up_selection_reply",
    "up_close_reply",
    "up_close_danmu",
    "charging_pay",
    "credits",
    "uploader",
    "extra_fields",
}


def test_upload_manager_adds_edits_lists_and_deletes_a_template(
    site: Site, ui: requests.Session, cookie_file: str
) -> None:
    parent, tid = _a_category(ui, site)
    created = _ok(
        ui.post(
            f"{site.url}/v1/upload/streamers", json=_studio_entity(cookie_file, tid)
        )
    )
    pk = created["id"]
    # The list: item.id and item.template_name.
    listed = _ok(ui.get(f"{site.url}/v1/upload/streamers"))
    assert (pk, "ui-calls") in [(t["id"], t["template_name"]) for t in listed]

    # The edit page: GET /v1/upload/streamers/<id>, its fields mapped into the form.
    data = _ok(ui.get(f"{site.url}/v1/upload/streamers/{pk}"))
    assert data.keys() >= EDIT_PAGE_READS
    assert (data["tid"], data["hires"], data["up_close_reply"]) == (tid, 1, 1)
    assert (data["no_reprint"], data["dolby"], data["charging_pay"]) == (1, 0, 0)
    assert data["tags"] == ["录播", "游戏"] and data["user_cookie"] == cookie_file
    assert data["dtime"] in (None, 0)

    # Save: POST with the id; the answer is the template (mutate(result) shows it).
    edited = _studio_entity(cookie_file, tid, id=pk, title="改过的标题", dolby=1)
    saved = _ok(ui.post(f"{site.url}/v1/upload/streamers", json=edited))
    assert (saved["id"], saved["title"], saved["dolby"]) == (pk, "改过的标题", 1)
    assert len(_ok(ui.get(f"{site.url}/v1/upload/streamers"))) == len(listed)

    # requestDelete: DELETE /v1/upload/streamers/<item.id>.
    assert ui.delete(f"{site.url}/v1/upload/streamers/{pk}", timeout=10).ok
    assert ui.get(f"{site.url}/v1/upload/streamers/{pk}", timeout=10).status_code == 404


def test_template_modal_creates_a_streamer_with_every_field(
    site: Site, ui: requests.Session, cookie_file: str
) -> None:
    _, tid = _a_category(ui, site)
    template = _ok(
        ui.post(
            f"{site.url}/v1/upload/streamers",
            json=_studio_entity(cookie_file, tid, template_name="modal"),
        )
    )
    # TemplateModal.handleOk: trimmed strings, time_range as JSON text of ISO strings, the
    # processors as its ArrayFields hold them, postprocessor mapped by streamers/page.
    window = ["2024-01-01T14:00:00.000Z", "2024-01-01T18:00:00.000Z"]
    body = {
        "remark": "模态框",
        "url": "https://live.bilibili.com/23078",
        "filename_prefix": "{streamer}%Y-%m-%dT%H_%M_%S",
        "upload_streamers_id": template["id"],
        "postprocessor": [{"run": "echo done"}, "rm"],
        "format": "flv",
        "time_range": json.dumps(window),
        "excluded_keywords": ["回放"],
        "preprocessor": [{"run": "echo start"}],
        "segment_processor": [{"run": "echo segment"}],
        "downloaded_processor": [{"run": "echo end"}],
        "opt_args": ["-loglevel", "error"],
    }
    _ok(ui.post(f"{site.url}/v1/streamers", json=body))
    [row] = [
        s for s in _ok(ui.get(f"{site.url}/v1/streamers")) if s["remark"] == "模态框"
    ]
    # The streamers page reads these; the edit modal re-reads time_range as JSON text.
    assert {"id", "url", "status", "upload_status"} <= row.keys()
    assert row["upload_streamers_id"] == template["id"]
    assert json.loads(row["time_range"]) == window
    assert row["excluded_keywords"] == ["回放"]
    assert row["format"] == "flv" and row["filename_prefix"] == body["filename_prefix"]

    # PauseButton again on a paused streamer resumes it (the icon shows play while paused).
    _ok(ui.put(f"{site.url}/v1/streamers/{row['id']}/pause"))
    _ok(ui.put(f"{site.url}/v1/streamers/{row['id']}/pause"))
    [row] = [s for s in _ok(ui.get(f"{site.url}/v1/streamers")) if s["id"] == row["id"]]
    assert row["status"] != "Pause"
    assert ui.delete(f"{site.url}/v1/streamers/{row['id']}", timeout=10).ok


def test_template_modal_keeps_the_processors_and_ffmpeg_args(
    site: Site, ui: requests.Session
) -> None:
    body = {
        "remark": "处理器",
        "url": "https://live.bilibili.com/23079",
        "postprocessor": [{"run": "echo done"}, "rm"],
        "preprocessor": [{"run": "echo start"}],
        "segment_processor": [{"run": "echo segment"}],
        "downloaded_processor": [{"run": "echo end"}],
        "opt_args": ["-loglevel", "error"],
    }
    _ok(ui.post(f"{site.url}/v1/streamers", json=body))
    [row] = [
        s for s in _ok(ui.get(f"{site.url}/v1/streamers")) if s["remark"] == "处理器"
    ]
    assert {k: row.get(k) for k in body} == body


def test_upload_manager_uploads_picked_files_with_a_template(
    site: Site, ui: requests.Session, cookie_file: str
) -> None:
    _, tid = _a_category(ui, site)
    _ok(
        ui.post(
            f"{site.url}/v1/upload/streamers",
            json=_studio_entity(cookie_file, tid, template_name="manual"),
        )
    )
    (site.recordings_dir / "manual").mkdir(exist_ok=True)
    (site.recordings_dir / "manual" / "片段.flv").write_bytes(b"FLV\x01" + bytes(4096))
    # The Transfer lists /v1/videos by v.name (value) and v.key (key).
    videos = _ok(ui.get(f"{site.url}/v1/videos"))
    assert all({"key", "name", "updateTime", "size"} <= v.keys() for v in videos)
    assert "manual/片段.flv" in [v["name"] for v in videos]
    # selectEntity is the template as GET /v1/upload/streamers gave it, id and all.
    [entity] = [
        t
        for t in _ok(ui.get(f"{site.url}/v1/upload/streamers"))
        if t["template_name"] == "manual"
    ]
    r = ui.post(
        f"{site.url}/v1/uploads",
        json={"files": ["manual/片段.flv"], "params": entity},
        timeout=10,
    )
    assert _ok(r) == {}


def test_status_page_gets_a_json_tree(site: Site, ui: requests.Session) -> None:
    status = _ok(ui.get(f"{site.url}/v1/status"))
    assert {"version", "rooms", "config"} <= status.keys()


def test_live_history_lists_sessions_and_their_files(
    site: Site, fake: FakeBilibili, ui: requests.Session
) -> None:
    configure(ui, site, event_loop_interval=5, delay=0, disk_reserve=0)
    _ok(
        ui.post(
            f"{site.url}/v1/streamers",
            json={"remark": "主播C", "url": f"https://live.bilibili.com/{ROOM}"},
        )
    )
    fake.set_live(ROOM, 1)
    fake.set_stream(ROOM, offline_after_seconds=4)

    def a_session_with_files() -> list[Any]:
        return [
            s
            for s in _ok(ui.get(f"{site.url}/v1/streamer-info"))
            if _ok(ui.get(f"{site.url}/v1/streamer-info/files/{s['id']}"))
        ]

    wait_for(a_session_with_files, 60, f"no recorded session\n{site.log_tail()}")
    [session] = a_session_with_files()
    # job/page: name, title, url, live_cover_path, date (a number it sorts and formats).
    assert session["name"] == "主播C" and session["title"] == "今晚录播"
    assert session["url"] == f"https://live.bilibili.com/{ROOM}"
    assert "live_cover_path" in session and isinstance(session["date"], int)
    files = _ok(ui.get(f"{site.url}/v1/streamer-info/files/{session['id']}"))
    assert all(isinstance(f["id"], int) and f["file"] for f in files)


@pytest.mark.parametrize("tab", ["ds_update", "download"])
def test_log_viewer_downloads_each_tab(
    site: Site, ui: requests.Session, tab: str
) -> None:
    # The 下载 button: window.location.href = /static/<tab>.log.
    r = ui.get(f"{site.url}/static/{tab}.log", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")


def test_log_viewer_opens_its_second_tab(site: Site, ui: requests.Session) -> None:
    # "biliup下载和上传日志": /v1/ws/logs?file=download.log; onopen is all it needs to show it.
    with open_progress_socket(site, ui, "/v1/ws/logs?file=download.log") as ws:
        assert ws.ping().wait(10)
