"""biliup's template body names its account by a cookies file name (user_cookie), and its
clients may make templates before accounts: the name links to an account, imports a cookies
file from the data folder, or waits with a warning until such an account appears."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accounts import cookiefile
from accounts.models import BilibiliAccount
from tests.conftest import JsonClient
from tests.factories import log_in_by_tv_qr
from uploads import tasks, upload
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db

# biliup-rest-api.md's documented body, as biliup's web UI sends it.
BILIUP_BODY = {
    "id": None,
    "template_name": "biliup 模板",
    "title": "{title}",
    "tid": 171,
    "tag": "游戏,直播",
    "copyright": 1,
    "source": "",
    "desc": "直播录像",
    "user_cookie": "cookies.json",
}


@pytest.fixture
def data_dir(tmp_path: Path, settings: Any) -> Path:
    settings.DATA_DIR = tmp_path / "data-folder"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def a_cookies_document(fakebili: Any, mid: int) -> dict[str, Any]:
    """A real cookies.json of the fake (a TV QR login), its account then forgotten."""
    account = log_in_by_tv_qr(fakebili, mid=mid)
    document = json.loads(cookiefile.export(account))
    account.delete()
    return document


def save(api: JsonClient, **changes: Any) -> dict[str, Any]:
    r = api.post("/api/v1/upload_streamers", {**BILIUP_BODY, **changes})
    assert r.status_code == 200, r.content
    return r.json()


def test_a_cookies_json_in_the_data_folder_is_imported_and_linked(
    api: JsonClient, fakebili: Any, data_dir: Path
) -> None:
    (data_dir / "cookies.json").write_text(json.dumps(a_cookies_document(fakebili, 77)))

    body = save(api)

    account = BilibiliAccount.objects.get()
    assert (account.value, account.mid) == ("cookies.json", 77)
    assert body["user_cookie"] == "cookies.json" and body["warning"] is None
    assert UploadTemplate.objects.get().account == account


def test_a_cookies_file_of_an_imported_account_links_to_that_account(
    api: JsonClient, fakebili: Any, data_dir: Path
) -> None:
    document = a_cookies_document(fakebili, 88)
    (data_dir / "data").mkdir()
    (data_dir / "data" / "88.json").write_text(json.dumps(document))
    existing = cookiefile.store("my-account", document)

    save(api, user_cookie="data/88.json")

    assert BilibiliAccount.objects.count() == 1
    assert UploadTemplate.objects.get().account == existing


def test_a_name_that_names_nothing_yet_is_kept_with_a_warning_then_linked(
    api: JsonClient, fakebili: Any, data_dir: Path, recordings: Path
) -> None:
    body = save(api, user_cookie="later.json")

    assert body["user_cookie"] == "later.json"
    assert "No account named later.json yet" in body["warning"]
    template = UploadTemplate.objects.get()
    assert template.account is None
    # An upload with it fails before a byte is sent, naming the missing account.
    path = recordings / "a.flv"
    path.write_bytes(b"x" * 5000)
    job = upload.create_job([path], template, template=template)
    tasks.upload(job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "No Bilibili account named later.json yet" in job.error
    assert not fakebili.upos_uploads()
    # The account appears (an import under that name): the template uses it.
    cookiefile.store("later.json", a_cookies_document(fakebili, 99))
    template.refresh_from_db()
    assert template.account is not None and template.account.mid == 99
    assert template.to_dict()["warning"] is None


def test_the_template_page_shows_the_warning(
    client: Any, admin_user: Any, data_dir: Path
) -> None:
    UploadTemplate.objects.create(
        template_name="等账号", tags=["录播"], account_name="later.json"
    )
    client.force_login(admin_user)

    page = client.get("/templates/").content.decode()

    assert "later.json" in page and "no-account" in page


def test_a_cookies_file_that_is_not_one_is_refused(
    api: JsonClient, data_dir: Path
) -> None:
    (data_dir / "cookies.json").write_text("{}")

    r = api.post("/api/v1/upload_streamers", BILIUP_BODY)

    assert r.status_code == 400
    assert r.json()["error"].startswith("user_cookie: cookies.json in the data folder:")
    assert not UploadTemplate.objects.exists()
