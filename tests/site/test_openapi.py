from __future__ import annotations

import re

import pytest
from django.urls import URLPattern

from biliup_site.urls import api_v1, biliup_routes
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db


def routed() -> dict[str, set[str]]:
    """Every /api/v1 path with the methods its view accepts, in OpenAPI's spelling."""
    paths: dict[str, set[str]] = {}
    for pattern in api_v1:
        assert isinstance(pattern, URLPattern)
        path = "/" + re.sub(
            r"<(?:\w+:)?(\w+)>",
            lambda m: "{id}" if m[1] == "pk" else "{" + m[1] + "}",
            str(pattern.pattern),
        )
        paths[path] = {m.lower() for m in pattern.callback.api_methods}
    return paths


def test_every_route_is_documented_with_its_methods(api: JsonClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    documented = {path: set(ops) for path, ops in document["paths"].items()}
    assert routed() == documented


def test_every_schema_reference_resolves(api: JsonClient) -> None:
    response = api.get("/api/v1/openapi.json")
    text, document = response.content.decode(), response.json()
    for ref in set(re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', text)):
        assert ref[1] in document["components"][ref[0]], ref


def test_biliups_route_names_reach_the_same_views() -> None:
    views = {p.callback for p in api_v1}
    # get_qrcode answers in Bilibili's auth_code envelope, which biliup's UI reads.
    others = [str(p.pattern) for p in biliup_routes if p.callback not in views]
    assert others == ["v1/get_qrcode"]


def test_the_contracts_routes_are_all_there() -> None:
    contract = {
        "/users/register": {"post"},
        "/users/login": {"post"},
        "/users/biliup": {"get"},
        "/logout": {"get"},
        "/streamers": {"get", "post", "put"},
        "/streamers/{id}": {"delete"},
        "/streamers/{id}/pause": {"post"},
        "/configuration": {"get", "put"},
        "/upload_streamers": {"get", "post"},
        "/upload_streamers/{id}": {"get", "delete"},
        "/videos": {"get"},
        "/uploads": {"post"},
        "/users": {"get", "post"},
        "/users/{id}": {"delete"},
        "/proxy": {"get"},
        "/status": {"get"},
        "/streamer_info": {"get"},
        "/streamer_info/{id}/files": {"get"},
    }
    paths = routed()
    for path, methods in contract.items():
        assert methods <= paths.get(path, set()), path


def test_only_login_register_and_the_session_check_are_open(anon: JsonClient) -> None:
    open_paths = {"/users/register", "/users/login", "/users/biliup", "/logout"}
    for path, methods in routed().items():
        for method in methods:
            url = "/api/v1" + re.sub(r"\{\w+\}", "1", path)
            status = anon.generic(
                method.upper(), url, "{}", content_type="application/json"
            ).status_code
            if path in open_paths:
                assert status != 401, (method, path)
            else:
                assert status == 401, (method, path)
