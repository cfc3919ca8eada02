from __future__ import annotations

from django.urls import path

from uploads import views

urlpatterns = [
    path("uploads/", views.uploads, name="uploads"),
    path("uploads/<int:pk>/retry", views.retry, name="uploads-retry"),
    path("uploads/<int:pk>/cancel", views.cancel, name="uploads-cancel"),
    path("templates/", views.templates, name="templates"),
]
