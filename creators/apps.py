from __future__ import annotations

from django.apps import AppConfig


class CreatorsConfig(AppConfig):
    name = "creators"
