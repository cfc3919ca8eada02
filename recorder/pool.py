"""The recorder service's pool: every recording of this machine, as threads of one process.

django-q2 schedules the work: the watcher enqueues a record job (recorder.tasks.record) for a
live room on the recorder queue. The pool takes the jobs from that queue (the broker django-q2's
own workers use), runs each in a thread of its own for as long as the live lasts, and saves its
result as django-q2 does, so each recording shows in the admin's task lists once it is over.

A recording costs a thread and its buffers here (a few MB), not a worker process (~100 MB).
`download_limit` is the only bound: lease.claim() counts the live recordings of every
machine under a lock, and a room over the limit waits (state WAITING) until offer() sees a slot:
a raised limit, or a recording that ended. Heartbeats of all recordings are written together,
once a second (recorder/heartbeats.py).
"""

from __future__ import annotations

import logging
import pydoc
import threading
import time
import traceback
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.monitor import save_task
from django_q.signing import BadSignature, SignedPackage

from biliup_site.models import Configuration
from recorder import heartbeats, lease, recording
from recorder.models import Streamer

logger = logging.getLogger(__name__)

# A room that waits for a slot is offered again (a new record job) after this long without one.
REOFFER_SECONDS = 30.0
# How often free slots are looked for (a raised download_limit, a recording that ended).
OFFER_SECONDS = 2.0


class Pool:
    def __init__(self, broker: Broker | None = None) -> None:
        self.broker = broker or get_broker(settings.RECORDER_CLUSTER)
        self.jobs: list[threading.Thread] = []  # one per record job being run
        # Streamer pk → when a job was last enqueued for it.
        self.offered: dict[int, float] = {}
        self.offer_at = 0.0

    def __enter__(self) -> Pool:
        heartbeats.batched = True
        return self

    def __exit__(self, *exc: object) -> None:
        heartbeats.batched = False

    def tick(self) -> bool:
        """One round: take new jobs, write the heartbeats, reap and offer slots. True if a job
        was taken (the next round should come at once). Waits up to a second for a job."""
        took = self.take()
        heartbeats.flush()
        self.reap()
        if time.monotonic() >= self.offer_at:
            self.offer()
            self.offer_at = time.monotonic() + OFFER_SECONDS
        # The connection stays open between rounds: reopening it twice a second (SQLite's
        # pragmas, PostgreSQL's handshake) was most of an idle recorder's CPU. A broken one is
        # closed by the caller on the error it raises.
        return took

    def take(self) -> bool:
        """Start a thread for each job waiting on the queue (the broker waits up to its poll
        time for one). True if any was taken."""
        packed = self.broker.dequeue() or []
        for ack_id, payload in packed:
            try:
                task = SignedPackage.loads(payload)
            except (TypeError, BadSignature):
                logger.exception("A record job that cannot be read; dropped")
                self.broker.fail(ack_id)
                continue
            # Acknowledged at once: the claim on the streamer's row, not the queue, keeps a
            # recording from running twice, and a job of a recorder that died is enqueued anew
            # by the watcher (the room is live and nobody beats for it).
            self.broker.acknowledge(ack_id)
            task["cluster"] = settings.RECORDER_CLUSTER
            thread = threading.Thread(
                target=self._run,
                args=(task,),
                name=f"{task.get('name', 'record')}",
                daemon=True,
            )
            self.jobs.append(thread)
            thread.start()
        return bool(packed)

    def _run(self, task: dict[str, Any]) -> None:
        func = task["func"]
        if not callable(func):
            func = pydoc.locate(func)
        try:
            if func is None:
                raise ValueError(f"Function {task['func']} is not defined")
            result, success = func(*task["args"], **task["kwargs"]), True
        except Exception as exc:
            logger.exception("Record job %s failed", task.get("name"))
            result, success = f"{exc} : {traceback.format_exc()}", False
        task.update(result=result, success=success, stopped=timezone.now())
        try:
            save_task(task, self.broker)
        except Exception:
            logger.exception("Could not save the result of %s", task.get("name"))
        finally:
            connection.close()

    def reap(self) -> int:
        """Forget the jobs whose thread ended; how many are still running."""
        self.jobs = [job for job in self.jobs if job.is_alive()]
        return len(self.jobs)

    def offer(self) -> int:
        """Enqueue record jobs for rooms waiting for a slot, as many as slots are free; how many.
        A raised download_limit takes effect here, within a second."""
        waiting = Streamer.objects.filter(state=Streamer.State.WAITING, paused=False)
        if not waiting.exists():
            return 0
        now = timezone.now()
        busy = Streamer.objects.filter(
            state=Streamer.State.RECORDING,
            heartbeat__gt=now - lease.stale_after(),
        ).count()
        free = Configuration.load().download_limit - busy
        if free <= 0:
            return 0
        clock, offered = time.monotonic(), 0
        for streamer in waiting.order_by("state_changed", "pk"):
            if offered >= free:
                break
            if (
                clock - self.offered.get(streamer.pk, -REOFFER_SECONDS)
                < REOFFER_SECONDS
            ):
                continue
            streamer.enqueue_recording()
            self.offered[streamer.pk] = clock
            offered += 1
        return offered

    def stop(self, seconds: float) -> bool:
        """Stop every recording for a restart (segments closed, sessions left open) and wait up
        to `seconds` for them. True if all stopped in time."""
        asked = recording.stop_all()
        logger.info("Stopping %d recordings", asked)
        deadline = time.monotonic() + seconds
        for job in self.jobs:
            job.join(max(deadline - time.monotonic(), 0.0))
            # A recording that had just been taken may have started after stop_all().
            recording.stop_all()
        heartbeats.flush()
        return self.reap() == 0
