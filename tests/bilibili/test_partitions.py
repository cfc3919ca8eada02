"""The 2025 partition tree: the shipped data, the loader, and its refresh from the fake's
`human/type2/list` with a logged-in account (bilibili-protocol.md §3.10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from biliup_site import bilibili
from biliup_site.bilibili import partitions
from tests.factories import make_account
from tests.fakebili.member import HUMAN_TYPES


def test_the_shipped_tree_has_two_levels_and_unique_ids() -> None:
    rows = json.loads(partitions.SHIPPED.read_text(encoding="utf-8"))
    ids = [m["id"] for m in rows] + [s["id"] for m in rows for s in m["children"]]
    assert len(ids) == len(set(ids))
    assert all(m["children"] and isinstance(m["name"], str) for m in rows)
    assert {"id": 1010, "name": "知识"}.items() <= rows[9].items()


def test_a_sub_partition_is_sent_as_its_main_partition() -> None:
    found = partitions.find(2094)
    assert found == partitions.Partition(2094, "知识 › 科学科普", 1010)
    assert partitions.human_type2(2094) == 1010
    assert partitions.human_type2(1008) == 1008
    assert partitions.find(9999) is None


def test_the_choices_are_one_group_per_main_partition() -> None:
    groups = partitions.choices()
    name, options = groups[7]
    assert name == "游戏"
    assert options[0] == (1008, "游戏")
    assert (2071, "游戏 › 射击游戏") in options


def test_fetch_main_reads_the_type2_list(fakebili: Any) -> None:
    assert partitions.fetch_main(fakebili.login()) == HUMAN_TYPES
    with pytest.raises(bilibili.BilibiliError) as raised:
        partitions.fetch_main({})
    assert raised.value.expired_credential


def test_a_refresh_takes_bilibilis_main_partitions_and_keeps_known_subs(
    fakebili: Any, tmp_path: Path, settings: Any
) -> None:
    settings.DATA_DIR = tmp_path
    stale = [
        {"id": 1008, "name": "旧游戏", "children": [{"id": 2071, "name": "射击游戏"}]},
        {"id": 1999, "name": "已撤销", "children": []},
    ]
    partitions.write(stale, partitions.local_path())
    assert partitions.find(1999) is not None

    rows = partitions.refresh(fakebili.login())

    assert [(m["id"], m["name"]) for m in rows] == HUMAN_TYPES
    assert partitions.find(1999) is None
    assert partitions.find(1008) == partitions.Partition(1008, "游戏", 1008)
    assert partitions.find(2071) == partitions.Partition(2071, "游戏 › 射击游戏", 1008)
    # Sub partitions the list does not carry are not invented.
    assert partitions.find(2094) is None
    assert json.loads(partitions.local_path().read_text(encoding="utf-8")) == rows


@pytest.mark.django_db
def test_the_command_refreshes_with_the_first_active_account(
    fakebili: Any, tmp_path: Path, settings: Any
) -> None:
    settings.DATA_DIR = tmp_path
    with (
        translation.override("en"),
        pytest.raises(CommandError, match="No active Bilibili account"),
    ):
        call_command("refresh_partitions")
    account = make_account("main.json")
    account.set_credential(fakebili.login())
    account.status = account.Status.ACTIVE
    account.save()
    out = tmp_path / "tree.json"

    call_command("refresh_partitions", output=out)

    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [m["id"] for m in rows] == [i for i, _ in HUMAN_TYPES]
    assert not partitions.local_path().exists()
