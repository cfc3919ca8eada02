from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from biliup_site.models import Configuration, Delivery, Event, Hook


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


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created", "kind", "key", "summary")
    list_filter = ("kind",)
    search_fields = ("key", "summary")
    readonly_fields = ("uuid",)


@admin.register(Hook)
class HookAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "enabled", "allow_private", "created")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    # An apprise URL holds the service's token and the secret signs webhooks: neither is
    # shown. Hooks are made on the Settings page, which checks their URLs.
    exclude = ("url", "secret")
    readonly_fields = ("shown_url", "created")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "hook",
        "status",
        "attempts",
        "last_try",
        "response_status",
        "error",
    )
    list_filter = ("status", "hook")
    list_select_related = ("event", "hook")
    raw_id_fields = ("event", "hook")
