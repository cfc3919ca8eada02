"""bilibili/space.py and pace.py against the strict fake: the app list app-signed with the app
User-Agent, arc/search WBI-signed with the dm_* parameters and a buvid3 cookie, the WBI keys read
again after they rotate; a pace per host shared by threads and processes that never trips the
burst rule; a risk-control answer that holds the host back without another call.

Reference: bilibili-2026.md "Space lists"; bilibili-protocol.md §0 (APP sign), §7.1-§7.3."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
import responses

from biliup_site import bilibili
from biliup_site.bilibili import BilibiliError, pace, risk, space
from biliup_site.bilibili.pace import Pace, RiskControlled
from biliup_site.bilibili.sign import APP_KEYS

ROOT = Path(__file__).resolve().parents[2]
UID = 777001
OTHER = 777002
CURSOR = "/x/v2/space/archive/cursor"
SEARCH = "/x/space/wbi/arc/search"


def walk(fetch: Any) -> list[str]:
    """Every bvid of a list, page by page: fetch(cursor) -> SpacePage."""
    bvids: list[str] = []
    page = fetch(None)
    while True:
        bvids += [v.bvid for v in page.videos]
        if not page.has_next:
            return bvids
        page = fetch(page.cursor)


# The app list


def test_the_app_list_is_signed_and_read_whole_from_the_strict_fake(
    fakebili: Any,
) -> None:
    added = fakebili.add_space_videos(UID, count=45)
    sess = space.session()

    bvids = walk(lambda cursor: space.app_page(sess, UID, cursor))

    assert bvids == [v["bvid"] for v in reversed(added)]
    assert fakebili.space_refusals() == []
    # The form the client used to send is what the fake refuses.
    with pytest.raises(BilibiliError) as bare:
        bilibili.call(sess, "GET", bilibili.app_url(CURSOR), params={"vmid": UID})
    assert bare.value.code == -400


@responses.activate
def test_the_app_list_goes_with_the_tv_key_and_the_app_user_agent(
    settings: Any, tmp_path: Path
) -> None:
    settings.BILIBILI_APP_API_URL = "https://app.example.test"
    settings.DATA_DIR = tmp_path
    body = {"code": 0, "message": "0", "data": {"item": [], "has_next": False}}
    responses.get(f"https://app.example.test{CURSOR}", json=body)

    space.app_page(space.session(), UID, "123")

    request = responses.calls[0].request
    assert request.headers["User-Agent"] == bilibili.APP_UA
    assert "Referer" not in request.headers
    params = dict(parse_qsl(urlsplit(request.url).query))
    assert (params["vmid"], params["aid"], params["appkey"]) == (
        str(UID),
        "123",
        APP_KEYS["BiliTV"].appkey,
    )
    unsigned = urlencode(sorted((k, v) for k, v in params.items() if k != "sign"))
    secret = APP_KEYS["BiliTV"].appsec
    assert params["sign"] == hashlib.md5((unsigned + secret).encode()).hexdigest()
    assert abs(int(params["ts"]) - time.time()) < 60


# The web list


def test_the_web_list_sends_the_dm_parameters_and_a_buvid3_cookie(
    fakebili: Any,
) -> None:
    added = fakebili.add_space_videos(UID, count=45)
    sess = space.session()

    bvids = walk(lambda pn: space.wbi_page(sess, UID, int(pn or 1)))

    assert bvids == [v["bvid"] for v in reversed(added)]
    assert sess.cookies.get("buvid3")
    assert fakebili.space_refusals() == []
    # WBI alone, the form the client used to send, is risk-controlled.
    old_form = {"mid": UID, "pn": 1, "ps": 30, "order": "pubdate"}
    with pytest.raises(BilibiliError) as refused:
        risk.wbi_call(sess, bilibili.api_url(SEARCH), old_form)
    assert refused.value.code == -352
    assert refused.value.data["v_voucher"].startswith("voucher_")


def test_the_web_list_recovers_when_the_wbi_keys_rotate(fakebili: Any) -> None:
    fakebili.add_space_videos(UID, count=3)
    sess = space.session()
    assert len(space.wbi_page(sess, UID).videos) == 3

    fakebili.rotate_wbi_keys()
    assert len(space.wbi_page(sess, UID).videos) == 3

    # One refusal of the stale signature, then the keys were read again.
    assert fakebili.space_refusals() == [
        {"endpoint": "wbi", "rule": "space_wbi_dm", "code": -403}
    ]


# The pace


def test_two_threads_share_the_pace_and_never_trip_the_burst_rule(
    fakebili: Any, real_pace: None, settings: Any
) -> None:
    assert fakebili.rules()["space_burst"]["on"]
    for uid in (UID, OTHER):
        fakebili.add_space_videos(uid, count=100)  # 5 pages each
    results: dict[int, list[str]] = {}

    def read(uid: int) -> None:
        sess = space.session()
        results[uid] = walk(lambda cursor: space.app_page(sess, uid, cursor))

    started = time.monotonic()
    threads = [threading.Thread(target=read, args=(uid,)) for uid in (UID, OTHER)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    took = time.monotonic() - started

    assert [len(results[uid]) for uid in (UID, OTHER)] == [100, 100]
    assert fakebili.space_refusals() == []
    # Ten calls to one host, one slot each: nine gaps of at least the pace.
    assert took >= 9 * settings.BILIBILI_PACE_SECONDS


WORKER = """
import json, sys, time
from pathlib import Path
import requests
from biliup_site.bilibili.pace import Pace, paced
from biliup_site.bilibili.sign import APP_KEYS, app_sign

url, uid, directory = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
sess = paced(requests.Session(), Pace(directory))
codes, sent, cursor = [], [], None
while True:
    params = {"vmid": uid, "ps": 20, **({"aid": cursor} if cursor else {})}
    sent.append(time.time())
    body = sess.get(url, params=app_sign(params, APP_KEYS["BiliTV"]), timeout=10).json()
    codes.append(body["code"])
    if body["code"] or not body["data"]["has_next"]:
        break
    cursor = body["data"]["item"][-1]["param"]
# "first" is taken before the first wait for a slot, "last" after the last answer: the slots
# all fall between them.
print(json.dumps({"codes": codes, "first": sent[0], "last": time.time()}))
"""


def test_worker_processes_share_the_pace_through_the_data_dir(
    fakebili: Any, tmp_path: Path, real_pace: None, settings: Any
) -> None:
    for uid in (UID, OTHER):
        fakebili.add_space_videos(uid, count=120)  # 6 pages each
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, fakebili.url + CURSOR, str(uid), tmp_path],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for uid in (UID, OTHER)
    ]
    results = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]

    assert [r["codes"] for r in results] == [[0] * 6, [0] * 6]
    assert fakebili.space_refusals() == []
    # Twelve slots on one host, whichever process took them.
    span = max(r["last"] for r in results) - min(r["first"] for r in results)
    assert span >= 11 * settings.BILIBILI_PACE_SECONDS


def test_a_risk_control_answer_holds_the_host_back_without_another_call(
    fakebili: Any,
) -> None:
    fakebili.add_space_videos(UID, count=3)
    # A client without a pace gets the IP blocked.
    plain = requests.Session()
    signed = bilibili.app_sign({"vmid": UID}, APP_KEYS["BiliTV"])
    for _ in range(40):
        if (
            plain.get(fakebili.url + CURSOR, params=signed, timeout=5).status_code
            == 412
        ):
            break
    else:
        pytest.fail("the burst rule never blocked the IP")
    sess = space.session()

    with pytest.raises(RiskControlled) as first:
        space.app_page(sess, UID)
    calls = len(fakebili.space_requests())
    with pytest.raises(RiskControlled) as held:
        space.wbi_page(sess, UID)
    with pytest.raises(RiskControlled):
        space.card(sess, UID)

    assert (first.value.code, first.value.sent) == (-412, True)
    assert (held.value.code, held.value.sent) == (-412, False)
    assert held.value.until == first.value.until
    assert first.value.until - time.time() == pytest.approx(pace.HOLD_FIRST, abs=5)
    assert len(fakebili.space_requests()) == calls  # nothing more was sent


def test_a_torn_state_file_or_a_clock_that_went_back_does_not_stall(
    tmp_path: Path, real_pace: None, settings: Any
) -> None:
    own = Pace(tmp_path)
    (tmp_path / "app.example.test.json").write_text('{"next": 1')
    started = time.monotonic()
    own.wait("https://app.example.test/x")
    # A slot an hour ahead: the wall clock went back, not a queue of callers.
    (tmp_path / "app.example.test.json").write_text(
        json.dumps({"next": time.time() + 3600})
    )
    own.wait("https://app.example.test/x")
    assert time.monotonic() - started < settings.BILIBILI_PACE_SECONDS


def test_a_publish_time_past_year_9999_reads_as_zero() -> None:
    assert space._when(2**40) == space._when(0)
    assert space._when("junk").year == 1970
