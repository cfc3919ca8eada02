from __future__ import annotations

from django.urls import path

from recorder import views

urlpatterns = [
    path("streamers/", views.streamers, name="streamers"),
    path("streamers/add", views.add_streamer, name="streamers-add"),
    path("streamers/<int:pk>/", views.streamer_row, name="streamers-row"),
    path("streamers/<int:pk>/edit", views.edit_streamer, name="streamers-edit"),
    path("streamers/<int:pk>/pause", views.pause_streamer, name="streamers-pause"),
    path("streamers/<int:pk>/delete", views.delete_streamer, name="streamers-delete"),
    path("recordings/", views.recordings, name="recordings"),
    path(
        "recordings/files/<int:pk>/download",
        views.download,
        name="recordings-download",
    ),
    path(
        "recordings/files/<int:pk>/danmaku.<str:kind>",
        views.download_danmaku,
        name="recordings-danmaku",
    ),
    path("recordings/upload", views.upload, name="recordings-upload"),
]
