from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from biliup_site.models import Configuration


@admin.register(Configuration)
class ConfigurationAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "lines",
        "threads",
        "download_limit",
        "upload_limit",
        "updated",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Configuration.objects.exists()

    def has_delete_permission(
        self, request: HttpRequest, obj: Configuration | None = None
    ) -> bool:
        return False
