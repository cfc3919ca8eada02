from __future__ import annotations

from django.urls import path

from recorder import views

urlpatterns = [
    path("streamers/", views.streamers, name="streamers"),
    path("recordings/", views.recordings, name="recordings"),
]
