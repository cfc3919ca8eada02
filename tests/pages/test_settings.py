from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from biliup_site.models import Configuration

pytestmark = pytest.mark.django_db

SECRET = "app-secret-5f1e9c"
TOKEN = "access-token-77aa0b"


def _form(**changes: Any) -> dict[str, Any]:
    """What the browser sends back: every field as shown, secrets blank."""
    config = Configuration.load()
    data = {
        "recordings_dir": config.recordings_dir,
        "event_loop_interval": config.event_loop_interval,
        "delay": config.delay,
        "download_limit": config.download_limit,
        "disk_reserve": config.disk_reserve,
        "uploader": config.uploader,
        "lines": config.lines,
        "threads": config.threads,
        "upload_limit": config.upload_limit,
        "submit_api": config.submit_api,
        "delete_after_upload": config.delete_after_upload,
        "openplatform_client_id": config.openplatform_client_id,
        "openplatform_app_secret": "",
        "openplatform_access_token": "",
        "openplatform_auth": config.openplatform_auth,
        "catalog_provider": config.catalog_provider,
        "justoneapi_env": config.justoneapi_env,
        "justoneapi_token": "",
        "upload_rate_limit": config.upload_rate_limit,
        "upload_schedule": "",
        "upload_max_connections": config.upload_max_connections,
        "upload_line_max_connections": config.upload_line_max_connections,
    }
    if config.upload_adaptive:  # a checked box is sent, an unchecked one is not
        data["upload_adaptive"] = "on"
    return data | changes


@pytest.fixture
def with_secrets(db: None) -> Configuration:
    config = Configuration.load()
    config.openplatform_client_id = "client-1"
    config.openplatform_app_secret = SECRET
    config.openplatform_access_token = TOKEN
    config.save()
    return config


def test_it_shows_the_configuration_grouped(browser: Client) -> None:
    config = Configuration.load()
    config.lines = "bda2"
    config.upload_limit = 7
    config.save()
    page = browser.get("/settings/").content.decode()
    for group in ("Recording", "Uploading", "Open Platform"):
        assert f"<h2>{group}</h2>" in page
    assert 'name="lines" value="bda2"' in page
    assert 'name="upload_limit" value="7"' in page
    assert "Recordings now go to" in page
    assert page.index('name="recordings_dir"') < page.index('name="lines"')


def test_it_saves_and_shows_the_saved_values(browser: Client, tmp_path: Any) -> None:
    folder = str(tmp_path / "rec")
    r = browser.post(
        "/settings/",
        _form(
            lines="tx", threads=8, recordings_dir=folder, delete_after_upload="delete"
        ),
    )
    assert r.status_code == 302 and r["Location"] == "/settings/"
    config = Configuration.load()
    assert (config.lines, config.threads, config.recordings_dir) == ("tx", 8, folder)
    assert config.delete_after_upload == "delete"
    page = browser.get("/settings/").content.decode()
    assert "Settings saved." in page
    assert 'name="lines" value="tx"' in page
    assert f'value="{folder}"' in page


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"lines": "no way!"}, "lines", "Use AUTO or a line name"),
        ({"recordings_dir": "relative/dir"}, "recordings_dir", "Use an absolute path"),
        ({"threads": 99}, "threads", "less than or equal to 32"),
        ({"uploader": "ftp"}, "uploader", "Select a valid choice"),
    ],
)
def test_invalid_values_are_shown_next_to_their_field(
    browser: Client, changes: dict[str, Any], field: str, words: str
) -> None:
    r = browser.post("/settings/", _form(**changes))
    assert r.status_code == 200
    page = r.content.decode()
    block = page[page.index(f'id="field-{field}"') :]
    block = block[: block.index('<div class="field"')]
    assert words in block
    assert "errorlist" in block
    assert Configuration.load().lines == "AUTO"
    assert Configuration.load().threads == 3


def test_secrets_are_never_shown(browser: Client, with_secrets: Configuration) -> None:
    page = browser.get("/settings/").content.decode()
    assert SECRET not in page
    assert TOKEN not in page
    assert 'type="password" name="openplatform_app_secret"' in page
    assert page.count(">set<") == 2
    assert page.count(">not set<") == 1  # the JustOneAPI token
    assert 'value="client-1"' in page
    # Not even when the form comes back with an error.
    page = browser.post(
        "/settings/", _form(lines="bad line", openplatform_app_secret="new-secret-x")
    ).content.decode()
    assert SECRET not in page and TOKEN not in page and "new-secret-x" not in page


def test_blank_secrets_keep_the_stored_ones(
    browser: Client, with_secrets: Configuration
) -> None:
    assert browser.post("/settings/", _form(lines="bda2")).status_code == 302
    config = Configuration.load()
    assert config.lines == "bda2"
    assert config.openplatform_app_secret == SECRET
    assert config.openplatform_access_token == TOKEN


def test_a_secret_is_replaced_or_cleared(
    browser: Client, with_secrets: Configuration
) -> None:
    browser.post(
        "/settings/",
        _form(
            openplatform_app_secret="new-secret", clear_openplatform_access_token="on"
        ),
    )
    config = Configuration.load()
    assert config.openplatform_app_secret == "new-secret"
    assert config.openplatform_access_token == ""
    page = browser.get("/settings/").content.decode()
    assert page.count(">set<") == 1 and page.count(">not set<") == 2


def test_the_justoneapi_token_is_write_only_and_a_new_one_lifts_its_stop(
    browser: Client, db: None
) -> None:
    Configuration.objects.update_or_create(
        pk=1,
        defaults={
            "justoneapi_token": "joa-old",
            "justoneapi_stop_reason": "JustOneAPI code 601: insufficient balance",
        },
    )
    assert browser.post("/settings/", _form(justoneapi_env="cn")).status_code == 302
    config = Configuration.load()
    assert (config.justoneapi_token, config.justoneapi_env) == ("joa-old", "cn")
    assert config.justoneapi_stopped  # the same token: still stopped
    assert "joa-old" not in browser.get("/settings/").content.decode()

    browser.post("/settings/", _form(justoneapi_token="joa-new"))
    config = Configuration.load()
    assert (config.justoneapi_token, config.justoneapi_stopped) == ("joa-new", "")


def test_api_tokens_are_created_shown_once_and_deleted(
    browser: Client, htmx: Client
) -> None:
    page = browser.get("/settings/").content.decode()
    assert "No API tokens." in page

    body = htmx.post("/settings/tokens", {"name": "backup script"}).content.decode()
    assert body.lstrip().startswith('<div id="tokens"')
    token = ApiToken.objects.get()
    raw = body.split('<code class="mono raw-token">')[1].split("</code>")[0]
    assert raw.startswith("bst_") and ApiToken.objects.for_raw(raw) == token
    assert "backup script" in body

    page = browser.get("/settings/").content.decode()
    assert raw not in page
    assert f'id="token-{token.pk}"' in page and "hx-confirm=" in page

    body = htmx.post(f"/settings/tokens/{token.pk}/delete").content.decode()
    assert "No API tokens." in body
    assert not ApiToken.objects.exists()


def test_a_token_needs_a_name(htmx: Client) -> None:
    body = htmx.post("/settings/tokens", {"name": ""}).content.decode()
    assert "errorlist" in body
    assert not ApiToken.objects.exists()


def test_the_settings_need_a_login(client: Client, db: None) -> None:
    assert client.get("/settings/").status_code == 302
    assert client.post("/settings/", _form(lines="tx")).status_code == 302
    assert Configuration.load().lines == "AUTO"


def test_the_upload_speed_cap_and_schedule_are_saved_and_shown(browser: Client) -> None:
    r = browser.post(
        "/settings/",
        _form(
            upload_rate_limit=4096,
            upload_schedule="01:00-08:00 0\r\n18:00-23:30 2048\r\n",
            upload_line_max_connections=6,
        ),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    config = Configuration.load()
    assert config.upload_rate_limit == 4096
    assert config.upload_schedule == [
        {"start": "01:00", "end": "08:00", "rate": 0},
        {"start": "18:00", "end": "23:30", "rate": 2048},
    ]
    assert config.upload_line_max_connections == 6
    page = browser.get("/settings/").content.decode()
    assert "01:00-08:00 0\n18:00-23:30 2048" in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"upload_schedule": "evenings 2048"}, "upload_schedule"),
        ({"upload_schedule": "18:00-18:00 2048"}, "upload_schedule"),
        ({"upload_rate_limit": 10}, "upload_rate_limit"),
        ({"upload_max_connections": 0}, "upload_max_connections"),
    ],
)
def test_a_bad_cap_or_schedule_is_a_form_error_and_nothing_is_saved(
    browser: Client, changes: dict[str, Any], field: str
) -> None:
    r = browser.post("/settings/", _form(**changes))
    assert r.status_code == 200
    page = r.content.decode()
    assert f'id="field-{field}"' in page and "errorlist" in page
    assert Configuration.load().upload_schedule == []
    assert Configuration.load().upload_rate_limit == 0
