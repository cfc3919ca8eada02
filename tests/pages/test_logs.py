"""The log page: the site's logs, followed over the same socket as biliup's log viewer."""

from __future__ import annotations

import pytest
from django.test import Client


def test_it_connects_to_the_log_stream_of_the_chosen_file(browser: Client) -> None:
    response = browser.get("/logs/?file=upload.log")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'ws-connect="/v1/ws/logs?file=upload.log&amp;format=html"' in html
    assert 'id="log-lines"' in html
    assert 'href="/static/upload.log"' in html
    assert 'href="/logs/" aria-current="page">Logs</a>' in html


def test_it_falls_back_to_the_main_log_for_other_names(browser: Client) -> None:
    html = browser.get("/logs/?file=../secret_key").content.decode()
    assert "file=biliup.log&amp;format=html" in html
    assert "/static/biliup.log" in html


@pytest.mark.django_db
def test_it_needs_a_login(client: Client) -> None:
    response = client.get("/logs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
