from __future__ import annotations

from pathlib import Path
from typing import Any

from accounts.models import BilibiliAccount
from recorder.models import RecordingFile, Streamer, StreamerInfo
from uploads.models import UploadTemplate


def make_account(value: str = "cookies.json", **overrides: Any) -> BilibiliAccount:
    return BilibiliAccount.objects.create(value=value, **overrides)


def make_template(template_name: str = "默认模板", **overrides: Any) -> UploadTemplate:
    fields: dict[str, Any] = {
        "title": "{title}",
        "tid": 171,
        "tags": ["游戏", "直播录像"],
    }
    return UploadTemplate.objects.create(
        template_name=template_name, **(fields | overrides)
    )


def make_streamer(
    url: str = "https://live.bilibili.com/123456", **overrides: Any
) -> Streamer:
    return Streamer.objects.create(url=url, **({"remark": "主播"} | overrides))


def make_session(
    streamer: Streamer | None = None, files: int = 0, **overrides: Any
) -> StreamerInfo:
    session = StreamerInfo.objects.create(
        streamer=streamer,
        **(
            {
                "name": "主播",
                "url": streamer.url if streamer else "https://live.bilibili.com/1",
                "title": "直播标题",
            }
            | overrides
        ),
    )
    for i in range(files):
        RecordingFile.objects.create(
            streamer_info=session,
            path=f"/rec/part{i}.flv",
            size=1000 + i,
            duration=10.0,
        )
    return session


def make_video(root: Path, name: str = "seg.flv", size: int = 1024) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"FLV\x01" + b"\0" * (size - 4))
    return path


def log_in_by_tv_qr(fake: Any, mid: int | None = None) -> BilibiliAccount:
    """A Bilibili account stored the way a user gets one: a TV QR login confirmed on the fake."""
    from accounts import login

    started = login.start()
    fake.confirm_qr(started.key, mid=mid)
    done = login.advance(started)
    assert done.account is not None, done.status
    return done.account
