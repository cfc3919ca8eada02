"""The upload link shared by running uploads (uploads/bandwidth.py) and the schedule's rules
(biliup_site/rate_schedule.py): shares of the cap and of the connections, read from the rows
of the other uploads as their workers save them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from biliup_site import rate_schedule
from biliup_site.models import Configuration
from tests.factories import make_account
from uploads import bandwidth, limits
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db
KIB = 1024
MiB = 1024 * 1024


def job(**fields: Any) -> UploadJob:
    defaults: dict[str, Any] = {"status": "running", "heartbeat": timezone.now()}
    return UploadJob.objects.create(**{**defaults, **fields})


def configure(**fields: Any) -> None:
    Configuration.load()
    Configuration.objects.filter(pk=1).update(**fields)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def link_for(
    upload: UploadJob, threads: int = 3, clock: Clock | None = None
) -> bandwidth.Link:
    link = bandwidth.Link(upload, threads, now=clock or Clock())
    link.start_file()
    return link


def send(link: bandwidth.Link, clock: Clock, rate: float, seconds: float = 1.0) -> None:
    """`seconds` of sending at `rate` through the link's throttle, then a refresh."""
    clock.t += seconds
    link.throttle.granted += int(rate * seconds)
    link.refresh(force=True)


def test_a_share_is_the_fair_part_or_what_the_others_leave() -> None:
    assert bandwidth.share(100, 1, 0) == 100
    assert bandwidth.share(100, 2, 80) == 50  # the others take more than half: half
    assert bandwidth.share(100, 2, 20) == 80  # they leave 80 unused: take it
    assert bandwidth.share(100, 4, 0) == 100


def test_alone_it_gets_the_whole_cap_and_the_ceiling_of_its_line() -> None:
    configure(upload_rate_limit=4096, upload_line_max_connections=8)
    link = link_for(job(line="bda2"))
    assert link.throttle.rate == 4 * MiB
    assert link.controller is not None and link.controller.ceiling == 8


def test_no_cap_means_no_throttle() -> None:
    link = link_for(job())
    assert link.throttle.rate is None


def test_two_busy_uploads_split_the_cap_and_the_connection_budget() -> None:
    configure(upload_rate_limit=4096, upload_max_connections=10)
    job(rate_allowed=4 * MiB, connections=10, line="tx")
    link = link_for(job(line="bda2"))
    assert link.throttle.rate == 2 * MiB
    assert link.controller is not None and link.controller.ceiling == 5


def test_an_upload_held_elsewhere_leaves_the_rest_of_the_cap() -> None:
    configure(upload_rate_limit=4096)
    job(rate_allowed=1 * MiB, connections=2)  # its line holds it: it claims 1 MiB/s
    link = link_for(job())
    assert link.throttle.rate == 3 * MiB


def test_stale_or_idle_uploads_do_not_count() -> None:
    configure(upload_rate_limit=4096)
    job(
        rate_allowed=4 * MiB,
        connections=4,
        heartbeat=timezone.now() - bandwidth.FRESH * 2,
    )
    job(status="submitting", rate_allowed=0, connections=0)
    link = link_for(job())
    assert link.throttle.rate == 4 * MiB


def test_uploads_on_one_line_share_its_connections() -> None:
    configure(upload_max_connections=64, upload_line_max_connections=8)
    job(line="bda2", connections=8)
    job(line="tx", connections=8)
    link = link_for(job(line="bda2"))
    assert link.controller is not None and link.controller.ceiling == 4


def test_an_accounts_cap_is_shared_by_its_uploads_alone() -> None:
    configure(upload_rate_limit=8192)
    account = make_account(upload_rate_limit=1024)
    other = make_account("other.json")
    job(account=account, rate_allowed=1 * MiB, connections=2)
    job(account=other, rate_allowed=2 * MiB, connections=2)
    clock = Clock()
    link = link_for(job(account=account), clock=clock)
    assert link.throttle.rate == 512 * KIB
    send(link, clock, 512 * KIB)
    assert link.job.limited_by == limits.ACCOUNT


def test_a_cap_changed_meanwhile_applies_at_the_next_refresh() -> None:
    configure(upload_rate_limit=4096)
    upload = job()
    clock = Clock()
    link = link_for(upload, clock=clock)
    send(link, clock, 4 * MiB)
    assert upload.limited_by == limits.CAP
    configure(upload_rate_limit=1024)
    link.refresh(force=True)
    assert link.throttle.rate == 1 * MiB
    configure(upload_rate_limit=0)
    send(link, clock, 1 * MiB)
    assert link.throttle.rate is None
    assert upload.limited_by != limits.CAP


def test_an_upload_claims_its_share_while_held_by_the_cap_else_what_it_sends() -> None:
    configure(upload_rate_limit=4096)
    clock = Clock()
    upload = job()
    link = link_for(upload, clock=clock)
    assert upload.rate_allowed == 4 * MiB  # starting: the whole share
    send(link, clock, 4 * MiB, seconds=bandwidth.GRACE)
    assert upload.rate_allowed == 4 * MiB  # held by the cap
    send(link, clock, 1 * MiB)  # its line holds it at 1 MiB/s now
    assert upload.rate_allowed == 1 * MiB * bandwidth.ROOM
    assert upload.limited_by == ""
    upload.save()
    # Another upload starting now gets what the first leaves.
    other = link_for(job(), clock=clock)
    assert other.throttle.rate == 4 * MiB - 1 * MiB * bandwidth.ROOM


def test_the_schedule_overrides_the_cap_while_a_rule_holds(settings: Any) -> None:
    rules = [
        {"start": "01:00", "end": "08:00", "rate": 0},
        {"start": "22:00", "end": "02:00", "rate": 512},
    ]
    assert rate_schedule.rate_at(rules, datetime(2026, 12, 7, 3, 0)) == 0
    assert rate_schedule.rate_at(rules, datetime(2026, 12, 7, 23, 59)) == 512
    assert rate_schedule.rate_at(rules, datetime(2026, 12, 7, 1, 30)) == 0  # first wins
    assert rate_schedule.rate_at(rules, datetime(2026, 12, 7, 12, 0)) is None
    hour = timezone.localtime().strftime("%H")
    configure(
        upload_rate_limit=4096,
        upload_schedule=[{"start": f"{hour}:00", "end": f"{hour}:59", "rate": 1024}],
    )
    assert bandwidth.cap_now(Configuration.load())[1] == limits.SCHEDULE
    link = link_for(job())
    assert link.throttle.rate in (1 * MiB, 4 * MiB)  # 4 MiB/s only past HH:59


def test_the_next_file_of_a_job_starts_where_the_last_one_ended() -> None:
    configure(upload_line_max_connections=8)
    upload = job(line="bda2")
    link = link_for(upload, threads=3)
    assert link.controller is not None and link.controller.limit == 3
    link.controller.limit = 7  # what it grew to
    link.end_file()
    assert (upload.connections, upload.limited_by) == (0, "")
    assert link.start_file() is not None and link.controller.limit == 7


def test_a_later_job_to_the_same_line_starts_at_its_level(monkeypatch: Any) -> None:
    monkeypatch.setattr(bandwidth, "_LEVELS", {})
    first = link_for(job(line="bda2"), threads=3)
    assert first.controller is not None
    first.controller.limit = 6
    first.end_file()
    assert link_for(job(line="bda2")).controller.limit == 6  # type: ignore[union-attr]
    assert link_for(job(line="tx")).controller.limit == 3  # type: ignore[union-attr]


def test_non_adaptive_uploads_keep_exactly_threads() -> None:
    configure(upload_adaptive=False)
    upload = job()
    link = link_for(upload, threads=5)
    assert link.controller is None
    assert upload.connections == 5


@pytest.mark.parametrize(
    ("value", "rules"),
    [
        ("", []),
        ("01:00-08:00 0\n\n 18:00 - 23:30 2048 ", [
            {"start": "01:00", "end": "08:00", "rate": 0},
            {"start": "18:00", "end": "23:30", "rate": 2048},
        ]),
        ([{"start": "23:00", "end": "01:00", "rate": 64}], [
            {"start": "23:00", "end": "01:00", "rate": 64},
        ]),
    ],
)  # fmt: skip
def test_schedule_rules_from_text_or_a_list(value: Any, rules: list[Any]) -> None:
    assert rate_schedule.clean(value) == rules
    assert rate_schedule.clean(rate_schedule.as_text(rules)) == rules


@pytest.mark.parametrize(
    "value",
    [
        "18:00 2048",
        "25:00-08:00 0",
        "08:00-08:00 100",
        "01:00-02:00 10",  # below the least rate
        [{"start": "01:00", "end": "02:00"}],
        [{"start": "01:00", "end": "02:00", "rate": "fast"}],
        [{"start": 1, "end": "02:00", "rate": 0}],
        {"start": "01:00"},
        [{"start": "01:00", "end": "02:00", "rate": 0}] * 25,
    ],
)
def test_bad_schedule_rules_are_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        rate_schedule.clean(value)
