"""A segment's chat files (danmaku XML and ASS) beside the video: never uploaded as parts, and
deleted with the video after upload only when the template does not keep them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from biliup_site.models import Configuration
from recorder.models import RecordingFile
from tests.factories import (
    log_in_by_tv_qr,
    make_session,
    make_streamer,
    make_template,
    make_video,
)
from uploads import review, tasks, upload

pytestmark = pytest.mark.django_db


def test_chat_files_are_not_parts_and_go_with_the_video_unless_kept(
    fakebili: Any, recordings: Path, api: Any
) -> None:
    config = Configuration.load()
    config.delete_after_upload = Configuration.DeletePolicy.DELETE
    config.save()
    for n, keep in enumerate((True, False)):
        # An account each: the fake refuses a second submit too soon after the first.
        account = log_in_by_tv_qr(fakebili, mid=20000 + n)
        template = make_template(f"模板{n}", account=account, keep_danmaku=keep)
        assert (
            api.get(f"/api/v1/upload_streamers/{template.pk}").json()["keep_danmaku"]
            is keep
        )
        session = make_session(
            make_streamer(
                f"https://live.bilibili.com/{n + 1}", upload_template=template
            ),
            end_time=timezone.now(),
        )
        video = make_video(recordings, f"主播/seg{n}.flv", size=4096)
        xml, ass = video.with_suffix(".xml"), video.with_suffix(".ass")
        xml.write_text("<i></i>", encoding="utf-8")
        ass.write_text("[Script Info]", encoding="utf-8")
        segment = RecordingFile.objects.create(
            streamer_info=session,
            path=str(video),
            size=4096,
            danmaku_path=str(xml),
            danmaku_ass_path=str(ass),
            danmaku_counts={"danmaku": 0, "superchat": 0, "gift": 0, "guard": 0},
        )
        job = upload.add_segment(segment)
        assert job is not None
        upload.session_ended(session)
        tasks.upload(job.pk)
        job.refresh_from_db()
        assert job.status == "done", job.error
        assert [f.path for f in job.files.all()] == [str(video)]
        review.delete_files(job)
        assert not video.exists()
        assert (xml.exists(), ass.exists()) == (keep, keep)
