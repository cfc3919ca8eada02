"""biliup's web UI replayed as an outside client over real HTTP: the streamers page's edit, pause
and delete from a flat row, a template's extra_fields text, and the dashboard's save with its
cookie fields (app/(app)/streamers, upload-manager, dashboard in github:biliup/biliup)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.fakebili.server import FakeBilibili
from tests.integration.shared import Shared
from tests.livesite import Site, register_admin

pytestmark = pytest.mark.integration

ROOM = 23058


@pytest.fixture(scope="module")
def fake(shared_for_module: Shared) -> FakeBilibili:
    shared_for_module.fake.add_room(ROOM, uname="主播A")
    return shared_for_module.fake


@pytest.fixture(scope="module")
def site(shared_for_module: Shared, fake: FakeBilibili) -> Site:
    return shared_for_module.site


@pytest.fixture(scope="module")
def ui(site: Site) -> requests.Session:
    return register_admin(site)


def _ok(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


def test_streamers_page_edits_pauses_and_deletes_from_a_flat_row(
    site: Site, ui: requests.Session
) -> None:
    base = site.url
    first = _ok(
        ui.post(
            f"{base}/v1/upload/streamers",
            json={
                "id": None,
                "template_name": "a",
                "tags": ["游戏"],
                "extra_fields": "",
            },
        )
    )
    second = _ok(
        ui.post(
            f"{base}/v1/upload/streamers",
            json={
                "id": None,
                "template_name": "b",
                "tags": ["游戏"],
                "extra_fields": '{"is_360": 0}',
            },
        )
    )
    assert (first["extra_fields"], json.loads(second["extra_fields"])) == (
        None,
        {"is_360": 0},
    )
    # TemplateModal's create: biliup's fields, the template by id, postprocessor as it maps it.
    _ok(
        ui.post(
            f"{base}/v1/streamers",
            json={
                "remark": "主播A",
                "url": f"https://live.bilibili.com/{ROOM}",
                "upload_streamers_id": first["id"],
                "postprocessor": ["rm"],
            },
        )
    )
    [row] = _ok(ui.get(f"{base}/v1/streamers"))
    assert (row["remark"], row["upload_streamers_id"]) == ("主播A", first["id"])

    # The edit: the row itself minus what handleUpdate deletes, the new choices on top.
    body = {k: v for k, v in row.items() if k not in ("status", "upload_status")}
    body |= {"remark": "改名", "upload_streamers_id": second["id"]}
    _ok(ui.put(f"{base}/v1/streamers", json=body))
    [row] = _ok(ui.get(f"{base}/v1/streamers"))
    assert (row["remark"], row["inner"]["template_name"]) == ("改名", "b")

    # PauseButton: PUT /v1/streamers/<item.id>/pause, no body, no Content-Type.
    _ok(ui.put(f"{base}/v1/streamers/{row['id']}/pause"))
    [row] = _ok(ui.get(f"{base}/v1/streamers"))
    assert row["status"] == "Pause"

    # requestDelete: DELETE /v1/streamers/<item.id>.
    _ok(ui.delete(f"{base}/v1/streamers/{row['id']}"))
    assert _ok(ui.get(f"{base}/v1/streamers")) == []


def test_dashboard_save_with_cookie_fields(
    site: Site, ui: requests.Session, fake: FakeBilibili
) -> None:
    base = site.url
    document = {
        "cookie_info": {
            "cookies": [
                {"name": "SESSDATA", "value": "secret-sess"},
                {"name": "bili_jct", "value": "csrf"},
            ]
        },
        "token_info": {"mid": 4242, "access_token": "secret-token"},
    }
    (site.data_dir / "cookies.json").write_text(json.dumps(document))
    config = _ok(ui.get(f"{base}/v1/configuration"))

    # A file that isn't there: a field error, and nothing else of the save applies.
    r = ui.put(
        f"{base}/v1/configuration",
        json=config | {"threads": 9, "user": {"bili_cookie_file": "gone.json"}},
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("user.bili_cookie_file: ")
    assert _ok(ui.get(f"{base}/v1/configuration"))["threads"] == config["threads"]

    # The dashboard's save: every key it read, the cookie file typed into the Bilibili tab.
    user = dict(config["user"]) | {"bili_cookie_file": "cookies.json"}
    saved = _ok(
        ui.put(f"{base}/v1/configuration", json=config | {"threads": 9, "user": user})
    )
    assert (saved["threads"], saved["user"]["bili_cookie_file"]) == (9, "cookies.json")
    [account] = _ok(ui.get(f"{base}/v1/users"))
    assert account["value"] == "cookies.json"

    # Saved again as read back: the same account, and no secret in the configuration.
    again = _ok(ui.get(f"{base}/v1/configuration"))
    _ok(ui.put(f"{base}/v1/configuration", json=again))
    assert len(_ok(ui.get(f"{base}/v1/users"))) == 1
    text = ui.get(f"{base}/api/v1/configuration").text
    assert "secret-sess" not in text and "secret-token" not in text
