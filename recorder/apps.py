from __future__ import annotations

from django.apps import AppConfig


class RecorderConfig(AppConfig):
    name = "recorder"
