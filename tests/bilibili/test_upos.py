"""The UPOS client alone, with no job or runner: preupload, init, chunk PUTs, complete, over
real HTTP to the fake Bilibili. The job's side (resume, retries, pauses) is tested through
tests/uploads/test_pipeline.py."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from biliup_site import bilibili
from biliup_site.bilibili import chunks, upos

MiB = 1024 * 1024


def send(credential: dict[str, Any], path: Path, threads: int = 2) -> upos.Session:
    size = path.stat().st_size
    with bilibili.session(credential) as sess:
        session = upos.preupload(sess, upos.line("bda2"), path.name, size)
    upload_id = upos.init(session)
    parts = chunks.split(size, session.chunk_size)
    acked: list[chunks.Part] = []
    chunks.send_parts(
        parts,
        upos.chunk_sender(session, upload_id, path, size, len(parts)),
        threads=threads,
        endpoints=chunks.Endpoints([session.endpoint]),
        retry_base=0.01,
        on_ack=acked.append,
    )
    assert sorted(p.number for p in acked) == [p.number for p in parts]
    upos.complete(session, path.name, upload_id, len(parts))
    return session


def test_a_file_sent_in_chunks_arrives_whole(fakebili: Any, tmp_path: Path) -> None:
    fakebili.configure_upos(chunk_size=1 * MiB)
    path = tmp_path / "stream.flv"
    data = os.urandom(3 * MiB + 12345)
    path.write_bytes(data)

    session = send(fakebili.login(), path)

    [arrived] = fakebili.upos_files()
    assert arrived["filename"] == upos.filename(session.upos_uri)
    assert arrived["md5"] == hashlib.md5(data).hexdigest()
    assert upos.line_name(session.endpoint) == "bda2"


def test_a_failed_chunk_is_reported_and_sent_again(
    fakebili: Any, tmp_path: Path
) -> None:
    fakebili.configure_upos(chunk_size=1 * MiB)
    fakebili.set_upos_faults(fail_parts=[2], status=503)
    path = tmp_path / "stream.flv"
    data = os.urandom(3 * MiB)
    path.write_bytes(data)
    size = len(data)
    with bilibili.session(fakebili.login()) as sess:
        session = upos.preupload(sess, upos.line("bda2"), path.name, size)
    upload_id = upos.init(session)
    parts = chunks.split(size, session.chunk_size)
    failures: list[tuple[int, bool]] = []

    chunks.send_parts(
        parts,
        upos.chunk_sender(session, upload_id, path, size, len(parts)),
        threads=1,
        endpoints=chunks.Endpoints([session.endpoint]),
        retry_base=0.01,
        on_ack=lambda part: None,
        on_failure=lambda part, exc, switched: failures.append(
            (part.number, exc.retry)
        ),
    )
    upos.complete(session, path.name, upload_id, len(parts))

    assert failures == [(2, True)]
    [arrived] = fakebili.upos_files()
    assert arrived["md5"] == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("style", ["601", "406"])
def test_a_throttled_preupload_raises_rate_limited(fakebili: Any, style: str) -> None:
    fakebili.upos_rate_limit(times=1, style=style)
    with (
        bilibili.session(fakebili.login()) as sess,
        pytest.raises(upos.RateLimited),
    ):
        upos.preupload(sess, upos.line("bda2"), "a.flv", 1024)


def test_preupload_without_a_login_is_bilibilis_refusal(fakebili: Any) -> None:
    with bilibili.session({}) as sess, pytest.raises(bilibili.BilibiliError) as raised:
        upos.preupload(sess, upos.line("bda2"), "a.flv", 1024)
    assert raised.value.expired_credential


# The UPOS hosts (bilibili-2026.md: endpoints shaped like the real ones) and the host setting


def test_without_the_host_setting_the_real_upload_hosts_are_used(settings: Any) -> None:
    settings.BILIBILI_UPOS_URL = ""
    endpoint = "//upos-cs-upcdnbda2.bilivideo.com"
    assert upos.upos_url(endpoint, "/ugcfx2lf/n1.flv") == (
        "https://upos-cs-upcdnbda2.bilivideo.com/ugcfx2lf/n1.flv"
    )
    settings.BILIBILI_UPOS_URL = "http://127.0.0.1:8500"
    assert upos.upos_url(endpoint, "/OK") == (
        "http://127.0.0.1:8500/upos-cs-upcdnbda2.bilivideo.com/OK"
    )


def test_the_chosen_line_is_reached_through_the_host_setting(
    fakebili: Any, tmp_path: Path
) -> None:
    fakebili.configure_upos(chunk_size=1 * MiB)
    path = tmp_path / "stream.flv"
    path.write_bytes(os.urandom(2 * MiB + 1))
    size = path.stat().st_size
    with bilibili.session(fakebili.login()) as sess:
        session = upos.preupload(sess, upos.line("txa"), path.name, size)
    assert session.endpoint == "//upos-cs-upcdntxa.bilivideo.com"
    assert upos.line_name(session.endpoint) == "txa"
    assert session.url().startswith(f"{fakebili.url}/upos-cs-upcdntxa.bilivideo.com/")
    upload_id = upos.init(session)
    parts = chunks.split(size, session.chunk_size)
    # One chunk over the second line preupload offered, as a failover would send it.
    sender = upos.chunk_sender(session, upload_id, path, size, len(parts))
    sender(parts[0], session.endpoints[1])
    chunks.send_parts(
        parts[1:],
        sender,
        threads=2,
        endpoints=chunks.Endpoints([session.endpoint]),
        retry_base=0.01,
        on_ack=lambda part: None,
    )
    upos.complete(session, path.name, upload_id, len(parts))

    [sent] = fakebili.upos_uploads()
    other = upos.line_name(session.endpoints[1])
    assert other != "txa"
    assert sent["puts_by_line"] == {"txa": 2, other: 1}
    assert sent["complete"]


def test_auto_times_the_real_probe_hosts_through_the_host_setting(
    fakebili: Any,
) -> None:
    upos._auto.clear()
    fakebili.set_upos_line("bda2", probe_delay=0.5)
    try:
        with bilibili.session({}) as sess:
            chosen = upos.fastest_line(sess)
    finally:
        upos._auto.clear()
    assert chosen.name != "bda2"
    assert chosen.probe_url == f"//upos-cs-upcdn{chosen.name}.bilivideo.com/OK"


# The hourly budget (rule "preupload_budget"): HTTP 406, or 601


def test_the_21st_preupload_in_an_hour_raises_rate_limited(fakebili: Any) -> None:
    with bilibili.session(fakebili.login()) as sess:
        for _ in range(20):
            upos.preupload(sess, upos.line("bda2"), "a.flv", 1024)
        with pytest.raises(upos.RateLimited) as raised:
            upos.preupload(sess, upos.line("bda2"), "a.flv", 1024)
        assert "您上传视频过快" in raised.value.message
        fakebili.set_rules(preupload_budget=False)
        upos.preupload(sess, upos.line("bda2"), "a.flv", 1024)


def test_a_406_without_a_json_body_is_still_a_rate_limit(fakebili: Any) -> None:
    fakebili.inject("/preupload", "http_status", status=406, body="Not Acceptable")
    with (
        bilibili.session(fakebili.login()) as sess,
        pytest.raises(upos.RateLimited) as raised,
    ):
        upos.preupload(sess, upos.line("bda2"), "a.flv", 1024)
    assert "HTTP 406" in raised.value.message
