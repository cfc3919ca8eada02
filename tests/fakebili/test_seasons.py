"""The fake's collections over real HTTP: the season list with its sections, and adding an
archive to a section (its own archive, a cid of it, once)."""

from __future__ import annotations

from typing import Any

import requests

from tests.fakebili.server import SEED_MID, FakeBilibili
from tests.fakebili.test_submit import OTHER_MID, TIMEOUT, Account, studio

SEASONS = "/x2/creative/web/seasons"
ADD = "/x2/creative/web/season/section/episodes/add"


def submit(account: Account) -> tuple[int, int]:
    """(aid, cid) of a new archive of `account`."""
    filename, cid = account.upload()
    r = account.app("/x/vu/app/add", studio(filename))
    assert r["code"] == 0
    return r["data"]["aid"], cid


def seasons(account: Account, **params: Any) -> dict[str, Any]:
    return requests.get(
        account.fake.url + SEASONS,
        params={"pn": 1, "ps": 30, **params},
        cookies=account.cookies,
        timeout=TIMEOUT,
    ).json()


def add(account: Account, body: Any, csrf: str | None = None) -> dict[str, Any]:
    return requests.post(
        account.fake.url + ADD,
        params={"csrf": account.csrf if csrf is None else csrf},
        json=body,
        cookies=account.cookies,
        timeout=TIMEOUT,
    ).json()


def episode(aid: int, cid: int, title: str = "第1集") -> dict[str, Any]:
    return {"title": title, "aid": aid, "cid": cid, "charging_pay": 0}


def test_the_list_gives_each_season_with_its_sections(fake: FakeBilibili) -> None:
    alice = Account(fake)
    old = fake.add_season(SEED_MID, "旧合集")
    new = fake.add_season(SEED_MID, "直播回放", sections=["上半场", "下半场"])
    fake.add_account(OTHER_MID)
    fake.add_season(OTHER_MID, "别人的")

    r = seasons(alice)

    assert r["code"] == 0 and r["data"]["total"] == 2
    first, second = r["data"]["seasons"]
    assert first["season"]["id"] == new["id"] and second["season"]["id"] == old["id"]
    assert (first["season"]["title"], first["season"]["mid"]) == ("直播回放", SEED_MID)
    sections = first["sections"]["sections"]
    assert [(s["id"], s["title"], s["seasonId"], s["epCount"]) for s in sections] == [
        (new["sections"][0]["id"], "上半场", new["id"], 0),
        (new["sections"][1]["id"], "下半场", new["id"], 0),
    ]
    assert first["part_episodes"] is None
    assert seasons(alice, ps=1)["data"]["seasons"][0]["season"]["id"] == new["id"]
    assert seasons(alice, ps=0)["code"] == -400
    logged_out = requests.get(fake.url + SEASONS, timeout=TIMEOUT).json()
    assert logged_out["code"] == -101


def test_an_archive_joins_a_section_once(fake: FakeBilibili) -> None:
    alice = Account(fake)
    season = fake.add_season(SEED_MID, "直播回放")
    section_id = season["sections"][0]["id"]
    aid, cid = submit(alice)

    r = add(alice, {"sectionId": section_id, "episodes": [episode(aid, cid)]})

    assert r == {"code": 0, "message": "0", "ttl": 1, "data": None}
    [listed] = seasons(alice)["data"]["seasons"]
    [ep] = listed["part_episodes"]
    assert (ep["aid"], ep["cid"], ep["sectionId"], ep["title"]) == (
        aid,
        cid,
        section_id,
        "第1集",
    )
    assert listed["sections"]["sections"][0]["epCount"] == 1
    again = add(alice, {"sectionId": section_id, "episodes": [episode(aid, cid)]})
    assert again["code"] == 20080
    assert fake.seasons()[0]["sections"][0]["episodes"] == [
        {"id": ep["id"], "aid": aid, "cid": cid, "title": "第1集"}
    ]


def test_adding_refuses_what_is_not_the_accounts(fake: FakeBilibili) -> None:
    alice = Account(fake)
    fake.add_account(OTHER_MID)
    bob = Account(fake, OTHER_MID)
    mine = fake.add_season(SEED_MID)["sections"][0]["id"]
    theirs = fake.add_season(OTHER_MID)["sections"][0]["id"]
    aid, cid = submit(alice)
    bob_aid, bob_cid = submit(bob)

    for body, code in (
        ({"sectionId": 1, "episodes": [episode(aid, cid)]}, -404),
        ({"sectionId": theirs, "episodes": [episode(aid, cid)]}, -403),
        ({"sectionId": mine, "episodes": [episode(bob_aid, bob_cid)]}, -403),
        ({"sectionId": mine, "episodes": [episode(aid + 1, cid)]}, -404),
        ({"sectionId": mine, "episodes": [episode(aid, cid + 1)]}, -400),
        ({"sectionId": mine, "episodes": []}, -400),
        ({"section_id": mine, "episodes": [episode(aid, cid)]}, -400),
        ({"sectionId": mine, "episodes": [{"aid": aid, "cid": cid}]}, -400),
        ([1, 2], -400),
    ):
        assert add(alice, body)["code"] == code, body
    assert add(alice, {"sectionId": mine, "episodes": []}, csrf="x")["code"] == -111
    assert fake.seasons()[0]["sections"][0]["episodes"] == []


def test_the_season_controls_work_over_http(fake: FakeBilibili) -> None:
    made = requests.post(
        fake.url + "/_fake/seasons",
        json={"mid": SEED_MID, "title": "合集A", "sections": ["正片"]},
        timeout=TIMEOUT,
    )
    assert made.status_code == 200 and made.json()["title"] == "合集A"
    listed = requests.get(fake.url + "/_fake/seasons", timeout=TIMEOUT).json()
    assert listed["seasons"] == [made.json()]
    for body, status in (
        ({"mid": 1}, 404),
        ({"mid": SEED_MID, "sections": []}, 400),
        ({"mid": SEED_MID, "title": ""}, 400),
    ):
        r = requests.post(fake.url + "/_fake/seasons", json=body, timeout=TIMEOUT)
        assert r.status_code == status, body
