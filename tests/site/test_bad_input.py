"""Every route, every method, fed junk: the answer is a 4xx with {"error": ...}, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern

from biliup_site.urls import api_v1
from tests.conftest import JsonClient
from tests.factories import make_account, make_session, make_streamer, make_template

pytestmark = pytest.mark.django_db

JUNK: list[Any] = [
    None,
    True,
    -1,
    2**70,
    1.5,
    "",
    "x" * 5000,
    "../../etc/passwd",
    [],
    [1, "a"],
    {},
    {"a": {"b": [None]}},
]
FIELDS = [
    "id", "url", "remark", "template_name", "split_time", "split_size", "override", "time_range", "excluded_keywords",
    "title", "tid", "tag", "tags", "copyright", "source", "dtime", "dolby", "extra_fields", "credits", "user_cookie",
    "submit_api", "threads", "lines", "download_limit", "recordings_dir", "files", "params", "key", "value",
    "username", "password", "name", "next",
]  # fmt: skip


def routes() -> list[tuple[str, str]]:
    found = []
    for pattern in api_v1:
        assert isinstance(pattern, URLPattern)
        path = "/api/v1/" + re.sub(r"<int:pk>", "1", str(pattern.pattern))
        for method in pattern.callback.api_methods:
            if method != "GET" and path != "/api/v1/proxy":
                found.append((method, path))
    return found


@pytest.fixture
def rows(recordings: Any) -> None:
    account = make_account()
    make_session(make_streamer(upload_template=make_template(account=account)), files=1)


@pytest.mark.parametrize(("method", "path"), routes())
def test_junk_bodies_never_cause_a_server_error(
    api: JsonClient, rows: None, method: str, path: str
) -> None:
    for field in FIELDS:
        for value in JUNK:
            r = api.generic(
                method, path, _json({field: value}), content_type="application/json"
            )
            assert r.status_code < 500, (method, path, field, value, r.content[:200])
            if r.status_code >= 400 and r["Content-Type"] == "application/json":
                assert isinstance(r.json()["error"], str)
    for body in (b"\xff\xfe", b"[]", b"null", b"1", b'"x"', b"{", b'{"a":1}' * 3):
        r = api.generic(method, path, body, content_type="application/json")
        assert r.status_code < 500, (method, path, body)


def test_query_strings_never_cause_a_server_error(api: JsonClient, rows: None) -> None:
    for url in (
        "",
        "x",
        "http://",
        "http://[::1",
        "https://i0.hdslb.com:99999/",
        "https://%zz/",
    ):
        assert api.get("/api/v1/proxy", {"url": url}).status_code < 500


def _json(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body)
