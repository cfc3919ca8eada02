from __future__ import annotations

from django.contrib import admin
from django.db import models

from accounts.models import ApiToken, BilibiliAccount, LoginFailure, QrLogin


@admin.register(BilibiliAccount)
class BilibiliAccountAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("value", "uname", "mid", "status", "expires_at", "checked_at")
    list_filter = ("status",)
    search_fields = ("value", "uname", "mid")
    # The credential is a secret: it can be replaced by import or QR login, never shown.
    exclude = ("credential",)
    readonly_fields = ("platform", "created", "updated")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "last_used")
    readonly_fields = ("prefix", "created", "last_used")
    exclude = ("key_hash",)

    def has_add_permission(self, request: object) -> bool:
        # A token's secret is shown once on creation: use POST /api/v1/tokens or `manage.py apitoken`.
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ("username", "ip", "created")
    readonly_fields = ("username", "ip", "created")


@admin.register(QrLogin)
class QrLoginAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "status", "account", "created")
    list_filter = ("kind", "status")
    readonly_fields = ("key", "kind", "url", "status", "account", "created", "updated")
