from __future__ import annotations

from django.contrib import admin

from uploads.models import UploadChunk, UploadFile, UploadJob, UploadTemplate


@admin.register(UploadTemplate)
class UploadTemplateAdmin(admin.ModelAdmin):
    list_display = ("template_name", "title", "tid", "account", "submit_api", "updated")
    search_fields = ("template_name", "title")


class UploadFileInline(admin.TabularInline):
    model = UploadFile
    extra = 0
    fields = (
        "position",
        "path",
        "size",
        "bytes_done",
        "status",
        "line",
        "remote_filename",
        "error",
    )
    readonly_fields = fields


@admin.register(UploadJob)
class UploadJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "streamer",
        "account",
        "bytes_done",
        "bytes_total",
        "bvid",
        "created",
    )
    list_filter = ("status",)
    search_fields = ("bvid", "error")
    readonly_fields = (
        "heartbeat",
        "created",
        "updated",
        "started",
        "finished",
        "submit_started",
        "attempts",
    )
    inlines = [UploadFileInline]


@admin.register(UploadFile)
class UploadFileAdmin(admin.ModelAdmin):
    list_display = ("path", "job", "status", "bytes_done", "size")
    list_filter = ("status",)


@admin.register(UploadChunk)
class UploadChunkAdmin(admin.ModelAdmin):
    list_display = ("file", "part_number", "start", "end", "acked")
