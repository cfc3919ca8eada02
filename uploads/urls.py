from __future__ import annotations

from django.urls import path

from uploads import views

urlpatterns = [
    path("uploads/", views.uploads, name="uploads"),
    path("uploads/<int:pk>/retry", views.retry, name="uploads-retry"),
    path("uploads/<int:pk>/cancel", views.cancel, name="uploads-cancel"),
    path("creators/", views.creators, name="creators"),
    path("creators/follow", views.follow_creator, name="creators-follow"),
    path("creators/<int:uid>/", views.creator_detail, name="creators-detail"),
    path("creators/<int:uid>/row", views.creator_row, name="creators-row"),
    path("creators/<int:uid>/edit", views.edit_creator, name="creators-edit"),
    path("creators/<int:uid>/refresh", views.refresh_creator, name="creators-refresh"),
    path(
        "creators/<int:uid>/unfollow", views.unfollow_creator, name="creators-unfollow"
    ),
    path("templates/", views.templates, name="templates"),
    path("templates/new", views.template_new, name="templates-new"),
    path(
        "templates/categories", views.template_categories, name="templates-categories"
    ),
    path("templates/<int:pk>/", views.template_edit, name="templates-edit"),
    path("templates/<int:pk>/delete", views.template_delete, name="templates-delete"),
]
