"""The 2025 submit form on templates through the API (/api/v1/upload_streamers; the page uses
the same form: tests/pages/test_template_partitions.py): required tags, the dtime window, the
partition (tid_v2) and the creation statement; and a job whose archive lands in the template's
partition."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from accounts.models import BilibiliAccount
from tests.conftest import JsonClient
from tests.factories import log_in_by_tv_qr, make_template
from uploads import tasks, upload
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db

TAGS_NEEDED = "tag: Give at least one tag: Bilibili refuses an archive without tags."


def post(api: JsonClient, **fields: Any) -> Any:
    return api.post(
        "/api/v1/upload_streamers", {"template_name": "t", "tag": "录播", **fields}
    )


# Tags: 1 to 10, each at most 20 characters


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("", TAGS_NEEDED),
        (" ,，, ", TAGS_NEEDED),
        (",".join(f"t{i}" for i in range(11)), "tag: Bilibili takes at most 10 tags."),
        (
            "ok," + "字" * 21,
            "tag: Tags are at most 20 characters: '" + "字" * 21 + "'.",
        ),
    ],
)
def test_tags_are_refused_outside_one_to_ten_of_twenty_characters(
    api: JsonClient, tag: str, message: str
) -> None:
    r = post(api, tag=tag)
    assert (r.status_code, r.json()) == (400, {"error": message})
    assert not UploadTemplate.objects.exists()


def test_a_template_with_no_tag_at_all_is_refused(api: JsonClient) -> None:
    r = api.post("/api/v1/upload_streamers", {"template_name": "t"})
    assert r.json() == {"error": TAGS_NEEDED}


def test_ten_tags_of_twenty_characters_are_fine(api: JsonClient) -> None:
    tags = [f"{i}" + "字" * 19 for i in range(10)]
    assert post(api, tag=",".join(tags)).json()["tags"] == tags


# dtime: 2 hours to 15 days ahead, when given


@pytest.mark.parametrize(
    ("ahead", "ok"),
    [(3600, False), (16 * 86400, False), (-60, False), (3 * 3600, True)],
)
def test_dtime_must_be_two_hours_to_fifteen_days_ahead(
    api: JsonClient, ahead: int, ok: bool
) -> None:
    dtime = int(time.time()) + ahead
    r = post(api, dtime=dtime)
    if ok:
        assert r.json()["dtime"] == dtime
        return
    assert r.status_code == 400
    error = r.json()["error"]
    assert error.startswith("dtime: Bilibili takes a scheduled publish time 2 hours to")
    assert "15 days ahead" in error
    assert not UploadTemplate.objects.exists()


@pytest.mark.parametrize("dtime", [253402300800, 2**62])
def test_a_dtime_past_year_9999_is_refused_with_its_number(
    api: JsonClient, dtime: int
) -> None:
    # Found by a random form hunt: the refusal tried to show the date, and year 10000 was a 500.
    r = post(api, dtime=dtime)
    assert r.status_code == 400
    assert str(dtime) in r.json()["error"]


def test_no_dtime_publishes_at_once(api: JsonClient) -> None:
    assert post(api, dtime=None).json()["dtime"] is None


# tid_v2: a partition of the 2025 tree


@pytest.mark.parametrize("tid_v2", [1008, 2071])
def test_a_partition_of_the_tree_is_kept(api: JsonClient, tid_v2: int) -> None:
    saved = post(api, tid_v2=tid_v2).json()
    assert saved["tid_v2"] == saved["human_type2"] == tid_v2
    assert UploadTemplate.objects.get().tid_v2 == tid_v2


def test_biliups_human_type2_name_is_taken(api: JsonClient) -> None:
    assert post(api, human_type2=1010).json()["tid_v2"] == 1010


@pytest.mark.parametrize("tid_v2", [9999, 171, 1028])
def test_a_partition_outside_the_tree_is_refused(api: JsonClient, tid_v2: int) -> None:
    r = post(api, tid_v2=tid_v2)
    assert r.json() == {
        "error": f"tid_v2: {tid_v2} is not a partition of Bilibili's 2025 partition list."
    }


def test_tid_v2_may_be_cleared(api: JsonClient) -> None:
    template = make_template(tid_v2=1008)
    post(api, id=template.pk, template_name=template.template_name, tid_v2=None)
    template.refresh_from_db()
    assert template.tid_v2 is None


# The creation statement


@pytest.mark.parametrize("key", ["", "none", "ai", "fiction", "marketing", "opinion"])
def test_a_modelled_creation_statement_is_kept(api: JsonClient, key: str) -> None:
    assert post(api, creation_statement=key).json()["creation_statement"] == key


@pytest.mark.parametrize("value", ["AI", "charging", "1"])
def test_another_creation_statement_is_refused(api: JsonClient, value: str) -> None:
    r = post(api, creation_statement=value)
    assert r.status_code == 400
    assert r.json()["error"].startswith(
        f"creation_statement: {value} is not a creation statement"
    )


# A job through the fake


def test_a_job_files_its_archive_in_the_templates_partition(
    fakebili: Any, recordings: Path
) -> None:
    account: BilibiliAccount = log_in_by_tv_qr(fakebili)
    template = make_template(
        tags=["录播"], account=account, tid_v2=2094, creation_statement="ai"
    )
    path = recordings / "a.flv"
    path.write_bytes(b"FLV" + bytes(5000))
    job = upload.create_job([path], template, template=template)
    tasks.upload(job.pk)
    job.refresh_from_db()

    assert job.status == "done", job.error
    [archive] = fakebili.archives()
    assert archive["body"]["human_type2"] == 1010
    assert archive["body"]["creation_statement"] == {"id": 1}
    assert archive["partition"]["name"] == "知识"
