from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def browser(alice: User) -> Client:
    """A logged-in browser that asks for English pages (the default is Simplified Chinese)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)
    return client


@pytest.fixture
def htmx(alice: User) -> Client:
    """The same browser's htmx requests."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")
    client.force_login(alice)
    return client
