"""Streamer URLs can't make the recorder fetch from this machine, the LAN or a cloud's metadata
service, unless the operator named the host; a source that answers something other than a
stream is asked ever more slowly, then the recording ends in error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from django.utils import timezone

from biliup_site.models import Configuration
from recorder import reach, streamers, tasks, watch
from recorder.forms import StreamerForm
from recorder.models import Streamer
from tests.factories import make_streamer
from tests.polling import wait_for


class _Page(BaseHTTPRequestHandler):
    """Answers every GET with an HTML page, as a login wall or an error page would."""

    hits: list[float]

    def do_GET(self) -> None:
        self.hits.append(time.monotonic())
        body = b"<html><body>SECRET metadata</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def page() -> Iterator[tuple[int, list[float]]]:
    hits: list[float] = []
    handler = type("Handler", (_Page,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "httpstream://http://127.0.0.1:9/live.flv",
        "hls://http://10.0.0.5/live.m3u8",
        "hls://http://169.254.169.254/latest/meta-data/live.m3u8",
        "httpstream://http://[::1]:9/live.flv",
        "hls://http://localhost:9/live.m3u8",  # a name: refused after DNS
    ],
)
def test_private_stream_urls_are_refused(api: Any, url: str, settings: Any) -> None:
    settings.RECORD_ALLOWED_HOSTS = []
    r = api.post("/api/v1/streamers", {"url": url})
    assert r.status_code == 400
    assert "private" in r.json()["error"]
    assert "BILIUP_RECORD_ALLOWED_HOSTS" in r.json()["error"]
    assert not Streamer.objects.exists()


@pytest.mark.django_db
def test_a_host_the_operator_named_is_allowed(api: Any, settings: Any) -> None:
    settings.RECORD_ALLOWED_HOSTS = ["10.0.0.0/8", "localhost"]
    for url in ("hls://http://10.0.0.5/live.m3u8", "hls://http://localhost:9/x.m3u8"):
        assert reach.refusal(url) == ""
    settings.RECORD_ALLOWED_HOSTS = ["127.0.0.1"]
    r = api.post("/api/v1/streamers", {"url": "httpstream://http://127.0.0.1:9/a.flv"})
    assert r.status_code == 200, r.json()


@pytest.mark.django_db
def test_each_connection_is_checked_after_dns(
    page: tuple[int, list[float]], settings: Any
) -> None:
    """A streamer saved before the rule (or whose name moved to a private address since) is
    refused when the recorder connects: state=error, and the host got no request."""
    port, hits = page
    settings.RECORD_ALLOWED_HOSTS = []
    streamer = make_streamer(url=f"httpstream://http://localhost:{port}/live.flv")
    assert not watch.check(streamer)
    streamer.refresh_from_db()
    assert streamer.state == Streamer.State.ERROR
    assert "private" in streamer.state_detail
    with pytest.raises(reach.Refused):
        reach.guard(requests.Session()).get(f"http://localhost:{port}/")
    assert hits == []
    settings.RECORD_ALLOWED_HOSTS = ["localhost"]
    assert reach.guard(requests.Session()).get(f"http://localhost:{port}/").ok


@pytest.mark.django_db(transaction=True)
def test_a_source_that_answers_a_page_backs_off_and_ends_in_error(
    page: tuple[int, list[float]], settings: Any, caplog: Any, monkeypatch: Any
) -> None:
    port, hits = page
    monkeypatch.setattr(reach, "NOT_A_STREAM_TRIES", 3)
    settings.RECORD_ALLOWED_HOSTS = ["127.0.0.1"]
    config = Configuration.load()
    config.delay = 60  # the grace delay is not what ends it
    config.save()
    streamer = make_streamer(
        url=f"httpstream://http://127.0.0.1:{port}/live.flv", platform="http"
    )
    thread = threading.Thread(target=tasks.record, args=(streamer.pk,), daemon=True)
    thread.start()
    wait_for(
        lambda: Streamer.objects.get(pk=streamer.pk).state == Streamer.State.ERROR,
        30,
        "the recording did not end in error",
    )
    thread.join(timeout=10)
    streamer.refresh_from_db()
    assert "Not a stream" in streamer.state_detail
    assert "text/html" in streamer.state_detail
    # Waits of 1 then 2 s between the rounds, then the end: not once a second forever (a
    # round asks twice, the plugin's check and the pull; the session's opening once more).
    assert len(hits) <= 2 * 3 + 1
    assert hits[-1] - hits[0] >= 2.5
    assert "SECRET" not in caplog.text


@pytest.mark.django_db
def test_a_source_that_was_not_a_stream_is_held_back_until_the_user_acts(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    streamer = make_streamer(
        url="httpstream://http://127.0.0.1:9/live.flv",
        platform="http",
        state=Streamer.State.ERROR,
        state_detail=f"{reach.NOT_A_STREAM}: HTTP 200, text/html, 12 bytes",
        state_changed=timezone.now(),
    )
    other_error = make_streamer(
        url="https://live.bilibili.com/2",
        state=Streamer.State.ERROR,
        state_detail="Disk full",
        state_changed=timezone.now(),
    )
    # The rounds leave it alone (not one pull a round), other errors are checked as before.
    assert [s.pk for s in watch.due()] == [other_error.pk]
    Streamer.objects.filter(pk=streamer.pk).update(
        state_changed=timezone.now() - watch.NOT_A_STREAM_HOLD
    )
    assert streamer.pk in [s.pk for s in watch.due()]
    # Editing it asks at once, whatever the hold.
    Streamer.objects.filter(pk=streamer.pk).update(state_changed=timezone.now())
    settings.RECORD_ALLOWED_HOSTS = ["127.0.0.1"]
    form = StreamerForm(
        {"url": streamer.url, "remark": "fixed", "split_time": 0, "split_size": 0},
        instance=streamer,
    )
    assert form.is_valid(), form.errors
    with django_capture_on_commit_callbacks() as queued:
        streamers.save(form)
    assert [c.__self__.pk for c in queued] == [streamer.pk]  # its enqueue_check
