"""The upload speed cap over real HTTP: a job sent by a worker thread to the fake's UPOS through
bench/wan.py's proxy (here only a byte counter: no delay, no cap of its own), while the cap is
changed through the configuration API. The bytes the proxy carried per second are measured."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.wan import WanProxy
from biliup_site.models import Configuration
from tests.conftest import JsonClient
from tests.factories import log_in_by_tv_qr, make_template
from tests.uploads.test_pipeline import control, random_file, uploaded
from uploads import limits, tasks, upload
from uploads.models import UploadJob

MiB = 1024 * 1024


class Meter:
    """The proxy's upstream bytes, sampled in a thread: (monotonic time, bytes) pairs."""

    def __init__(self, proxy: WanProxy) -> None:
        self.proxy = proxy
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            up = sum(c.up for c in self.proxy.connections())
            self.samples.append((time.monotonic(), up))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def up(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def rate(self, seconds: float) -> float:
        """MiB/s over the last `seconds` sampled."""
        end_t, end_up = self.samples[-1]
        start_t, start_up = next(
            (t, b) for t, b in reversed(self.samples) if end_t - t >= seconds
        )
        return (end_up - start_up) / (end_t - start_t) / MiB

    def measure(self, seconds: float) -> float:
        """MiB/s over the next `seconds`."""
        start_t, start_up = self.samples[-1]
        wait_until(lambda: self.samples[-1][0] - start_t >= seconds, seconds + 10)
        end_t, end_up = self.samples[-1]
        return (end_up - start_up) / (end_t - start_t) / MiB


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def set_cap(api: JsonClient, kib: int) -> None:
    r = api.put("/api/v1/configuration", {"upload_rate_limit": kib})
    assert r.status_code == 200, r.content


@pytest.fixture
def meter(
    fakebili: Any, api: JsonClient, settings: Any, monkeypatch: Any
) -> Iterator[Meter]:
    """UPOS through the counting proxy, 1 MiB chunks, 2 threads, a cap of 4 MiB/s; upload
    jobs are not queued (the test's threads are the workers)."""
    control(fakebili, "upos/config", {"chunk_size": 1 * MiB})
    proxy = WanProxy(fakebili.url, rtt_ms=0, conn_mibs=10_000, line_mibs=10_000)
    proxy.start()
    settings.BILIBILI_UPOS_URL = proxy.url
    Configuration.objects.filter(pk=1).update(lines="bda2", threads=2)
    set_cap(api, 4096)
    monkeypatch.setattr(UploadJob, "enqueue", lambda self: None)
    meter = Meter(proxy)
    yield meter
    # A test that failed midway leaves its workers sending: cancelled, they stop in a second.
    UploadJob.objects.exclude(status__in=UploadJob.FINISHED).update(
        status=UploadJob.Status.CANCELLED
    )
    for thread in threading.enumerate():
        if thread.name == WORKER:
            thread.join(10)
    meter.stop()
    proxy.stop()


WORKER = "test-upload-worker"


def start(job: UploadJob) -> threading.Thread:
    worker = threading.Thread(target=tasks.upload, args=(job.pk,), name=WORKER)
    worker.start()
    return worker


@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_while_it_is_changed_mid_upload(
    fakebili: Any, recordings: Path, api: JsonClient, meter: Meter
) -> None:
    template = make_template(tags=["录播"], account=log_in_by_tv_qr(fakebili))
    path = recordings / "capped.flv"
    md5 = random_file(path, 40 * MiB)
    job = upload.create_job([path], template, template=template)
    worker = start(job)
    wait_until(lambda: meter.up >= 2 * MiB, 30)

    at_four = meter.measure(4)
    # The row says what holds it once its speed is near the cap (a loaded machine may take
    # longer to get there).
    wait_until(lambda: UploadJob.objects.get(pk=job.pk).limited_by == limits.CAP, 20)
    row = UploadJob.objects.get(pk=job.pk).to_dict()

    set_cap(api, 1024)
    wait_until(lambda: meter.rate(1.0) < 1.5, 10)
    at_one = meter.measure(4)

    set_cap(api, 0)
    worker.join(60)
    assert not worker.is_alive()
    # Within the bucket's quarter second and the sampling, over 4 s; a starved machine may
    # send less, never more.
    assert 4 * 0.6 <= at_four <= 4 * 1.1, at_four
    assert 1 * 0.6 <= at_one <= 1 * 1.1, at_one
    assert row["limited_by"] == limits.CAP and row["connections"] >= 1, row
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert (job.connections, job.limited_by) == (0, "")
    assert uploaded(fakebili)[job.files.get().remote_filename]["md5"] == md5


@pytest.mark.django_db(transaction=True)
def test_two_uploads_share_the_cap(
    fakebili: Any, recordings: Path, api: JsonClient, meter: Meter
) -> None:
    jobs, md5s = [], []
    # Two accounts: Bilibili refuses a second submit within 30 s from one as too frequent.
    for name, mid in (("one.flv", 1001), ("two.flv", 1002)):
        account = log_in_by_tv_qr(fakebili, mid=mid)
        template = make_template(name, tags=["录播"], account=account)
        path = recordings / name
        md5s.append(random_file(path, 24 * MiB))
        jobs.append(upload.create_job([path], template, template=template))
    workers = [start(job) for job in jobs]

    def done(job: UploadJob) -> int:
        return UploadJob.objects.get(pk=job.pk).bytes_done

    # Both sending (each has had chunks acknowledged), then 4 s of both together.
    wait_until(lambda: all(done(job) >= 2 * MiB for job in jobs), 30)
    before = [done(job) for job in jobs]
    together = meter.measure(4)
    after = [done(job) for job in jobs]
    set_cap(api, 0)
    for worker in workers:
        worker.join(60)

    assert 4 * 0.6 <= together <= 4 * 1.1, together
    # Neither starves the other: each moved at least a quarter of the cap's share.
    moved = [(a - b) / 4 / MiB for a, b in zip(after, before, strict=True)]
    assert min(moved) >= 0.5, moved
    for job, md5 in zip(jobs, md5s, strict=True):
        job.refresh_from_db()
        assert job.status == "done", job.error
        assert uploaded(fakebili)[job.files.get().remote_filename]["md5"] == md5
