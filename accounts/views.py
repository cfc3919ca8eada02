"""Pages: signing in, the first-run setup, and (below) the Bilibili accounts."""

from __future__ import annotations

from django import forms
from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import signin
from accounts.forms import LoginForm, RegisterForm
from biliup_site.pages import render_page


def _next_url(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}
    ):
        return value
    return reverse("dashboard")


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if not User.objects.exists():
        return redirect("setup")
    form = LoginForm(request.POST or None, initial={"next": request.GET.get("next")})
    if request.method == "POST" and form.is_valid():
        try:
            signin.sign_in(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except signin.SignInRefused as exc:
            form.add_error(None, exc.message)
        else:
            return HttpResponseRedirect(_next_url(request, form.cleaned_data["next"]))
    form.fields["next"].widget = forms.HiddenInput()
    form.fields["password"].widget = forms.PasswordInput()
    return render(request, "accounts/login.html", {"form": form})


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """The first run: make the admin account. Closed once any user exists."""
    if User.objects.exists():
        return redirect("login")
    form = RegisterForm(request.POST or None)
    form.fields["password"].widget = forms.PasswordInput()
    form.fields["password"].help_text = _("At least 8 characters, not a common one.")
    if request.method == "POST" and form.is_valid():
        try:
            signin.register(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except signin.SignInRefused as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("dashboard")
    return render(request, "accounts/setup.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("login")


@require_GET
@login_required
def accounts(request: HttpRequest) -> HttpResponse:
    return render_page(request, "accounts/accounts.html", {})
