from __future__ import annotations

from django.urls import path

from uploads import views

urlpatterns = [
    path("uploads/", views.uploads, name="uploads"),
    path("uploads/<int:pk>/retry", views.retry, name="uploads-retry"),
    path("uploads/<int:pk>/cancel", views.cancel, name="uploads-cancel"),
    path("templates/", views.templates, name="templates"),
    path("templates/new", views.template_new, name="templates-new"),
    path(
        "templates/categories", views.template_categories, name="templates-categories"
    ),
    path("templates/<int:pk>/", views.template_edit, name="templates-edit"),
    path("templates/<int:pk>/delete", views.template_delete, name="templates-delete"),
]
