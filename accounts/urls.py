from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("setup/", views.setup, name="setup"),
    path("logout/", views.logout, name="logout"),
    path("accounts/", views.accounts, name="accounts"),
]
