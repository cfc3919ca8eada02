"""The fake's 2025 submit fields over real HTTP (submit_form.py): the partition list, human_type2
checked against it, a legacy tid alone filed under 生活-日常, and the creation statement's
shape."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.fakebili.member import HUMAN_TYPES
from tests.fakebili.server import FakeBilibili
from tests.fakebili.test_submit import TIMEOUT, Account, studio


@pytest.fixture
def alice(fake: FakeBilibili) -> Account:
    return Account(fake)


def test_the_type2_list_gives_the_main_partitions(
    fake: FakeBilibili, alice: Account
) -> None:
    url = fake.url + "/x/vupre/web/archive/human/type2/list"
    answer = requests.get(
        url, params={"t": 1}, cookies=alice.cookies, timeout=TIMEOUT
    ).json()
    assert answer["code"] == 0
    assert answer["data"]["type_list"][:2] == [
        {"id": 1001, "name": "影视"},
        {"id": 1002, "name": "娱乐"},
    ]
    assert len(answer["data"]["type_list"]) == len(HUMAN_TYPES)
    assert requests.get(url, timeout=TIMEOUT).json()["code"] == -101


def test_an_archive_with_human_type2_is_filed_there(
    fake: FakeBilibili, alice: Account
) -> None:
    filename, _ = alice.upload()
    answer = alice.app("/x/vu/app/add", studio(filename, human_type2=1008))
    assert answer["code"] == 0, answer
    [archive] = fake.archives()
    assert archive["partition"] == {"tid": 171, "human_type2": 1008, "name": "游戏"}


def test_a_legacy_tid_alone_lands_in_daily_life(
    fake: FakeBilibili, alice: Account
) -> None:
    """171 is 游戏-电子竞技 in the legacy tree; without human_type2 the site ignores it."""
    filename, _ = alice.upload()
    assert alice.app("/x/vu/app/add", studio(filename))["code"] == 0
    [archive] = fake.archives()
    assert archive["partition"] == {"tid": 21, "human_type2": None, "name": "生活-日常"}


@pytest.mark.parametrize("human_type2", [9999, 2071, "1008", True])
def test_an_unknown_human_type2_is_refused(
    fake: FakeBilibili, alice: Account, human_type2: Any
) -> None:
    filename, _ = alice.upload()
    answer = alice.app("/x/vu/app/add", studio(filename, human_type2=human_type2))
    assert answer["code"] == 21001
    assert "分区" in answer["message"]
    assert fake.archives() == []


@pytest.mark.parametrize("statement_id", [-1, 1, 2, 3, 4])
def test_a_creation_statement_is_taken(
    fake: FakeBilibili, alice: Account, statement_id: int
) -> None:
    filename, _ = alice.upload()
    body = studio(filename, creation_statement={"id": statement_id})
    assert alice.web("/x/vu/web/add/v3", body)["code"] == 0
    assert fake.archives()[0]["body"]["creation_statement"] == {"id": statement_id}


@pytest.mark.parametrize(
    "statement", [1, "ai", {"id": 5}, {"id": "1"}, {"id": 1, "x": 0}, []]
)
def test_a_misshapen_creation_statement_is_refused(
    fake: FakeBilibili, alice: Account, statement: Any
) -> None:
    filename, _ = alice.upload()
    answer = alice.app("/x/vu/app/add", studio(filename, creation_statement=statement))
    assert answer["code"] == 21001
    assert "创作声明" in answer["message"]
