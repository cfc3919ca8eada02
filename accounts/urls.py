from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("setup/", views.setup, name="setup"),
    path("logout/", views.logout, name="logout"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/qr", views.accounts_qr, name="accounts-qr"),
    path("accounts/qr/<str:key>", views.accounts_qr_poll, name="accounts-qr-poll"),
    path("accounts/import", views.accounts_import, name="accounts-import"),
    path("accounts/<int:pk>/check", views.accounts_check, name="accounts-check"),
    path("accounts/<int:pk>/budget", views.accounts_budget, name="accounts-budget"),
    path("accounts/<int:pk>/export", views.accounts_export, name="accounts-export"),
    path("accounts/<int:pk>/delete", views.accounts_delete, name="accounts-delete"),
]
