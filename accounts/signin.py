"""Site users signing in and the first one signing up: one set of rules for the API and the pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import LoginFailure
from biliup_site.http import client_ip


class SignInRefused(Exception):
    """Wrong credentials, a lockout, or registration closed; status is the API's answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def sign_in(request: HttpRequest, username: str, password: str) -> User:
    """Log the user into this request's session, counting failures per name and address."""
    ip = client_ip(request)
    if LoginFailure.objects.recent(username, ip) >= settings.LOGIN_MAX_FAILURES:
        minutes = settings.LOGIN_LOCKOUT_SECONDS // 60
        raise SignInRefused(
            _("Too many failed logins: try again in %(minutes)s minutes")
            % {"minutes": minutes},
            429,
        )
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        LoginFailure.objects.create(username=username, ip=ip)
        raise SignInRefused(_("Wrong username or password"), 401)
    auth.login(request, user)
    LoginFailure.objects.filter(username=username).delete()
    LoginFailure.objects.prune()
    return user


def register(request: HttpRequest, username: str, password: str) -> User:
    """The first user bootstraps the site as its admin and is logged in; later ones need an admin."""
    with transaction.atomic():
        first = not User.objects.exists()
        if not first and not (
            request.user.is_authenticated and request.user.is_superuser
        ):
            raise SignInRefused(
                _(
                    "An admin account exists already: log in, or ask the admin to add you"
                ),
                403,
            )
        user = User.objects.create_user(
            username, password=password, is_staff=first, is_superuser=first
        )
    if first:
        auth.login(request, user)
    return user


def password_warning(user: User, password: str) -> str:
    """Why this password is weak and where to change it; "" for a good one.

    Weak passwords are accepted, as biliup accepts any (and the REST document's own example is
    "password123"), so the warning is all that stands between them and a public port: it is
    given at registration and at every login until the password changes.
    """
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        reasons = " ".join(exc.messages)
    else:
        return ""
    if user.is_staff:
        return _(
            "Weak password (%(reasons)s) Anyone who guesses it controls this site: change it at %(url)s."
        ) % {"reasons": reasons, "url": reverse("admin:password_change")}
    return _(
        "Weak password (%(reasons)s) Anyone who guesses it can use this site: ask the admin to change it."
    ) % {"reasons": reasons}
