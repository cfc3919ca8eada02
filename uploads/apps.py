from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"

    def ready(self) -> None:
        from recorder import signals

        signals.segment_closed.connect(_segment_closed, dispatch_uid="uploads.segment")
        signals.session_ended.connect(_session_ended, dispatch_uid="uploads.session")


def _segment_closed(sender: Any, file: Any, **kwargs: Any) -> None:
    from uploads import upload

    upload.add_segment(file)


def _session_ended(sender: Any, session: Any, **kwargs: Any) -> None:
    from uploads import upload

    upload.session_ended(session)
