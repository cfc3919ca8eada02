"""Creator catalogs run by the real processes of `manage.py serve` against the fake Bilibili:
following a user fills its catalog on a worker, and a refresh announces only the new videos on
the progress socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakebili.server import FakeBilibili
from tests.livesite import (
    collect_messages,
    open_progress_socket,
    register_admin,
    running_site,
)
from tests.polling import wait_for

pytestmark = pytest.mark.integration
UID = 946974


@pytest.fixture
def fake() -> Iterator[FakeBilibili]:
    with FakeBilibili() as fake:
        yield fake


def test_a_followed_user_is_synced_by_a_worker_and_new_videos_are_announced(
    fake: FakeBilibili, tmp_path: Path
) -> None:
    fake.add_space_user(UID, "影视飓风")
    fake.add_space_videos(UID, count=45)
    with running_site(tmp_path / "site", **fake.env()) as site:
        session = register_admin(site)
        url = f"{site.url}/api/v1/creators/{UID}"
        response = session.post(
            f"{site.url}/api/v1/creators", json={"uid": UID}, timeout=10
        )
        assert response.status_code == 201, response.text

        def synced() -> bool:
            body = session.get(url, timeout=10).json()
            return body["status"] == "ok" and body["videos_known"] == 45

        wait_for(synced, 30, f"the first sync did not end\n{site.log_tail()}")
        assert len(fake.space_requests()) == 3

        socket = open_progress_socket(site, session)
        messages = collect_messages(socket)
        fake.clear_space_requests()
        added = {v["bvid"] for v in fake.add_space_videos(UID, count=3)}
        assert session.post(f"{url}/refresh", timeout=10).status_code == 202

        def announced() -> set[str]:
            return {
                m["video"]["bvid"] for m in messages if m["type"] == "creator_video"
            }

        wait_for(
            lambda: announced() == added,
            30,
            f"announced {announced()}, not {added}\n{site.log_tail()}",
        )
        socket.close()
        assert len(fake.space_requests()) == 1
        body = session.get(url, timeout=10).json()
        assert (body["videos_known"], body["video_count"]) == (48, 48)
        page = session.get(f"{url}/videos", params={"page_size": 3}, timeout=10)
        assert {v["bvid"] for v in page.json()["results"]} == added
