"""The submit client alone, with no job or runner: the Studio body's dtime window, app and web
submit and edit, recommended tags, over real HTTP to the strict fake Bilibili; and that nothing
in the product names the closed client routes (bilibili-2026.md "Upload and submit")."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from biliup_site import bilibili
from biliup_site.bilibili import chunks, submit, upos

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (
    "accounts",
    "biliup_site",
    "creators",
    "recorder",
    "uploads",
    "templates",
    "bin",
    "bench",
)
CLOSED = re.compile(r"vu/client/(add|edit)")


def uploaded(credential: dict[str, Any]) -> submit.Part:
    """A one-chunk file, uploaded over UPOS: its part."""
    with bilibili.session(credential) as sess:
        session = upos.preupload(sess, upos.line("bda2"), "p1.flv", 100)
    upload_id = upos.init(session)
    sender = upos.chunk_sender(session, upload_id, Path(__file__), 100, 1)
    sender(chunks.Part(1, 0, 100), session.endpoint)
    upos.complete(session, "p1.flv", upload_id, 1)
    return submit.Part(upos.filename(session.upos_uri), "P1", session.biz_id)


PARAMS = {"tid": 171, "tags": ["录播"], "copyright": 1}


# dtime: 2 h to 15 days ahead, refused rather than dropped


@pytest.mark.parametrize(
    ("ahead", "says"),
    [
        (-600, "0.2 h ago"),
        (3600, "only 1.0 h ahead"),
        (16 * 86400, "16.0 days ahead"),
    ],
)
def test_a_dtime_outside_the_window_is_refused_not_dropped(
    ahead: int, says: str
) -> None:
    params = {**PARAMS, "dtime": int(time.time()) + ahead}
    with pytest.raises(submit.ScheduleRefused) as raised:
        submit.studio(params, "标题", [submit.Part("n1", "P1")])
    assert says in str(raised.value)
    assert "2 hours to 15 days" in str(raised.value)


def test_a_dtime_inside_the_window_is_sent_and_an_edit_keeps_it() -> None:
    dtime = int(time.time()) + 3 * 3600
    body = submit.studio({**PARAMS, "dtime": dtime}, "标题", [submit.Part("n1", "P1")])
    assert body["dtime"] == dtime
    past = int(time.time()) + 60
    edit = submit.studio(
        {**PARAMS, "dtime": past}, "标题", [submit.Part("n1", "P1")], edit=True
    )
    assert edit["dtime"] == past


def test_the_fake_refuses_the_dtime_the_old_client_let_through(fakebili: Any) -> None:
    """The old client dropped a dtime under 4 h and sent one 2–4 h ahead; the window it now
    checks is the one Bilibili refuses with 21006 (the client's check removed: this refusal)."""
    credential = fakebili.login()
    body = submit.studio(PARAMS, "标题", [uploaded(credential)])
    body["dtime"] = int(time.time()) + 3600
    with pytest.raises(bilibili.BilibiliError) as raised:
        submit.add(credential, "app", body)
    assert raised.value.code == 21006
    assert raised.value.code not in submit.TOO_FAST_CODES


# Submit: app and web routes, and 21566 within 30 s


@pytest.mark.parametrize("api", ["app", "web"])
def test_an_archive_is_made_and_edited_without_the_client_routes(
    fakebili: Any, api: str
) -> None:
    credential = fakebili.login()
    first = uploaded(credential)
    archive = submit.add(
        credential, api, submit.studio(PARAMS, "标题", [first], with_cid=api == "web")
    )
    second = uploaded(credential)
    body = submit.studio(
        PARAMS, "标题", [first, second], with_cid=api == "web", edit=True
    )
    assert submit.edit(credential, api, {**body, "aid": archive.aid}) == archive

    [made] = fakebili.archives()
    assert (made["aid"], made["bvid"]) == (archive.aid, archive.bvid)
    assert len(made["videos"]) == 2
    paths = [c["path"] for c in fakebili.member_calls()]
    assert not [p for p in paths if CLOSED.search(p)]


def test_a_second_submit_within_30_s_is_too_frequent(fakebili: Any) -> None:
    credential = fakebili.login()
    submit.add(credential, "app", submit.studio(PARAMS, "一", [uploaded(credential)]))
    body = submit.studio(PARAMS, "二", [uploaded(credential)])
    with pytest.raises(bilibili.BilibiliError) as raised:
        submit.add(credential, "app", body)
    assert raised.value.code == 21566
    assert raised.value.code in submit.TOO_FAST_CODES
    fakebili.advance_clock(30)
    assert submit.add(credential, "app", body).bvid


# §3.10 Recommended tags


def test_recommended_tags_come_back_best_first(fakebili: Any) -> None:
    tags = submit.recommend_tags(fakebili.login(), 171, "【直播回放】今晚的比赛")
    assert tags == ["电子竞技", "游戏", "直播回放", "今晚的比赛"]
    with pytest.raises(bilibili.BilibiliError) as raised:
        submit.recommend_tags({}, 171, "x")
    assert raised.value.expired_credential


# client_add_closed: never used


def test_the_product_never_names_the_closed_client_routes() -> None:
    """/x/vu/client/add and client/edit answer 21590 since 2025-07-15."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for top in PRODUCT
        for path in (ROOT / top).rglob("*")
        if path.is_file() and path.suffix in (".py", ".html", ".js", "")
        for n, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        )
        if CLOSED.search(line)
    ]
    assert found == []
    # The pattern is one that finds the routes where they are named: in the fake.
    fake = (ROOT / "tests/fakebili/submit.py").read_text(encoding="utf-8")
    assert CLOSED.search(fake)
