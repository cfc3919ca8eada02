"""schemathesis over the whole OpenAPI document of /api/v1, with an API token: data that fits
the schemas and data that breaks them, each operation in turn. Any 5xx fails, and so does any
status the document does not list for that operation.

The requests go in-process through Django's WSGI handler (the same views daphne serves), inside
the test's transaction. What they would set off is kept in: tasks go to the ORM broker in that
transaction (no worker runs them), every Bilibili host is the fake, and a socket guard refuses
any connection beyond loopback, so a generated hook or image URL can't reach outside.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from accounts.models import ApiToken
from biliup_site.openapi import document
from tests.factories import make_account, make_session, make_streamer, make_template

# Enough for each operation to meet its own schema and a few ways of breaking it: the whole
# document in about 25 s a profile on 2 cores. The same examples every run (derandomized), so
# CI never turns red on a draw; BILIUP_FUZZ_EXAMPLES=500 hunts with fresh random ones.
HUNT = os.environ.get("BILIUP_FUZZ_EXAMPLES", "")
EXAMPLES = int(HUNT or 25)

schema = schemathesis.openapi.from_dict(document())
schema.config.generation.update(modes=["positive", "negative"])


@pytest.fixture
def token(alice: Any) -> str:
    return ApiToken.objects.issue(alice, "fuzz")[1]


@pytest.fixture
def world(
    fakebili: Any, recordings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Rows for the {id} routes to find, queued tasks kept in the test's transaction, and no
    connection past loopback."""
    make_session(
        make_streamer(upload_template=make_template(account=make_account())), files=1
    )
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(
        "django_q.tasks.get_broker", lambda *a, **k: ORM(list_key="fuzz")
    )
    real_connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and not _loopback(str(address[0])):
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused by the fuzz test")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    # As Django's test client does: the handler's signals would close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return (
            host == "localhost"
        )  # a name connected to unresolved: refused unless this


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=not HUNT,
)
def test_no_input_gives_a_server_error_or_an_undocumented_status(
    case: Any, token: str, world: None
) -> None:
    response = case.call(
        app=WSGIHandler(),
        headers={"Authorization": f"Bearer {token}", "Host": "testserver"},
    )
    case.validate_response(
        response, checks=[not_a_server_error, status_code_conformance]
    )
