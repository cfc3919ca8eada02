"""One fake Bilibili per test module, reset around each test (which also ends its open streams)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakebili.server import FakeBilibili


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeBilibili]:
    with FakeBilibili() as fake:
        yield fake


@pytest.fixture
def fake(_server: FakeBilibili) -> Iterator[FakeBilibili]:
    _server.reset()
    yield _server
    _server.reset()
