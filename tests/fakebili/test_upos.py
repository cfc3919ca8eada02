"""The fake's UPOS host over real HTTP: probe, preupload, init, chunks, complete, and its faults."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from typing import Any

import pytest
import requests

from tests.fakebili.server import SEED_MID, FakeBilibili
from tests.fakebili.upos import local_url
from tests.polling import wait_for

TIMEOUT = 5
CHUNK = 4096


def web(fake: FakeBilibili, mid: int = SEED_MID) -> requests.Session:
    """A requests session with the account's web cookies."""
    sess = requests.Session()
    for cookie in fake.login(mid)["cookie_info"]["cookies"]:
        sess.cookies.set(cookie["name"], cookie["value"])
    return sess


def preupload(
    sess: requests.Session, fake: FakeBilibili, size: int, line: str = "bda2"
) -> requests.Response:
    return sess.get(
        f"{fake.url}/preupload?probe_version=20221109&upcdn={line}&zone=cs",
        params={
            "name": "直播录像.mkv",
            "r": "upos",
            "profile": "ugcupos/bup",
            "ssl": "0",
            "version": "2.14.0",
            "build": "2140000",
            "size": size,
        },
        timeout=TIMEOUT,
    )


class Upload:
    """One file going through §3.4–§3.6, as a client sends it."""

    def __init__(self, fake: FakeBilibili, data: bytes, mid: int = SEED_MID) -> None:
        self.fake = fake
        self.data = data
        self.sess = web(fake, mid)
        self.pre = preupload(self.sess, fake, len(data)).json()
        assert self.pre["OK"] == 1
        self.chunk_size = self.pre["chunk_size"]
        self.chunks = -(-len(data) // self.chunk_size)

    def url(self, endpoint: str | None = None) -> str:
        key = self.pre["upos_uri"].removeprefix("upos://")
        return local_url(self.fake.url, endpoint or self.pre["endpoint"], f"/{key}")

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Upos-Auth": self.pre["auth"]}

    def init(self, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", self.auth)
        return requests.post(
            self.url() + "?uploads&output=json", timeout=TIMEOUT, **kwargs
        )

    def chunk_params(self, upload_id: str, index: int) -> dict[str, Any]:
        start = index * self.chunk_size
        size = len(self.data[start : start + self.chunk_size])
        return {
            "partNumber": index + 1,
            "uploadId": upload_id,
            "chunk": index,
            "chunks": self.chunks,
            "size": size,
            "start": start,
            "end": start + size,
            "total": len(self.data),
        }

    def put(
        self,
        upload_id: str,
        index: int,
        endpoint: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        **overrides: Any,
    ) -> requests.Response:
        params = {**self.chunk_params(upload_id, index), **overrides}
        if body is None:
            start = index * self.chunk_size
            body = self.data[start : start + self.chunk_size]
        return requests.put(
            self.url(endpoint),
            params=params,
            data=body,
            headers=self.auth if headers is None else headers,
            timeout=TIMEOUT,
        )

    def complete(
        self,
        upload_id: str,
        parts: list[int] | None = None,
        biz_id: Any = None,
        **kwargs: Any,
    ) -> requests.Response:
        numbers = list(range(1, self.chunks + 1)) if parts is None else parts
        kwargs.setdefault("headers", self.auth)
        return requests.post(
            self.url(),
            params={
                "output": "json",
                "name": "直播录像.mkv",
                "profile": "ugcupos/bup",
                "uploadId": upload_id,
                "biz_id": self.pre["biz_id"] if biz_id is None else biz_id,
            },
            json={"parts": [{"partNumber": n, "eTag": "etag"} for n in numbers]},
            timeout=TIMEOUT,
            **kwargs,
        )


def small_chunks(fake: FakeBilibili) -> None:
    r = requests.post(
        fake.url + "/_fake/upos/config", json={"chunk_size": CHUNK}, timeout=TIMEOUT
    )
    assert r.json() == {"ok": True}


def three_chunks(fake: FakeBilibili) -> Upload:
    small_chunks(fake)
    return Upload(fake, os.urandom(2 * CHUNK + 1000))


# §3.1 Probe


def test_the_probe_lists_lines_that_answer_ok(fake: FakeBilibili) -> None:
    r = requests.get(fake.url + "/preupload", params={"r": "probe"}, timeout=TIMEOUT)
    body = r.json()
    assert body["OK"] == 1 and body["probe"] == {"post": 0.1}
    assert [line["query"] for line in body["lines"]] == [
        f"probe_version=20221109&upcdn={name}&zone=cs"
        for name in ("bda2", "bldsa", "tx", "txa", "alia")
    ]
    assert body["lines"][0] == {
        "os": "upos",
        "query": "probe_version=20221109&upcdn=bda2&zone=cs",
        "probe_url": "//upos-cs-upcdnbda2.bilivideo.com/OK",
    }
    for line in body["lines"]:
        posted = requests.post(
            local_url(fake.url, line["probe_url"]), data=bytes(104857), timeout=TIMEOUT
        )
        assert (posted.status_code, posted.text) == (200, "OK")
    # Any line is served, offered or not; a path that is no UPOS host is not.
    cnbd = local_url(fake.url, "//upos-cs-upcdncnbd.bilivideo.com/OK")
    assert requests.get(cnbd, timeout=TIMEOUT).text == "OK"
    old_form = requests.get(f"{fake.url}/upos-cnbd/OK", timeout=TIMEOUT)
    assert old_form.status_code == 404


def test_a_slow_line_answers_its_probe_late_without_holding_up_others(
    fake: FakeBilibili,
) -> None:
    r = requests.post(
        fake.url + "/_fake/upos/lines",
        json={"bda2": {"probe_delay": 0.5}},
        timeout=TIMEOUT,
    )
    assert r.json() == {"ok": True}
    slow: list[float] = []

    def probe_slow_line() -> None:
        started = time.monotonic()
        requests.get(
            local_url(fake.url, "//upos-cs-upcdnbda2.bilivideo.com/OK"), timeout=TIMEOUT
        )
        slow.append(time.monotonic() - started)

    thread = threading.Thread(target=probe_slow_line)
    thread.start()
    started = time.monotonic()
    tx = local_url(fake.url, "//upos-cs-upcdntx.bilivideo.com/OK")
    assert requests.get(tx, timeout=TIMEOUT).text == "OK"
    assert time.monotonic() - started < 0.3
    thread.join()
    assert slow[0] >= 0.5


# §3.3 Preupload


def test_preupload_needs_the_web_cookies(fake: FakeBilibili) -> None:
    r = preupload(requests.Session(), fake, 100)
    assert r.json()["code"] == -101


def test_preupload_hands_out_an_upload_shaped_like_bilibilis(
    fake: FakeBilibili,
) -> None:
    sess = web(fake)
    body = preupload(sess, fake, 123456789, line="txa").json()
    assert set(body) == {
        "OK",
        "auth",
        "biz_id",
        "chunk_retry",
        "chunk_retry_delay",
        "chunk_size",
        "endpoint",
        "endpoints",
        "expose_params",
        "put_query",
        "threads",
        "timeout",
        "uip",
        "upos_uri",
    }
    assert body["OK"] == 1
    # Shaped like the real ones: scheme-less, a host per line.
    assert body["endpoint"] == "//upos-cs-upcdntxa.bilivideo.com"
    assert body["endpoints"][0] == body["endpoint"] and len(body["endpoints"]) == 3
    assert all(
        re.fullmatch(r"//upos-cs-upcdn[a-z0-9]+\.bilivideo\.com", e)
        for e in body["endpoints"]
    )
    assert len(set(body["endpoints"])) == 3
    assert "cdn=%2F%2Fupos-cs-upcdntxa.bilivideo.com&" in body["auth"]
    assert (body["chunk_size"], body["chunk_retry"], body["chunk_retry_delay"]) == (
        10485760,
        10,
        3,
    )
    assert (body["threads"], body["timeout"], body["expose_params"]) == (3, 1200, None)
    assert body["put_query"] == "os=upos&profile=ugcupos%2Fbup"
    assert re.fullmatch(r"upos://ugcfx2lf/n\d{6}[a-z0-9]{25}\.mkv", body["upos_uri"])
    assert re.search(r"(^|&)sign=[0-9a-f]{32}(&|$)", body["auth"])
    stamp = float(re.search(r"timestamp=([\d.]+)", body["auth"])[1])
    assert abs(stamp - time.time()) < 5
    assert f"uid={SEED_MID}" in body["auth"]
    again = preupload(sess, fake, 1).json()
    assert isinstance(body["biz_id"], int) and again["biz_id"] != body["biz_id"]
    assert again["upos_uri"] != body["upos_uri"]
    # No upcdn: biliup's default line.
    plain = sess.get(
        fake.url + "/preupload", params={"r": "upos", "name": "a.flv", "size": 1}
    ).json()
    assert plain["endpoint"] == "//upos-cs-upcdnbda2.bilivideo.com"
    assert plain["upos_uri"].endswith(".flv")


def test_preupload_throttles_in_either_style(fake: FakeBilibili) -> None:
    sess = web(fake)
    requests.post(
        fake.url + "/_fake/upos/rate_limit",
        json={"times": 1, "style": "406"},
        timeout=TIMEOUT,
    )
    r = preupload(sess, fake, 100)
    assert r.status_code == 406
    assert r.json() == {"OK": 0, "info": "您上传视频过快，请您稍作休息…"}
    assert preupload(sess, fake, 100).json()["OK"] == 1

    fake.upos_rate_limit(times=2, style="601")
    for _ in range(2):
        r = preupload(sess, fake, 100)
        assert r.status_code == 200
        assert r.json() == {"code": 601, "message": "上传过快", "OK": 0}
    assert preupload(sess, fake, 100).json()["OK"] == 1

    bad = requests.post(
        fake.url + "/_fake/upos/rate_limit", json={"style": "429"}, timeout=TIMEOUT
    )
    assert bad.status_code == 400


def test_more_than_20_preuploads_an_hour_are_refused(fake: FakeBilibili) -> None:
    """Rule "preupload_budget" (bilibili-2026.md): about 20 files an hour per account."""
    sess = web(fake)
    for _ in range(20):
        assert preupload(sess, fake, 100).json()["OK"] == 1
    r = preupload(sess, fake, 100)
    assert r.status_code == 406
    assert r.json() == {"OK": 0, "info": "您上传视频过快，请您稍作休息…"}
    # The budget is the account's: another one preuploads.
    assert preupload(web(fake, 20002), fake, 100).json()["OK"] == 1
    # In the 601 style, when the controls set it.
    fake.upos_rate_limit(times=0, style="601")
    assert preupload(sess, fake, 100).json() == {
        "code": 601,
        "message": "上传过快",
        "OK": 0,
    }
    # Refusals do not count: an hour after the first grants, there is room again.
    fake.advance_clock(3601)
    for _ in range(20):
        assert preupload(sess, fake, 100).json()["OK"] == 1
    assert preupload(sess, fake, 100).json()["code"] == 601


def test_with_the_budget_rule_off_preuploads_go_on(fake: FakeBilibili) -> None:
    fake.set_rules(preupload_budget=False)
    sess = web(fake)
    for _ in range(25):
        assert preupload(sess, fake, 100).json()["OK"] == 1
    # Counted all along: switched on again, the account is over its budget.
    fake.set_rules(preupload_budget=True)
    assert preupload(sess, fake, 100).status_code == 406


# §3.4–§3.7 Init, chunks, complete


def test_it_takes_a_file_in_chunks_out_of_order_and_over_two_lines(
    fake: FakeBilibili,
) -> None:
    up = three_chunks(fake)
    assert (up.chunk_size, up.chunks) == (CHUNK, 3)
    r = up.init()
    init = r.json()
    key = up.pre["upos_uri"].removeprefix("upos://ugcfx2lf")
    assert set(init) == {"OK", "bucket", "key", "upload_id"}
    assert (init["OK"], init["bucket"], init["key"]) == (1, "ugcfx2lf", key)
    upload_id = init["upload_id"]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", upload_id
    )

    for index, endpoint in ((2, None), (0, up.pre["endpoints"][1]), (1, None)):
        r = up.put(upload_id, index, endpoint)
        assert (r.status_code, r.text) == (200, "MULTIPART_PUT_SUCCESS")
        assert r.headers["Content-Type"].startswith("text/plain")
    # A re-sent chunk is counted, and harmless.
    assert up.put(upload_id, 1).status_code == 200

    r = up.complete(upload_id, parts=[2, 3, 1])
    assert r.json() == {
        "OK": 1,
        "location": f"ugcfx2lf{key}",
        "bucket": "ugcfx2lf",
        "key": key,
    }
    filename = key.removeprefix("/").removesuffix(".mkv")
    files = requests.get(fake.url + "/_fake/upos/files", timeout=TIMEOUT).json()
    assert files == [
        {
            "filename": filename,
            "name": "直播录像.mkv",
            "mid": SEED_MID,
            "size": len(up.data),
            "md5": hashlib.md5(up.data).hexdigest(),
            "biz_id": up.pre["biz_id"],
        }
    ]
    uploads = requests.get(fake.url + "/_fake/upos/uploads", timeout=TIMEOUT).json()
    assert uploads == [
        {
            "upload_id": upload_id,
            "upos_uri": up.pre["upos_uri"],
            "filename": filename,
            "name": "直播录像.mkv",
            "profile": "ugcupos/bup",
            "size": len(up.data),
            "chunk_size": CHUNK,
            "chunks": 3,
            "puts": 4,
            "puts_by_part": {"1": 1, "2": 2, "3": 1},
            # Chunk 1 went over the second endpoint's line.
            "puts_by_line": {
                "bda2": 3,
                up.pre["endpoints"][1].removeprefix("//upos-cs-upcdn").split(".")[0]: 1,
            },
            "received_parts": [1, 2, 3],
            "complete": True,
        }
    ]
    assert fake.upos_uploads()[0]["puts_by_part"] == {1: 1, 2: 2, 3: 1}
    # A complete whose answer was lost can be sent again.
    assert up.complete(upload_id).json()["OK"] == 1


def test_each_init_makes_a_new_upload_id(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    first, second = up.init().json(), up.init().json()
    assert first["upload_id"] != second["upload_id"]
    assert len(fake.upos_uploads()) == 2


@pytest.mark.parametrize(
    ("index", "overrides", "body", "reason"),
    [
        (0, {"partNumber": 2}, None, "partNumber"),
        (1, {"start": 0}, None, "start"),
        (0, {"end": CHUNK - 1}, None, "end-start"),
        (0, {}, b"x" * (CHUNK - 1), "body"),
        (0, {"total": 3 * CHUNK}, None, "total"),
        (0, {"chunks": 4}, None, "chunks"),
        (0, {"size": 100, "end": 100}, b"x" * 100, "should have"),
        (2, {"size": 2000, "end": 2 * CHUNK + 2000}, b"x" * 2000, "should have"),
        (0, {"chunk": "one"}, None, "chunk"),
    ],
)
def test_it_refuses_a_chunk_that_disagrees_with_the_upload(
    fake: FakeBilibili,
    index: int,
    overrides: dict[str, Any],
    body: bytes | None,
    reason: str,
) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    r = up.put(upload_id, index, body=body, **overrides)
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("text/plain")
    assert reason in r.text
    assert fake.upos_uploads()[0]["received_parts"] == []


def test_it_answers_404_for_an_unknown_upload_id_or_object(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    up.init()
    assert up.put("no-such-id", 0).status_code == 404
    r = requests.post(
        local_url(
            fake.url,
            up.pre["endpoint"],
            "/ugcfx2lf/n000000nothing.mkv?uploads&output=json",
        ),
        headers=up.auth,
        timeout=TIMEOUT,
    )
    assert r.status_code == 404


def test_complete_checks_the_parts(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    up.put(upload_id, 0)
    up.put(upload_id, 2)

    for r, reason in [
        (up.complete(upload_id), "never received"),
        (up.complete(upload_id, parts=[1, 2]), "1..3"),
        (up.complete(upload_id, parts=[1, 2, 2, 3]), "1..3"),
        (up.complete(upload_id, biz_id=1), "biz_id"),
        (up.complete("no-such-id"), "no such upload"),
        (up.complete(upload_id, data=b"[]"), "parts"),
    ]:
        assert r.status_code == 200
        body = r.json()
        assert body["OK"] == 0 and reason in body["info"], body
    assert fake.upos_files() == []

    up.put(upload_id, 1)
    assert up.complete(upload_id).json()["OK"] == 1
    assert fake.upos_files()[0]["md5"] == hashlib.md5(up.data).hexdigest()


def test_upos_calls_need_the_uploads_auth(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    other = Upload(fake, b"other")
    assert up.init(headers={}).status_code == 403
    assert up.init(headers=other.auth).status_code == 403
    upload_id = up.init().json()["upload_id"]
    assert up.put(upload_id, 0, headers={}).status_code == 403
    assert up.complete(upload_id, headers=other.auth).status_code == 403
    assert fake.upos_uploads()[0]["puts"] == 0


def test_an_auth_older_than_five_days_is_refused(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    assert up.put(upload_id, 0).status_code == 200
    fake.advance_clock(6 * 86400)
    for r in (up.put(upload_id, 1), up.init(), up.complete(upload_id)):
        assert r.status_code == 403
        assert r.headers["X-Upos-Auth"] == "AUTH_TS_GT_5DAY"
    # A new preupload hands out a fresh auth.
    assert Upload(fake, b"again").init().json()["OK"] == 1


# Chunk faults


def set_faults(fake: FakeBilibili, **fields: Any) -> dict[str, Any]:
    r = requests.post(fake.url + "/_fake/upos/faults", json=fields, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def test_fail_next_and_fail_parts_spoil_chunks(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    assert set_faults(fake, fail_next=2)["fail_next"] == 2
    for _ in range(2):
        r = up.put(upload_id, 0)
        assert r.status_code == 503 and r.headers["Content-Type"].startswith(
            "text/html"
        )
    assert up.put(upload_id, 0).status_code == 200

    set_faults(fake, fail_parts=[2, 3], status=502)
    assert up.put(upload_id, 1).status_code == 502
    assert up.put(upload_id, 1).status_code == 200
    assert up.put(upload_id, 2).status_code == 502
    assert up.put(upload_id, 2).status_code == 200
    upload = fake.upos_uploads()[0]
    assert upload["puts_by_part"] == {1: 3, 2: 2, 3: 2}
    assert upload["received_parts"] == [1, 2, 3]
    # Init and complete are not chunk PUTs.
    set_faults(fake, fail_next=5)
    assert up.complete(upload_id).json()["OK"] == 1


def test_fail_rate_spoils_chunks_by_chance(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    set_faults(fake, fail_rate=1, status=500)
    assert {up.put(upload_id, 0).status_code for _ in range(3)} == {500}

    set_faults(fake, fail_rate=0.5, seed=7)
    first = [up.put(upload_id, 0).status_code for _ in range(12)]
    set_faults(fake, seed=7)
    assert [up.put(upload_id, 0).status_code for _ in range(12)] == first
    assert set(first) == {200, 500}

    r = requests.delete(fake.url + "/_fake/upos/faults", timeout=TIMEOUT)
    assert r.json() == {"ok": True}
    assert {up.put(upload_id, 0).status_code for _ in range(3)} == {200}


def test_a_slow_chunk_holds_up_nothing_else(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    set_faults(fake, delay=0.5)
    results: list[tuple[int, float]] = []

    def slow_put() -> None:
        started = time.monotonic()
        status = up.put(upload_id, 0).status_code
        results.append((status, time.monotonic() - started))

    thread = threading.Thread(target=slow_put)
    thread.start()
    wait_for(lambda: fake.upos_uploads()[0]["puts"] == 1, 2, "the PUT reaches the fake")
    started = time.monotonic()
    assert requests.get(fake.url + "/x/web-interface/nav", timeout=TIMEOUT).ok
    assert up.init().json()["OK"] == 1
    assert time.monotonic() - started < 0.3
    thread.join()
    assert results[0][0] == 200 and results[0][1] >= 0.5


def test_cut_next_resets_the_connection_mid_body(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    set_faults(fake, cut_next=1)
    with pytest.raises(requests.ConnectionError):
        up.put(upload_id, 0)
    assert up.put(upload_id, 0).status_code == 200
    upload = fake.upos_uploads()[0]
    assert upload["puts_by_part"] == {1: 2} and upload["received_parts"] == [1]


def test_fault_controls_check_their_arguments(fake: FakeBilibili) -> None:
    for fields in ({"fail_rate": 2}, {"status": 200}, {"fail_next": -1}, {"x": 1}):
        r = requests.post(fake.url + "/_fake/upos/faults", json=fields, timeout=TIMEOUT)
        assert r.status_code == 400, fields
    bad_line = requests.post(
        fake.url + "/_fake/upos/lines", json={"BDA2": {"probe_delay": 1}}, timeout=5
    )
    assert bad_line.status_code == 400
    bad_size = requests.post(
        fake.url + "/_fake/upos/config", json={"chunk_size": 0}, timeout=TIMEOUT
    )
    assert bad_size.status_code == 400


def test_a_generic_fault_can_target_one_method_on_one_line(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    bda2 = "/upos-cs-upcdnbda2.bilivideo.com/*"
    fake.inject(bda2, "http_status", status=502, method="PUT", times=None)
    upload_id = up.init().json()["upload_id"]
    assert up.put(upload_id, 0).status_code == 502
    tx = "//upos-cs-upcdntx.bilivideo.com"
    assert up.put(upload_id, 0, tx).status_code == 200
    r = requests.post(
        fake.url + "/_fake/faults",
        json={
            "path": "/upos-cs-upcdntx.bilivideo.com/*",
            "kind": "reset",
            "method": "put",
        },
        timeout=TIMEOUT,
    )
    assert r.json() == {"ok": True}
    with pytest.raises(requests.ConnectionError):
        up.put(upload_id, 1, tx)
    assert up.put(upload_id, 1, tx).status_code == 200


def test_reset_forgets_uploads_and_deletes_their_bytes(fake: FakeBilibili) -> None:
    up = three_chunks(fake)
    upload_id = up.init().json()["upload_id"]
    up.put(upload_id, 0)
    path = fake.state.upos.uploads[upload_id].path
    assert path.stat().st_size == CHUNK
    fake.reset()
    assert not path.exists() and not path.parent.exists()
    assert fake.upos_uploads() == [] and fake.upos_files() == []
    assert up.put(upload_id, 1).status_code == 404
