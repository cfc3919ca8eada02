"""biliup's history player and log viewer, replayed against a running site: the player's
Range GETs under /static/, the log viewer's socket, and the close of unknown socket paths."""

from __future__ import annotations

import time

import pytest
import requests
from websockets.exceptions import ConnectionClosed

from tests.integration.shared import Shared
from tests.livesite import Site, open_progress_socket, register_admin
from tests.polling import wait_for

pytestmark = pytest.mark.integration

BODY = b"FLV\x01" + bytes(range(256)) * 64


@pytest.fixture(scope="module")
def site(shared_for_module: Shared) -> Site:
    return shared_for_module.site


@pytest.fixture(scope="module")
def session(site: Site) -> requests.Session:
    return register_admin(site)


def test_the_history_player_seeks_in_a_recording(
    site: Site, session: requests.Session
) -> None:
    (site.recordings_dir / "room").mkdir()
    (site.recordings_dir / "room" / "直播.flv").write_bytes(BODY)
    # The page lists GET /v1/videos, then plays '/static/' + name.
    names = [v["name"] for v in session.get(f"{site.url}/v1/videos", timeout=10).json()]
    assert "room/直播.flv" in names
    url = f"{site.url}/static/room/直播.flv"

    first = session.get(url, headers={"Range": "bytes=0-"}, timeout=10)
    seek = session.get(url, headers={"Range": "bytes=1000-1999"}, timeout=10)

    assert (first.status_code, first.content) == (206, BODY)
    assert first.headers["Content-Type"] == "video/x-flv"
    assert seek.status_code == 206
    assert seek.headers["Content-Range"] == f"bytes 1000-1999/{len(BODY)}"
    assert seek.content == BODY[1000:2000]
    anonymous = requests.get(url, headers={"Range": "bytes=0-"}, timeout=10)
    assert anonymous.status_code == 401
    assert b"FLV" not in anonymous.content


def test_the_sites_own_assets_keep_their_urls(site: Site) -> None:
    response = requests.get(f"{site.url}/static/biliup/site.css", timeout=10)
    assert response.status_code == 200
    assert "text/css" in response.headers["Content-Type"]


def test_the_log_viewer_gets_the_tail_then_new_lines(
    site: Site, session: requests.Session
) -> None:
    log = site.data_dir / "logs" / "biliup.log"
    wait_for(lambda: log.exists() and log.stat().st_size > 0, 30, "no site log")
    # What biliup's UI opens for its first tab.
    with open_progress_socket(site, session, "/v1/ws/logs?file=ds_update.log") as ws:
        assert ws.recv(timeout=10)
        with log.open("a") as f:
            f.write("a line written by another process\n")
        # The rest of the tail (up to 50 lines), then the new line; recv fails on a wait.
        deadline = time.monotonic() + 20
        while ws.recv(timeout=max(deadline - time.monotonic(), 0)) != (
            "a line written by another process"
        ):
            pass


def test_an_anonymous_log_socket_is_closed_with_4401(site: Site) -> None:
    with (
        open_progress_socket(site, None, "/v1/ws/logs?file=ds_update.log") as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


def test_an_unknown_socket_path_is_closed_with_4404(
    site: Site, session: requests.Session
) -> None:
    with (
        open_progress_socket(site, session, "/v1/ws/nothing-here") as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404
