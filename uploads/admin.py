from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from uploads import upload
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
        "retries",
        "remote_filename",
        "submitted",
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
        "worker",
    )
    inlines = [UploadFileInline]
    actions = ["retry_jobs", "cancel_jobs"]

    @admin.action(description="Retry the selected failed or cancelled jobs")
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[UploadJob]) -> None:
        self._each(request, queryset, upload.retry, "queued again")

    @admin.action(description="Cancel the selected jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[UploadJob]) -> None:
        self._each(request, queryset, upload.cancel, "cancelled")

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[UploadJob],
        action: Callable[[UploadJob], UploadJob],
        done: str,
    ) -> None:
        count = 0
        for job in queryset:
            try:
                action(job)
                count += 1
            except ValueError as exc:
                self.message_user(request, f"Job {job.pk}: {exc}", messages.WARNING)
        if count:
            self.message_user(request, f"{count} job(s) {done}.")


@admin.register(UploadFile)
class UploadFileAdmin(admin.ModelAdmin):
    list_display = ("path", "job", "status", "bytes_done", "size")
    list_filter = ("status",)


@admin.register(UploadChunk)
class UploadChunkAdmin(admin.ModelAdmin):
    list_display = ("file", "part_number", "start", "end", "acked")
