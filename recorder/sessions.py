"""Recorded live sessions as the recordings page shows them: totals, gaps and uploads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from django.db.models import FloatField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from recorder.models import RecordingFile, Streamer, StreamerInfo
from uploads.models import UploadFile, UploadJob


def recorded() -> QuerySet[StreamerInfo]:
    """Every session, newest first, with total_size and total_duration of its segments, the
    segments, and its streamer (if not deleted) ready for the streamer-state partial."""
    return (
        StreamerInfo.objects.annotate(
            total_size=Coalesce(Sum("files__size"), 0),
            total_duration=Coalesce(
                Sum("files__duration"), Value(0.0), output_field=FloatField()
            ),
        )
        # Meta.ordering is not applied to a query with aggregates: say it again.
        .order_by("-start_time", "-id")
        .prefetch_related(
            "files",
            Prefetch(
                "streamer",
                queryset=Streamer.objects.with_upload_status().select_related(
                    "upload_template"
                ),
            ),
        )
    )


def gap_seconds(gaps: Any) -> float:
    """Seconds lost in a `gaps` list ([{"start": iso, "seconds": n}]); bad entries count 0."""
    if not isinstance(gaps, list):
        return 0.0
    return sum(
        float(gap["seconds"])
        for gap in gaps
        if isinstance(gap, dict) and isinstance(gap.get("seconds"), int | float)
    )


def describe(sessions: Iterable[StreamerInfo]) -> None:
    """Give each session `gap_seconds`, and each of its segments its file `name`, `gap_seconds`
    and `upload_jobs`: the jobs holding the segment, linked by the recorder or the recordings page,
    or naming its path (POST /uploads), newest first."""
    segments: list[RecordingFile] = []
    for session in sessions:
        session.gap_seconds = gap_seconds(session.gaps)  # type: ignore[attr-defined]
        for segment in session.files.all():
            segment.name = PurePath(segment.path).name  # type: ignore[attr-defined]
            segment.gap_seconds = gap_seconds(segment.gaps)  # type: ignore[attr-defined]
            segment.upload_jobs = []  # type: ignore[attr-defined]
            segments.append(segment)
    if not segments:
        return
    by_pk = {segment.pk: segment for segment in segments}
    by_path: dict[str, list[RecordingFile]] = defaultdict(list)
    for segment in segments:
        by_path[segment.path].append(segment)
    rows = (
        UploadFile.objects.filter(
            Q(recording_file__in=segments) | Q(path__in=list(by_path))
        )
        .select_related("job")
        .order_by("-job_id")
    )
    for row in rows:
        if row.recording_file_id in by_pk:
            holders = [by_pk[row.recording_file_id]]
        else:
            holders = by_path.get(row.path, [])
        for segment in holders:
            jobs: list[UploadJob] = segment.upload_jobs  # type: ignore[attr-defined]
            if row.job not in jobs:
                jobs.append(row.job)
