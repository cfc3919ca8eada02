"""Site users signing in and the first one signing up: one set of rules for the API and the pages."""

from __future__ import annotations

import math
import unicodedata

from django.contrib import auth
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import throttle
from accounts.models import LoginFailure
from biliup_site.http import client_ip


class SignInRefused(Exception):
    """Wrong credentials, a lockout, or registration closed; status is the API's answer."""

    def __init__(
        self, message: str, status: int, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def canonical_username(username: str) -> str:
    """The name as stored: NFKC, as Django's create_user keeps it, so "\uff41dmin" is "admin"."""
    return unicodedata.normalize("NFKC", username).strip()


def username_taken(username: str) -> bool:
    """Names are unique up to NFKC and case: "Admin" and "\uff41dmin" are both taken by "admin"."""
    folded = canonical_username(username).casefold()
    # In Python: SQLite's iexact folds ASCII only. A site has a handful of users.
    return any(
        canonical_username(name).casefold() == folded
        for name in User.objects.values_list("username", flat=True).iterator()
    )


def sign_in(request: HttpRequest, username: str, password: str) -> User:
    """Log the user into this request's session, within the login limit (accounts/throttle)."""
    name = canonical_username(username)
    ip = client_ip(request) or ""
    try:
        attempt = throttle.begin(name, ip)
    except throttle.Throttled as exc:
        if exc.locked:
            message = _("Too many failed logins: try again in %(minutes)s minutes") % {
                "minutes": math.ceil(exc.retry_after / 60)
            }
        else:
            message = _(
                "Too many failed logins for this name: try again in %(seconds)s seconds"
            ) % {"seconds": exc.retry_after}
        raise SignInRefused(message, 429, retry_after=exc.retry_after) from None
    user = auth.authenticate(request, username=name, password=password)
    if user is None:
        LoginFailure.objects.create(username=name[:150], ip=ip or None)
        raise SignInRefused(_("Wrong username or password"), 401)
    auth.login(request, user)
    throttle.succeeded(attempt, user)
    LoginFailure.objects.filter(username=name, ip=ip or None).delete()
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
        if username_taken(username):
            raise SignInRefused(_("That username is taken."), 400)
        try:
            # Two registrations of one name in parallel: the database's unique index decides.
            with transaction.atomic():
                user = User.objects.create_user(
                    canonical_username(username),
                    password=password,
                    is_staff=first,
                    is_superuser=first,
                )
        except IntegrityError:
            raise SignInRefused(_("That username is taken."), 400) from None
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
