"""The fake's archive review over real HTTP: a new archive is under review (-30) until the review
delay passes on the fake's clock, or a control makes it public or rejects it (-2, with a reason);
view, list (and its status filter) and the space lists agree."""

from __future__ import annotations

from typing import Any

import requests

from tests.fakebili.server import SEED_MID, FakeBilibili
from tests.fakebili.test_submit import TIMEOUT, Account, studio


def submit(alice: Account) -> dict[str, Any]:
    filename, _ = alice.upload()
    r = alice.app("/x/vu/app/add", studio(filename))
    assert r["code"] == 0
    return r["data"]


def listed(alice: Account, status: str) -> list[dict[str, Any]]:
    r = requests.get(
        alice.fake.url + "/x/web/archives",
        params={"status": status, "pn": 1},
        cookies=alice.cookies,
        timeout=TIMEOUT,
    ).json()
    assert r["code"] == 0
    return [item["Archive"] for item in r["data"]["arc_audits"]]


def review(alice: Account) -> tuple[int, str, str]:
    archive = alice.view(aid=alice.fake.archives()[-1]["aid"])["data"]["archive"]
    return archive["state"], archive["state_desc"], archive["reject_reason"]


def test_an_archive_is_under_review_until_the_delay_passes(fake: FakeBilibili) -> None:
    fake.set_review(60)
    alice = Account(fake)
    archive = submit(alice)
    assert review(alice) == (-30, "审核中", "")
    [arc] = listed(alice, "is_pubing")
    assert (arc["aid"], arc["state"], arc["state_desc"]) == (
        archive["aid"],
        -30,
        "审核中",
    )
    assert listed(alice, "pubed") == [] and listed(alice, "not_pubed") == []
    assert fake.space_videos(SEED_MID) == []

    fake.advance_clock(60)

    assert review(alice) == (0, "开放浏览", "")
    assert [a["aid"] for a in listed(alice, "pubed")] == [archive["aid"]]
    assert listed(alice, "is_pubing") == []
    assert [v["bvid"] for v in fake.space_videos(SEED_MID)] == [archive["bvid"]]


def test_an_archive_is_open_at_once_by_default(fake: FakeBilibili) -> None:
    alice = Account(fake)
    submit(alice)
    assert review(alice) == (0, "开放浏览", "")
    assert fake.archives()[0]["state"] == 0


def test_a_control_rejects_an_archive_with_a_reason(fake: FakeBilibili) -> None:
    fake.set_review(3600)
    alice = Account(fake)
    archive = submit(alice)
    url = f"{fake.url}/_fake/archives/{archive['aid']}/review"

    r = requests.post(
        url, json={"verdict": "rejected", "reject_reason": "封面违规"}, timeout=TIMEOUT
    )

    assert r.status_code == 200 and r.json()["state"] == -2
    assert review(alice) == (-2, "已退回", "封面违规")
    [arc] = listed(alice, "not_pubed")
    assert (arc["state"], arc["reject_reason"]) == (-2, "封面违规")
    fake.advance_clock(7200)
    assert review(alice)[0] == -2 and fake.space_videos(SEED_MID) == []

    fake.review_archive(archive["aid"], "public")
    assert review(alice) == (0, "开放浏览", "")
    assert [v["aid"] for v in fake.space_videos(SEED_MID)] == [archive["aid"]]


def test_the_review_controls_refuse_bad_calls(fake: FakeBilibili) -> None:
    alice = Account(fake)
    archive = submit(alice)
    base = f"{fake.url}/_fake/archives"
    for path, body, status in (
        (f"/{archive['aid']}/review", {"verdict": "maybe"}, 400),
        (f"/{archive['aid']}/review", {"verdict": "rejected"}, 400),
        ("/1/review", {"verdict": "public"}, 404),
        ("/review", {"seconds": -1}, 400),
    ):
        assert (
            requests.post(base + path, json=body, timeout=TIMEOUT).status_code == status
        )
    assert requests.post(
        base + "/review", json={"seconds": 5}, timeout=TIMEOUT
    ).json() == {"ok": True}
    assert fake.snapshot()["space"]["review_seconds"] == 5
