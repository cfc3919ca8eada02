from __future__ import annotations

from django.contrib import admin
from django.db import models

from recorder.models import RecordingFile, Streamer, StreamerInfo


@admin.register(Streamer)
class StreamerAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "__str__",
        "url",
        "upload_template",
        "state",
        "paused",
        "split_time",
        "split_size",
    )
    list_filter = ("state", "paused")
    search_fields = ("url", "remark")
    readonly_fields = (
        "state",
        "state_detail",
        "state_changed",
        "live_title",
        "live_cover",
        "live_area",
        "live_parent_area",
        "live_online",
        "live_seen",
        "created",
        "updated",
    )


class RecordingFileInline(admin.TabularInline):
    model = RecordingFile
    extra = 0


@admin.register(StreamerInfo)
class StreamerInfoAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "start_time", "end_time", "streamer")
    list_filter = ("streamer",)
    search_fields = ("name", "title", "url")
    date_hierarchy = "start_time"
    inlines = [RecordingFileInline]


@admin.register(RecordingFile)
class RecordingFileAdmin(admin.ModelAdmin):
    list_display = ("path", "size", "duration", "streamer_info", "created")
    search_fields = ("path",)
