"""The recorder service's watch rounds: a lowered check interval takes effect within the round."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from biliup_site.models import Configuration
from recorder.management.commands.recorder import RECONFIGURED_SECONDS, Command


@pytest.mark.django_db(transaction=True)
def test_a_lowered_interval_ends_the_round_under_way() -> None:
    config = Configuration.load()
    config.event_loop_interval = 600
    config.save()
    ended = threading.Event()

    def round_() -> None:
        try:
            Command().tick()
            ended.set()
        finally:
            connection.close()

    started = time.monotonic()
    thread = threading.Thread(target=round_, daemon=True)
    thread.start()
    # The round is under way with the old interval, then the user lowers it.
    assert not ended.wait(RECONFIGURED_SECONDS * 2)
    config.event_loop_interval = 1
    config.save()
    assert ended.wait(60), "the round went on with the old interval"
    assert time.monotonic() - started < 60
    thread.join(5)
