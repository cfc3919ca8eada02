from __future__ import annotations

from django.apps import AppConfig


class BiliupSiteConfig(AppConfig):
    name = "biliup_site"
    verbose_name = "Site"
