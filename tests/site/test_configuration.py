from __future__ import annotations

from typing import Any

import pytest

from biliup_site.models import Configuration
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db


def test_it_shows_the_documented_fields_and_defaults(
    api: JsonClient, settings: Any
) -> None:
    body = api.get("/api/v1/configuration").json()
    assert {
        k: body[k]
        for k in ("lines", "threads", "submit_api", "download_limit", "upload_limit")
    } == {
        "lines": "AUTO",
        "threads": 3,
        "submit_api": None,
        "download_limit": 5,
        "upload_limit": 3,
    }
    assert body["recordings_dir"] == str(settings.RECORDINGS_DIR)
    assert (
        body["event_loop_interval"],
        body["delay"],
        body["delete_after_upload"],
        body["disk_reserve"],
    ) == (30, 300, "keep", 2048)


def test_put_updates_what_is_sent(api: JsonClient) -> None:
    r = api.put(
        "/api/v1/configuration",
        {
            "lines": "bda2",
            "threads": 5,
            "submit_api": None,
            "download_limit": 10,
            "upload_limit": 3,
        },
    )
    assert r.status_code == 200
    assert r.json()["threads"] == 5
    config = Configuration.load()
    assert (config.lines, config.threads, config.download_limit, config.delay) == (
        "bda2",
        5,
        10,
        300,
    )


def test_it_is_a_singleton(api: JsonClient) -> None:
    api.put("/api/v1/configuration", {"threads": 4})
    api.put("/api/v1/configuration", {"threads": 6})
    assert Configuration.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"threads": "5"}, "threads: Expected a whole number."),
        ({"threads": 0}, "threads: Ensure this value is greater than or equal to 1."),
        ({"threads": 33}, "threads: Ensure this value is less than or equal to 32."),
        ({"download_limit": None}, "download_limit: This field is required."),
        (
            {"submit_api": "client"},
            "submit_api: Select a valid choice. client is not one of the available choices.",
        ),
        (
            {"delete_after_upload": "sometimes"},
            "delete_after_upload: Select a valid choice. sometimes is not one of the available choices.",
        ),
        (
            {"recordings_dir": "relative/path"},
            "recordings_dir: Use an absolute path, or leave empty for BILIUP_RECORDINGS_DIR.",
        ),
        (
            {"lines": "upos cs; rm"},
            "lines: Use AUTO or a line name such as bda2, bldsa, tx, txa or alia.",
        ),
        (
            {"uploader": "kodo"},
            "uploader: Select a valid choice. kodo is not one of the available choices.",
        ),
        (
            {"user": {"bili_cookie": "bili_jct=x"}},
            "user.bili_cookie: A Bilibili login cookie needs SESSDATA (SESSDATA=…; bili_jct=…).",
        ),
        (
            {"user": {"bili_cookie_file": "missing.json"}},
            "user.bili_cookie_file: No account and no file named missing.json in the data"
            " folder: put the cookies file there, or log in under Accounts.",
        ),
        (
            {"user": {"douyin_cookie": "ttwid=x"}},
            "user.douyin_cookie: Not kept: this site records other platforms without their"
            " cookies or passwords. Leave it empty.",
        ),
    ],
)
def test_put_rejects_bad_values_and_changes_nothing(
    api: JsonClient, body: dict[str, Any], message: str
) -> None:
    r = api.put("/api/v1/configuration", {"threads": 4, **body})
    assert r.status_code == 400
    assert r.json() == {"error": message}
    assert Configuration.load().threads == 3


def test_open_platform_secrets_are_written_never_read(api: JsonClient) -> None:
    r = api.put(
        "/api/v1/configuration",
        {
            "uploader": "openplatform",
            "openplatform_client_id": "app1",
            "openplatform_app_secret": "s3cret",
            "openplatform_access_token": "t0ken",
        },
    )
    assert r.status_code == 200
    body = api.get("/api/v1/configuration").json()
    assert (body["uploader"], body["openplatform_client_id"]) == (
        "openplatform",
        "app1",
    )
    assert body["openplatform_app_secret_set"] is True
    assert body["openplatform_access_token_set"] is True
    assert "s3cret" not in r.content.decode() + str(body)
    assert "t0ken" not in r.content.decode() + str(body)
    # A PUT that leaves them out keeps them.
    api.put("/api/v1/configuration", {"threads": 4})
    assert Configuration.load().openplatform_app_secret == "s3cret"


def test_it_needs_a_session(anon: JsonClient) -> None:
    assert anon.get("/api/v1/configuration").status_code == 401
    assert anon.put("/api/v1/configuration", {"threads": 9}).status_code == 401
    assert Configuration.load().threads == 3


def test_the_upload_link_settings_round_trip(api: JsonClient) -> None:
    schedule = [
        {"start": "01:00", "end": "08:00", "rate": 0},
        {"start": "18:00", "end": "23:30", "rate": 2048},
    ]
    r = api.put(
        "/api/v1/configuration",
        {
            "upload_rate_limit": 4096,
            "upload_schedule": schedule,
            "upload_adaptive": False,
            "upload_max_connections": 12,
            "upload_line_max_connections": 6,
        },
    )
    assert r.status_code == 200, r.content
    body = api.get("/api/v1/configuration").json()
    assert {k: body[k] for k in body if k.startswith("upload_")} == {
        "upload_limit": 3,
        "upload_rate_limit": 4096,
        "upload_schedule": schedule,
        "upload_adaptive": False,
        "upload_max_connections": 12,
        "upload_line_max_connections": 6,
    }
    # Sent alone, another key leaves the schedule as it is.
    api.put("/api/v1/configuration", {"threads": 4})
    assert Configuration.load().upload_schedule == schedule


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"upload_rate_limit": 10}, "upload_rate_limit: A rate is 0 (no limit) or 64"),
        ({"upload_rate_limit": -1}, "upload_rate_limit: Ensure this value"),
        ({"upload_schedule": [{"start": "1", "end": "2", "rate": 0}]}, "upload_schedule: 1 is not a time"),
        ({"upload_schedule": [{"start": "01:00", "end": "02:00"}]}, "upload_schedule: Each rule is"),
        ({"upload_schedule": {"start": "01:00"}}, "upload_schedule: Expected a list"),
        ({"upload_schedule": 5}, "upload_schedule: Expected a list"),
        ({"upload_max_connections": 65}, "upload_max_connections: Ensure this value is less"),
        ({"upload_adaptive": "yes"}, "upload_adaptive: Expected true, false, 0 or 1."),
    ],
)  # fmt: skip
def test_bad_upload_link_settings_are_refused(
    api: JsonClient, body: dict[str, Any], message: str
) -> None:
    r = api.put("/api/v1/configuration", body)
    assert r.status_code == 400
    assert r.json()["error"].startswith(message), r.json()
    config = Configuration.load()
    assert (config.upload_rate_limit, config.upload_schedule) == (0, [])
