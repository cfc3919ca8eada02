"""Heartbeats and the lease: beats written together, and only while the row is still the
recorder's; a recorder that lost its streamer learns why, and cannot undo the new holder's work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from recorder import heartbeats, lease
from recorder.models import Streamer
from tests.factories import make_streamer

ME = "machine-a:100"
OTHER = "machine-b:200"


@pytest.fixture
def batched() -> Iterator[None]:
    heartbeats.batched = True
    yield
    heartbeats.batched = False


def recording(worker: str = ME, **fields: object) -> Streamer:
    return make_streamer(
        state=Streamer.State.RECORDING,
        worker=worker,
        heartbeat=timezone.now() - timedelta(seconds=30),
        **fields,
    )


@pytest.mark.django_db
def test_beats_wait_for_the_flush_then_go_out_together(batched: None) -> None:
    first, second = recording(), recording(url="https://live.bilibili.com/2")
    before = first.heartbeat
    heartbeats.beat(first.pk, ME, {"bytes": 10})
    heartbeats.beat(second.pk, ME, {"bytes": 20})
    first.refresh_from_db()
    assert first.heartbeat == before  # not yet

    assert heartbeats.flush() == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.heartbeat > before and first.progress == {"bytes": 10}
    assert second.progress == {"bytes": 20}
    assert heartbeats.lost(first.pk) is None
    assert heartbeats.flush() == 0  # each beat once


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "reason", "taken_over"),
    [
        ({"paused": True}, "Paused", False),
        ({"worker": OTHER}, f"Taken over by {OTHER}", True),
    ],
)
def test_a_beat_on_a_row_that_is_not_ours_any_more_says_why(
    change: dict[str, object], reason: str, taken_over: bool
) -> None:
    streamer = recording()
    Streamer.objects.filter(pk=streamer.pk).update(**change)
    heartbeats.beat(streamer.pk, ME, {"bytes": 1})
    lost = heartbeats.lost(streamer.pk)
    assert lost == heartbeats.Lost(reason, taken_over)
    streamer.refresh_from_db()
    assert streamer.progress == {}  # nothing written over the new state
    heartbeats.forget(streamer.pk)
    assert heartbeats.lost(streamer.pk) is None


@pytest.mark.django_db
def test_a_deleted_streamer_stops_its_recording() -> None:
    streamer = recording()
    pk = streamer.pk
    streamer.delete()
    heartbeats.beat(pk, ME, {})
    assert heartbeats.lost(pk) == heartbeats.Lost("Deleted")
    heartbeats.forget(pk)


@pytest.mark.django_db
def test_a_recorder_that_was_taken_over_cannot_release_the_streamer() -> None:
    mine = recording()
    Streamer.objects.filter(pk=mine.pk).update(worker=OTHER)

    assert not lease.release(mine, Streamer.State.IDLE, "")
    assert not lease.holds(mine)

    row = Streamer.objects.get(pk=mine.pk)
    assert (row.state, row.worker) == (Streamer.State.RECORDING, OTHER)


@pytest.mark.django_db
def test_releasing_frees_the_streamer() -> None:
    mine = recording()
    assert lease.holds(mine)
    assert lease.release(mine, Streamer.State.ERROR, "The disk is full")
    row = Streamer.objects.get(pk=mine.pk)
    assert (row.state, row.worker, row.heartbeat) == ("error", "", None)
    assert row.state_detail == "The disk is full"
