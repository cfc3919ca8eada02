"""The 2025 fields of the Studio body (submit.studio): human_type2 from the template's tid_v2, the
creation statement's wire shape, charging off unless asked; and a submit through the strict fake
that files the archive in the chosen partition (bilibili-2026.md "Upload and submit")."""

from __future__ import annotations

from typing import Any

import pytest

from biliup_site.bilibili import submit
from tests.bilibili.test_submit import uploaded

PARAMS = {"tid": 171, "tags": ["录播"], "copyright": 1}
PARTS = [submit.Part("n1", "P1")]


def test_tid_v2_goes_as_human_type2_beside_the_legacy_tid() -> None:
    body = submit.studio({**PARAMS, "tid_v2": 1008}, "标题", PARTS)
    assert (body["tid"], body["human_type2"]) == (171, 1008)
    # A sub partition goes as its main partition, the level Bilibili takes today.
    body = submit.studio({**PARAMS, "tid_v2": 2071}, "标题", PARTS)
    assert body["human_type2"] == 1008
    assert "human_type2" not in submit.studio({**PARAMS, "tid_v2": None}, "标题", PARTS)


@pytest.mark.parametrize(
    ("key", "wire"),
    [("none", -1), ("ai", 1), ("fiction", 2), ("marketing", 3), ("opinion", 4)],
)
def test_the_creation_statement_is_sent_as_an_id(key: str, wire: int) -> None:
    body = submit.studio({**PARAMS, "creation_statement": key}, "标题", PARTS)
    assert body["creation_statement"] == {"id": wire}


def test_no_statement_is_sent_when_none_is_declared_or_for_a_repost() -> None:
    assert "creation_statement" not in submit.studio(PARAMS, "标题", PARTS)
    repost = {**PARAMS, "copyright": 2, "source": "https://live.bilibili.com/1"}
    body = submit.studio({**repost, "creation_statement": "ai"}, "标题", PARTS)
    assert "creation_statement" not in body


def test_charging_is_off_unless_the_template_turns_it_on() -> None:
    body = submit.studio(PARAMS, "标题", PARTS)
    assert body["open_elec"] == 0
    assert "charging_pay" not in body
    body = submit.studio({**PARAMS, "open_elec": True}, "标题", PARTS)
    assert (body["open_elec"], body["charging_pay"]) == (1, 1)


@pytest.mark.parametrize("api", ["app", "web"])
def test_a_submit_lands_in_the_templates_partition(fakebili: Any, api: str) -> None:
    credential = fakebili.login()
    params = {**PARAMS, "tid_v2": 2094, "creation_statement": "opinion"}
    body = submit.studio(params, "标题", [uploaded(credential)], with_cid=api == "web")
    submit.add(credential, api, body)

    [archive] = fakebili.archives()
    assert archive["body"]["human_type2"] == 1010
    assert archive["body"]["creation_statement"] == {"id": 4}
    assert archive["partition"]["name"] == "知识"


def test_without_tid_v2_the_archive_lands_in_daily_life(fakebili: Any) -> None:
    """Why tid_v2 matters: the legacy tid 171 (电子竞技) alone is not where the archive goes."""
    credential = fakebili.login()
    submit.add(credential, "app", submit.studio(PARAMS, "标题", [uploaded(credential)]))
    assert fakebili.archives()[0]["partition"]["name"] == "生活-日常"
