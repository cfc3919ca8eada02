"""The Open Platform client alone, with no job or runner: init, parts, complete, add-by-utoken
and the lookup, over real HTTP to the fake Bilibili. The job's side (the stored token, retries,
one archive per file) is tested through tests/uploads/test_openplatform_upload.py."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from biliup_site.bilibili import chunks, openplatform

MiB = 1024 * 1024
CLIENT_ID = "a1b2c3d4e5f60718"
APP_SECRET = "0123456789abcdef0123456789abcdef"
MID = 424242


def make_app(fake: Any, auth: str = "signature") -> openplatform.App:
    app = fake.openplatform_app(CLIENT_ID, APP_SECRET, MID)
    return openplatform.App(
        client_id=app["client_id"],
        app_secret=app["app_secret"] if auth == "signature" else "",
        access_token=app["access_token"],
        auth=auth,
    )


def send(app: openplatform.App, path: Path, size: int) -> str:
    token = openplatform.init(app, path.name)
    assert token
    chunks.send_parts(
        chunks.split(size, openplatform.PART_SIZE),
        openplatform.part_sender(token, path),
        threads=2,
        endpoints=chunks.Endpoints(["openupos"]),
        retry_base=0.01,
        on_ack=lambda part: None,
    )
    openplatform.complete(app, token)
    return token


@pytest.mark.parametrize("auth", ["signature", "legacy"])
def test_a_file_becomes_an_archive(fakebili: Any, tmp_path: Path, auth: str) -> None:
    app = make_app(fakebili, auth)
    path = tmp_path / "stream.flv"
    data = os.urandom(9 * MiB)
    path.write_bytes(data)
    started = time.time()

    token = send(app, path, len(data))
    body = openplatform.archive_body(
        {"tid": 171, "tags": ["录播", "游戏"], "desc": "自动上传"}, "stream 录播", ""
    )
    resource_id = openplatform.add_by_utoken(app, token, body)

    [archive] = fakebili.openplatform_archives()
    assert archive["resource_id"] == resource_id
    assert archive["upload"]["md5"] == hashlib.md5(data).hexdigest()
    assert [p["size"] for p in archive["upload"]["parts"]] == [8 * MiB, 1 * MiB]
    assert (archive["body"]["title"], archive["body"]["tag"]) == (
        "stream 录播",
        "录播,游戏",
    )
    assert openplatform.find_archive(app, "stream 录播", started) == resource_id
    assert openplatform.find_archive(app, "another", started) is None


def test_an_expired_access_token_is_a_credential_error(fakebili: Any) -> None:
    app = make_app(fakebili)
    fakebili.openplatform_expire(app.access_token)

    with pytest.raises(openplatform.OpenPlatformError) as raised:
        openplatform.init(app, "stream.flv")

    assert raised.value.code == 127001
    assert raised.value.code in openplatform.CREDENTIAL_CODES
    assert not raised.value.retry


def test_a_busy_platform_is_worth_retrying(fakebili: Any) -> None:
    app = make_app(fakebili)
    fakebili.inject("/arcopen/fn/archive/video/init", "code", code=127201)

    with pytest.raises(openplatform.OpenPlatformError) as raised:
        openplatform.init(app, "stream.flv")

    assert raised.value.retry
