from __future__ import annotations

import json

import pytest

from tests.conftest import JsonClient
from tests.factories import make_account, make_streamer, make_template
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db


def test_it_reports_rooms_slots_and_config(api: JsonClient) -> None:
    template = make_template()
    make_streamer(
        url="https://live.bilibili.com/1", state="recording", upload_template=template
    )
    idle = make_streamer(url="https://live.bilibili.com/2")
    UploadJob.objects.create(streamer=idle, account=make_account(), status="running")
    body = api.get("/api/v1/status").json()
    assert body["version"]
    assert body["download_semaphore"] == 4
    assert body["update_semaphore"] == 2
    assert body["config"]["download_limit"] == 5
    first, second = body["rooms"]
    assert (first["downloader_status"], first["uploader_status"]) == ("Working", "Idle")
    assert first["live_streamer"]["url"] == "https://live.bilibili.com/1"
    assert first["upload_streamer"]["template_name"] == "默认模板"
    assert (
        second["downloader_status"],
        second["uploader_status"],
        second["upload_streamer"],
    ) == ("Idle", "Working", None)


def test_it_never_shows_secrets(api: JsonClient) -> None:
    account = make_account(
        credential={
            "cookie_info": {"cookies": [{"name": "SESSDATA", "value": "s3cret"}]},
            "token_info": {"access_token": "t0ken"},
        }
    )
    make_streamer(upload_template=make_template(account=account))
    text = json.dumps(api.get("/api/v1/status").json()) + json.dumps(
        api.get("/api/v1/configuration").json()
    )
    assert "s3cret" not in text
    assert "t0ken" not in text


def test_it_answers_in_a_fixed_number_of_queries(
    api: JsonClient, django_assert_max_num_queries: object
) -> None:
    template = make_template(account=make_account())
    for i in range(50):
        make_streamer(url=f"https://live.bilibili.com/{i}", upload_template=template)
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        assert len(api.get("/api/v1/status").json()["rooms"]) == 50


def test_it_needs_a_session(anon: JsonClient) -> None:
    assert anon.get("/api/v1/status").status_code == 401
