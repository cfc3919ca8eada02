"""`manage.py serve` keeps the system up: a worker cluster killed outright comes back, its
orphaned workers are reaped, and jobs run again."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.livesite import (
    Site,
    add_account,
    descendants,
    register_admin,
    running_site,
    upload_segment,
)
from tests.polling import wait_for

pytestmark = pytest.mark.integration

RESTART_SECONDS = 20


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # Migrated from nothing by serve itself, as on a first install (other sites start from a
    # copy of migrated databases).
    with running_site(tmp_path_factory.mktemp("serve"), fresh_databases=True) as site:
        yield site


def _children(site: Site) -> dict[int, str]:
    table = descendants(site.serve_pid)
    return {pid: cmd for pid, cmd in table.items() if _parent(pid) == site.serve_pid}


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except OSError:
        return 0


def _jobs_cluster(site: Site) -> int:
    """The pid of serve's "jobs" qcluster: the one started without a Q_CLUSTER_NAME."""
    for pid, cmd in _children(site).items():
        if (
            "qcluster" in cmd
            and b"Q_CLUSTER_NAME=" not in Path(f"/proc/{pid}/environ").read_bytes()
        ):
            return pid
    raise AssertionError(f"no jobs cluster among {_children(site)}")


def _wait_for(condition: Callable[[], object], what: str, site: Site) -> None:
    try:
        wait_for(condition, RESTART_SECONDS, what)
    except AssertionError as exc:
        pytest.fail(f"{exc}\n{site.log_tail()}")


def test_a_killed_worker_cluster_is_restarted_and_its_orphans_reaped(
    site: Site,
) -> None:
    old = _jobs_cluster(site)
    # The site answers HTTP before the cluster has forked its workers.
    _wait_for(
        lambda: len(descendants(old)) >= 3, "the cluster started no workers", site
    )
    old_workers = set(descendants(old))

    os.kill(old, signal.SIGKILL)

    _wait_for(
        lambda: _jobs_cluster_or_none(site) not in (None, old),
        "no new jobs cluster",
        site,
    )
    _wait_for(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in old_workers),
        "orphans still running",
        site,
    )
    # And the new cluster works: a queued job is picked up and finished.
    session = register_admin(site)
    add_account(session, site, "cookies.json")
    upload_segment(session, site, "seg.flv", "after restart", account="cookies.json")

    def finished() -> bool:
        jobs = session.get(f"{site.url}/api/v1/upload_jobs", timeout=10).json()
        return bool(jobs) and jobs[0]["status"] == "failed"

    _wait_for(finished, "the job was not run by the new cluster", site)


def _jobs_cluster_or_none(site: Site) -> int | None:
    try:
        return _jobs_cluster(site)
    except (AssertionError, OSError):
        return None


def test_the_site_keeps_answering_meanwhile(site: Site) -> None:
    assert requests.get(f"{site.url}/api/v1/users/biliup", timeout=5).status_code in (
        200,
        404,
    )
