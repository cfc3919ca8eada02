from __future__ import annotations

from django.urls import path

from creators import views

urlpatterns = [
    path("creators/", views.creators, name="creators"),
    path("creators/follow", views.follow_creator, name="creators-follow"),
    path("creators/<int:uid>/", views.creator_detail, name="creators-detail"),
    path("creators/<int:uid>/row", views.creator_row, name="creators-row"),
    path("creators/<int:uid>/edit", views.edit_creator, name="creators-edit"),
    path("creators/<int:uid>/refresh", views.refresh_creator, name="creators-refresh"),
    path(
        "creators/<int:uid>/unfollow", views.unfollow_creator, name="creators-unfollow"
    ),
]
