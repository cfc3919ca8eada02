from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


class UploadsConfig(AppConfig):
    name = "uploads"

    def ready(self) -> None:
        from recorder import signals

        signals.segment_closed.connect(_segment_closed, dispatch_uid="uploads.segment")
        signals.session_ended.connect(_session_ended, dispatch_uid="uploads.session")
        post_save.connect(
            _account_saved,
            sender="accounts.BilibiliAccount",
            dispatch_uid="uploads.account",
        )


def _account_saved(
    sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any
) -> None:
    from uploads.models import UploadTemplate

    if update_fields is not None and not {"value", "mid"} & set(update_fields):
        return
    UploadTemplate.objects.link_account(instance)


def _segment_closed(sender: Any, file: Any, **kwargs: Any) -> None:
    from uploads import upload

    upload.add_segment(file)


def _session_ended(sender: Any, session: Any, **kwargs: Any) -> None:
    from uploads import upload

    upload.session_ended(session)
