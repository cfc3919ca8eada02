"""The fake Open Platform over real HTTP: the upload flow in both auth styles, and its errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
import requests

from tests.fakebili.images import JPEG, PNG
from tests.fakebili.server import FakeBilibili
from tests.fakebili.submit import av2bv

TIMEOUT = 5
CLIENT_ID = "a1b2c3d4e5f60718"
APP_SECRET = "0123456789abcdef0123456789abcdef"
MID = 424242
CHUNK = 256 * 1024
SUBMIT = {
    "title": "录播 2024-05-01",
    "cover": "",
    "tid": 171,
    "no_reprint": 0,
    "desc": "简介",
    "tag": "直播,录播",
    "copyright": 1,
    "source": "",
    "topic_id": 0,
}


def sign(
    app: dict[str, Any],
    body: bytes = b"",
    *,
    nonce: str | None = None,
    timestamp: int | None = None,
    skew: int = 0,
    content_md5: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    """Signature 2.0 headers (§5.2), written out here rather than taken from the fake."""
    signed = {
        "x-bili-accesskeyid": app["client_id"],
        "x-bili-content-md5": content_md5 or hashlib.md5(body).hexdigest(),
        "x-bili-signature-method": "HMAC-SHA256",
        "x-bili-signature-nonce": nonce or str(uuid.uuid4()),
        "x-bili-signature-version": "2.0",
        "x-bili-timestamp": str(
            (int(time.time()) if timestamp is None else timestamp) + skew
        ),
    }
    text = "\n".join(f"{key}:{signed[key]}" for key in sorted(signed))
    key = (secret or app["app_secret"]).encode()
    return {
        **signed,
        "Accept": "application/json",
        "access-token": app["access_token"],
        "Authorization": hmac.new(key, text.encode(), hashlib.sha256).hexdigest(),
    }


class Client:
    """An Open Platform client in one of the two auth styles: "legacy" (query) or "signed"."""

    def __init__(self, fake: FakeBilibili, app: dict[str, Any], style: str) -> None:
        self.fake = fake
        self.app = app
        self.style = style

    def _auth(
        self, params: dict[str, Any] | None, body: bytes = b""
    ) -> tuple[dict[str, Any], dict[str, str]]:
        params = dict(params or {})
        if self.style == "legacy":
            params.update(
                client_id=self.app["client_id"], access_token=self.app["access_token"]
            )
            return params, {}
        return params, sign(self.app, body)

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        params, headers = self._auth(params)
        return requests.get(
            self.fake.url + path, params=params, headers=headers, timeout=TIMEOUT
        ).json()

    def post(
        self, path: str, body: Any, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        data = json.dumps(body).encode()
        params, headers = self._auth(params, data)
        headers["Content-Type"] = "application/json"
        return requests.post(
            self.fake.url + path,
            params=params,
            data=data,
            headers=headers,
            timeout=TIMEOUT,
        ).json()

    def cover(self, image: bytes) -> dict[str, Any]:
        # Multipart: the file bytes are not part of the content md5 (§5.2).
        params, headers = self._auth(None)
        return requests.post(
            self.fake.url + "/arcopen/fn/archive/cover/upload",
            params=params,
            files={"file": ("cover.jpg", image, "image/jpeg")},
            headers=headers,
            timeout=TIMEOUT,
        ).json()

    def init(self, name: str = "video.mp4", utype: str = "0") -> str:
        r = self.post("/arcopen/fn/archive/video/init", {"name": name, "utype": utype})
        assert r["code"] == 0, r
        return r["data"]["upload_token"]

    def submit(self, upload_token: str, **fields: Any) -> dict[str, Any]:
        return self.post(
            "/arcopen/fn/archive/add-by-utoken",
            {**SUBMIT, **fields},
            {"upload_token": upload_token},
        )


def chunk(fake: FakeBilibili, token: str, number: int, data: bytes) -> dict[str, Any]:
    return requests.post(
        fake.url + "/video/v2/part/upload",
        params={"upload_token": token, "part_number": number},
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=TIMEOUT,
    ).json()


def complete(fake: FakeBilibili, token: str) -> dict[str, Any]:
    return requests.post(
        fake.url + "/arcopen/fn/archive/video/complete",
        params={"upload_token": token},
        json={},
        timeout=TIMEOUT,
    ).json()


def uploaded(fake: FakeBilibili, client: Client, data: bytes = b"video") -> str:
    """An upload_token whose file is uploaded and completed."""
    token = client.init()
    assert chunk(fake, token, 1, data)["code"] == 0
    assert complete(fake, token)["code"] == 0
    return token


@pytest.fixture
def app(fake: FakeBilibili) -> dict[str, Any]:
    return fake.openplatform_app(CLIENT_ID, APP_SECRET, MID)


@pytest.fixture(params=["legacy", "signed"])
def client(request: pytest.FixtureRequest, fake: FakeBilibili, app: dict) -> Client:
    return Client(fake, app, request.param)


@pytest.fixture
def signed(fake: FakeBilibili, app: dict) -> Client:
    return Client(fake, app, "signed")


def test_the_app_control_works_over_http(fake: FakeBilibili) -> None:
    r = requests.post(
        fake.url + "/_fake/openplatform/apps",
        json={"client_id": "c1", "app_secret": "s1", "mid": 7},
        timeout=TIMEOUT,
    ).json()
    assert set(r) == {"client_id", "app_secret", "access_token", "refresh_token"}
    assert (r["client_id"], r["app_secret"]) == ("c1", "s1")
    again = fake.openplatform_app("c1", "s1", 7)
    assert again["access_token"] != r["access_token"]
    assert fake.env()["BILIUP_BILIBILI_OPENUPOS_URL"] == fake.url


def test_the_whole_flow_works(fake: FakeBilibili, client: Client) -> None:
    source = bytes(range(256)) * (CHUNK * 3 // 256) + b"tail"
    token = client.init("录播.flv")
    assert len(token) == 32 and int(token, 16) >= 0
    parts = [source[i : i + CHUNK] for i in range(0, len(source), CHUNK)]
    # Out of order, and part 2 sent twice.
    for number in (2, 1, 4, 3, 2):
        r = chunk(fake, token, number, parts[number - 1])
        assert r["code"] == 0 and r["message"] == "0" and r["ttl"] == 1
        assert r["request_id"]
        assert r["data"]["etag"] == hashlib.md5(parts[number - 1]).hexdigest()
    assert complete(fake, token)["data"] == {"upload_token": token}

    cover = client.cover(JPEG)
    assert cover["code"] == 0, cover
    cover_url = cover["data"]["url"]
    sha1 = hashlib.sha1(JPEG).hexdigest()
    assert cover_url == f"{fake.url}/bfs/archive/{sha1}.jpg"
    assert requests.get(cover_url, timeout=TIMEOUT).content[:2] == b"\xff\xd8"

    r = client.submit(token, cover=cover_url)
    assert r["code"] == 0, r
    resource_id = r["data"]["resource_id"]
    assert resource_id.startswith("BV1") and len(resource_id) == 12

    [archive] = fake.openplatform_archives()
    assert archive["resource_id"] == resource_id
    assert av2bv(archive["aid"]) == resource_id
    assert (archive["client_id"], archive["mid"]) == (CLIENT_ID, MID)
    assert archive["body"] == {**SUBMIT, "cover": cover_url}
    assert archive["upload"]["md5"] == hashlib.md5(source).hexdigest()
    assert archive["upload"]["size"] == len(source)
    assert [p["uploads"] for p in archive["upload"]["parts"]] == [1, 2, 1, 1]

    view = client.get("/arcopen/fn/archive/view", {"resource_id": resource_id})
    assert view["code"] == 0, view
    data = view["data"]
    assert data["title"] == SUBMIT["title"] and data["tid"] == 171
    assert data["cover"] == cover_url
    assert set(data["video_info"]) == {
        "cid",
        "filename",
        "duration",
        "iframe_url",
        "share_url",
    }
    assert data["video_info"]["cid"] == archive["cid"]
    assert data["addit_info"] == {
        "state": 0,
        "state_desc": "开放浏览",
        "reject_reason": "",
    }
    listing = client.get("/arcopen/fn/archive/viewlist", {"pn": 1, "ps": 20})
    assert listing["data"]["list"] == [data]
    assert listing["data"]["page"] == {"pn": 1, "ps": 20, "total": 1}


def test_it_serves_the_categories_and_the_user(
    fake: FakeBilibili, client: Client
) -> None:
    types = client.get("/arcopen/fn/archive/type/list")
    assert types["code"] == 0 and types["request_id"]
    life = next(t for t in types["data"] if t["id"] == 160)
    assert set(life) == {"id", "parent", "name", "description", "children"}
    assert {"id": 21, "parent": 160, "name": "日常"}.items() <= life["children"][
        1
    ].items()

    fake.add_account(MID, "主播甲")
    user = client.get("/arcopen/fn/user/account/info")["data"]
    assert user["name"] == "主播甲"
    assert user["face"].startswith(fake.url + "/bfs/face/")
    assert len(user["openid"]) == 32
    assert client.get("/arcopen/fn/user/account/info")["data"] == user


def test_a_small_upload_completes_by_itself(fake: FakeBilibili, signed: Client) -> None:
    token = signed.init(utype="1")
    r = requests.post(
        fake.url + "/video/v2/upload",
        params={"upload_token": token},
        data=b"small video",
        timeout=TIMEOUT,
    ).json()
    assert r["code"] == 0, r
    assert signed.submit(token)["code"] == 0
    [archive] = fake.openplatform_archives()
    assert archive["upload"]["md5"] == hashlib.md5(b"small video").hexdigest()


def test_a_small_upload_needs_utype_1(fake: FakeBilibili, signed: Client) -> None:
    token = signed.init(utype="0")
    r = requests.post(
        fake.url + "/video/v2/upload",
        params={"upload_token": token},
        data=b"x",
        timeout=TIMEOUT,
    ).json()
    assert r["code"] == 127100


def test_complete_needs_parts_one_to_n(fake: FakeBilibili, signed: Client) -> None:
    token = signed.init()
    r = complete(fake, token)
    assert r["code"] == 127100 and r["data"] is None and r["request_id"]
    chunk(fake, token, 1, b"a")
    chunk(fake, token, 3, b"c")
    r = complete(fake, token)
    assert r["code"] == 127100 and "[2]" in r["message"]
    chunk(fake, token, 2, b"b")
    assert complete(fake, token)["code"] == 0
    [upload] = fake.openplatform_uploads()
    assert upload["md5"] == hashlib.md5(b"abc").hexdigest()


def test_it_refuses_a_bad_part_number(fake: FakeBilibili, signed: Client) -> None:
    token = signed.init()
    assert chunk(fake, token, 0, b"a")["code"] == 127100


def test_it_refuses_unknown_upload_tokens(fake: FakeBilibili, signed: Client) -> None:
    bogus = uuid.uuid4().hex
    assert chunk(fake, bogus, 1, b"a")["code"] == 127022
    assert complete(fake, bogus)["code"] == 127022
    assert signed.submit(bogus)["code"] == 127022


def test_it_refuses_an_upload_token_of_another_app(
    fake: FakeBilibili, signed: Client
) -> None:
    token = uploaded(fake, signed)
    other = Client(fake, fake.openplatform_app("other", "secret", MID), "signed")
    assert other.submit(token)["code"] == 127022


def test_an_upload_token_is_submitted_once(fake: FakeBilibili, signed: Client) -> None:
    token = uploaded(fake, signed)
    assert signed.submit(token)["code"] == 0
    r = signed.submit(token)
    assert r["code"] == 127100 and "already used" in r["message"]
    assert chunk(fake, token, 1, b"a")["code"] == 127100


def test_a_submit_needs_a_completed_upload(fake: FakeBilibili, signed: Client) -> None:
    token = signed.init()
    chunk(fake, token, 1, b"a")
    r = signed.submit(token)
    assert r["code"] == 127100 and "not completed" in r["message"]


def test_init_refuses_what_is_not_a_video(fake: FakeBilibili, signed: Client) -> None:
    r = signed.post("/arcopen/fn/archive/video/init", {"name": "notes.txt"})
    assert r["code"] == 127102
    r = signed.post("/arcopen/fn/archive/video/init", {"utype": "0"})
    assert r["code"] == 127100
    r = signed.post("/arcopen/fn/archive/video/init", {"name": "a.mkv", "utype": "2"})
    assert r["code"] == 127100


def test_cover_accepts_png_and_refuses_other_files(signed: Client) -> None:
    assert signed.cover(PNG)["code"] == 0
    assert signed.cover(b"GIF89a not a jpeg")["code"] == 127102


@pytest.mark.parametrize(
    ("fields", "code", "named"),
    [
        ({"title": ""}, 127100, "title"),
        ({"title": "长" * 81}, 127100, "title"),
        ({"tid": None}, 127100, "tid"),
        ({"tid": 160}, 127207, "tid"),
        ({"tid": 99999}, 127207, "tid"),
        ({"tag": ""}, 127100, "tag"),
        ({"tag": "t" * 200}, 127100, "tag"),
        ({"copyright": 3}, 127100, "copyright"),
        ({"copyright": 2, "source": ""}, 127100, "source"),
    ],
)
def test_submit_checks_its_fields(
    fake: FakeBilibili, signed: Client, fields: dict, code: int, named: str
) -> None:
    token = uploaded(fake, signed)
    r = signed.submit(token, **fields)
    assert r["code"] == code and named in r["message"], r
    # A refused submit does not use the token up.
    assert signed.submit(token)["code"] == 0


def test_a_reposted_archive_needs_a_source(fake: FakeBilibili, signed: Client) -> None:
    token = uploaded(fake, signed)
    assert (
        signed.submit(token, copyright=2, source="https://example.com/v")["code"] == 0
    )


def test_the_quota_limits_submits(fake: FakeBilibili, signed: Client) -> None:
    requests.post(
        fake.url + "/_fake/openplatform/quota",
        json={"client_id": CLIENT_ID, "remaining": 1},
        timeout=TIMEOUT,
    ).raise_for_status()
    assert signed.submit(uploaded(fake, signed))["code"] == 0
    assert signed.submit(uploaded(fake, signed))["code"] == 127009


def test_view_and_viewlist(fake: FakeBilibili, signed: Client) -> None:
    ids = [signed.submit(uploaded(fake, signed), title=f"t{i}") for i in range(3)]
    ids = [r["data"]["resource_id"] for r in ids]
    fake.openplatform_set_state(ids[0], -2, "标题违规")
    page = signed.get("/arcopen/fn/archive/viewlist", {"pn": 1, "ps": 2})["data"]
    assert [a["resource_id"] for a in page["list"]] == [ids[2], ids[1]]
    assert page["page"] == {"pn": 1, "ps": 2, "total": 3}
    page = signed.get("/arcopen/fn/archive/viewlist", {"pn": 2, "ps": 2})["data"]
    assert [a["resource_id"] for a in page["list"]] == [ids[0]]
    rejected = signed.get("/arcopen/fn/archive/viewlist", {"status": "not_pubed"})
    [archive] = rejected["data"]["list"]
    assert archive["addit_info"]["reject_reason"] == "标题违规"
    bad = signed.get("/arcopen/fn/archive/viewlist", {"status": "nope"})
    assert bad["code"] == 127100
    r = signed.get("/arcopen/fn/archive/view", {"resource_id": "BV1xx411c7mD"})
    assert r["code"] == 127124
    # Another user's archives are not theirs to see.
    stranger = Client(fake, fake.openplatform_app(CLIENT_ID, APP_SECRET, 1), "signed")
    r = stranger.get("/arcopen/fn/archive/view", {"resource_id": ids[1]})
    assert r["code"] == 127124
    archives = requests.get(fake.url + "/_fake/openplatform/archives", timeout=TIMEOUT)
    assert len(archives.json()["archives"]) == 3


# Authentication


def test_it_refuses_an_unknown_client_id(fake: FakeBilibili, app: dict) -> None:
    for style in ("legacy", "signed"):
        client = Client(fake, {**app, "client_id": "nobody"}, style)
        assert client.get("/arcopen/fn/archive/type/list")["code"] == 127004


def test_it_refuses_a_request_without_auth(fake: FakeBilibili) -> None:
    r = requests.get(fake.url + "/arcopen/fn/archive/type/list", timeout=TIMEOUT)
    assert r.json()["code"] == 127000


def test_it_refuses_a_signature_missing_a_header(fake: FakeBilibili, app: dict) -> None:
    headers = sign(app)
    del headers["x-bili-signature-nonce"]
    r = requests.get(
        fake.url + "/arcopen/fn/archive/type/list", headers=headers, timeout=TIMEOUT
    ).json()
    assert r["code"] == 127000 and "x-bili-signature-nonce" in r["message"]


@pytest.mark.parametrize(
    "spoil",
    [
        {"secret": "wrong"},
        {"content_md5": hashlib.md5(b"{}").hexdigest()},
        # The skew, not a timestamp: parameters are made at collection, long before the run.
        {"skew": -700},
        {"skew": 700},
    ],
    ids=["signature", "content-md5", "old", "future"],
)
def test_it_refuses_a_bad_signature(fake: FakeBilibili, app: dict, spoil: dict) -> None:
    r = requests.get(
        fake.url + "/arcopen/fn/archive/type/list",
        headers=sign(app, **spoil),
        timeout=TIMEOUT,
    ).json()
    assert r["code"] == 127012, r


def test_it_follows_the_fakes_clock(fake: FakeBilibili, app: dict) -> None:
    fake.advance_clock(3600)
    headers = sign(app, timestamp=int(time.time()) + 3600)
    r = requests.get(
        fake.url + "/arcopen/fn/archive/type/list", headers=headers, timeout=TIMEOUT
    )
    assert r.json()["code"] == 0
    r = requests.get(
        fake.url + "/arcopen/fn/archive/type/list", headers=sign(app), timeout=TIMEOUT
    )
    assert r.json()["code"] == 127012


def test_it_refuses_a_nonce_used_before(fake: FakeBilibili, app: dict) -> None:
    nonce = str(uuid.uuid4())
    url = fake.url + "/arcopen/fn/archive/type/list"
    r = requests.get(url, headers=sign(app, nonce=nonce), timeout=TIMEOUT)
    assert r.json()["code"] == 0
    r = requests.get(url, headers=sign(app, nonce=nonce), timeout=TIMEOUT).json()
    assert r["code"] == 127012 and "nonce" in r["message"]


def test_it_refuses_an_expired_token(fake: FakeBilibili, client: Client) -> None:
    assert client.get("/arcopen/fn/archive/type/list")["code"] == 0
    requests.post(
        fake.url + "/_fake/openplatform/expire",
        json={"access_token": client.app["access_token"]},
        timeout=TIMEOUT,
    ).raise_for_status()
    assert client.get("/arcopen/fn/archive/type/list")["code"] == 127001


def test_it_refuses_a_token_of_another_app(fake: FakeBilibili, app: dict) -> None:
    other = fake.openplatform_app("other", "secret", MID)
    client = Client(fake, {**other, "access_token": app["access_token"]}, "legacy")
    assert client.get("/arcopen/fn/archive/type/list")["code"] == 127001


def test_reset_removes_the_stored_chunks(fake: FakeBilibili, signed: Client) -> None:
    token = signed.init()
    chunk(fake, token, 1, b"a")
    directory = fake.state.openplatform.uploads[token].directory
    assert (directory / "part-1").read_bytes() == b"a"
    fake.reset()
    assert not directory.exists()
    assert chunk(fake, token, 1, b"a")["code"] == 127022
