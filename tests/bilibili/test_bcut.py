"""The BCut (必剪) route of the clients: the BCut preupload and the mvp/add submit, each call's
wire form alone (responses), then a file through both against the strict fake."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import responses

from biliup_site import bilibili
from biliup_site.bilibili import APP_KEYS, chunks, submit, upos

MEMBER = "http://member.fake.test"
CREDENTIAL = {
    "cookie_info": {"cookies": [{"name": "SESSDATA", "value": "s"}]},
    "token_info": {"access_token": "tv-token"},
}
PREUPLOADED = {
    "OK": 1,
    "auth": "ak=1&uid=1",
    "biz_id": 5,
    "chunk_size": 1024,
    "endpoint": "//upos-cs-upcdnbda2.bilivideo.com",
    "upos_uri": "upos://ugcfx2lf/n1.mp4",
}


@pytest.fixture
def rsps(settings: Any) -> Iterator[responses.RequestsMock]:
    settings.BILIBILI_MEMBER_URL = MEMBER
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_a_bcut_preupload_is_sent_as_the_bcut_client(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(MEMBER + "/preupload", json=PREUPLOADED)

    with bilibili.session(CREDENTIAL) as sess:
        session = upos.preupload(sess, upos.line("bda2"), "a.mp4", 10, upos.BCUT)

    request = rsps.calls[0].request
    assert request.headers["User-Agent"].startswith("bcut-pc build:")
    assert "Referer" not in request.headers
    assert request.headers["Cookie"] == "SESSDATA=s"
    sent = query(request.url)
    assert sent["profile"] == "ugcfx/bcut-pc"
    assert sent["version"].startswith("3.11.")
    assert sent["build"] in request.headers["User-Agent"]
    assert "ssl" not in sent
    assert (sent["upcdn"], sent["name"], sent["size"]) == ("bda2", "a.mp4", "10")
    assert session.biz_id == 5


def test_the_web_preupload_stays_the_default(rsps: responses.RequestsMock) -> None:
    rsps.get(MEMBER + "/preupload", json=PREUPLOADED)

    with bilibili.session(CREDENTIAL) as sess:
        upos.preupload(sess, upos.line("bda2"), "a.mp4", 10)

    request = rsps.calls[0].request
    assert query(request.url)["profile"] == "ugcupos/bup"
    assert request.headers["User-Agent"] == bilibili.BROWSER_UA


def test_a_bcut_submit_is_signed_with_the_bcut_key(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(MEMBER + "/x/vu/mvp/add", json={"code": 0, "data": {"aid": 7}})

    archive = submit.add(CREDENTIAL, "bcut", {"title": "t"})

    request = rsps.calls[0].request
    sent = query(request.url)
    key = APP_KEYS["BCut"]
    assert (sent["appkey"], sent["access_key"]) == (key.appkey, "tv-token")
    assert (sent["mobi_app"], sent["build"]) == ("android_bbs", "2800030")
    unsigned = urlencode(sorted((k, v) for k, v in sent.items() if k != "sign"))
    assert sent["sign"] == hashlib.md5((unsigned + key.appsec).encode()).hexdigest()
    assert "mobi_app/android_bbs" in request.headers["User-Agent"]
    assert request.body == b'{"title": "t"}'
    assert archive == submit.Archive(7, "")


def test_a_bcut_submit_needs_an_app_token() -> None:
    with pytest.raises(bilibili.BilibiliError) as raised:
        submit.add({"cookie_info": CREDENTIAL["cookie_info"]}, "bcut", {})

    assert raised.value.code == -101


def test_a_file_goes_through_bcut_and_becomes_an_archive(
    fakebili: Any, tmp_path: Path
) -> None:
    credential = fakebili.login()
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x" * 100)
    # The web's route is throttled; BCut's is not.
    fakebili.upos_rate_limit(times=5)
    with bilibili.session(credential) as sess:
        session = upos.preupload(sess, upos.line("bda2"), path.name, 100, upos.BCUT)
    upload_id = upos.init(session)
    upos.chunk_sender(session, upload_id, path, 100, 1)(
        chunks.Part(1, 0, 100), session.endpoint
    )
    upos.complete(session, path.name, upload_id, 1)
    part = submit.Part(upos.filename(session.upos_uri), "P1", session.biz_id)
    body = submit.studio({"tid": 171, "tags": ["录播"]}, "BCut 投稿", [part])

    archive = submit.add(credential, "bcut", body)

    [made] = fakebili.archives()
    assert made["aid"] == archive.aid
    assert [v["cid"] for v in made["videos"]] == [session.biz_id]
    assert fakebili.upos_uploads()[0]["profile"] == "ugcfx/bcut-pc"
