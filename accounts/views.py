"""Pages: signing in, the first-run setup, and (below) the Bilibili accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from django import forms
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import (
    content_disposition_header,
    url_has_allowed_host_and_scheme,
)
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from accounts import cookiefile, credentials, health, signin
from accounts import login as qr_login
from accounts.forms import LoginForm, RegisterForm
from accounts.models import BilibiliAccount, QrLogin, account_name_validator
from biliup_site import bilibili_messages, rate_schedule
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from biliup_site.http import HtmxHttpRequest
from biliup_site.pages import render_page


def _next_url(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}
    ):
        return value
    return reverse("dashboard")


def _warn_if_weak(request: HttpRequest, user: User, password: str) -> None:
    if warning := signin.password_warning(user, password):
        messages.warning(request, warning)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if not User.objects.exists():
        return redirect("setup")
    form = LoginForm(request.POST or None, initial={"next": request.GET.get("next")})
    if request.method == "POST" and form.is_valid():
        try:
            user = signin.sign_in(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except signin.SignInRefused as exc:
            form.add_error(None, exc.message)
        else:
            _warn_if_weak(request, user, form.cleaned_data["password"])
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
    form.fields["password"].help_text = _(
        "Use at least 8 characters, not a common password: a weaker one is accepted, with a warning."
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = signin.register(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except signin.SignInRefused as exc:
            form.add_error(None, exc.message)
        else:
            _warn_if_weak(request, user, form.cleaned_data["password"])
            return redirect("dashboard")
    return render(request, "accounts/setup.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("login")


# The Bilibili accounts page ------------------------------------------------------------------

# A cookies.json is a few kilobytes; the data-folder reader refuses more than this too.
MAX_COOKIES_BYTES = 1024 * 1024
# The QR code is drawn about this wide (px); .qr then fits it to its box.
QR_PIXELS = 220


class ImportForm(forms.Form):
    """A biliup cookies.json, uploaded or pasted, and the name to keep it under."""

    file = forms.FileField(required=False, label=gettext_lazy("cookies.json file"))
    text = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        label=gettext_lazy("…or paste its content"),
    )
    name = forms.CharField(
        required=False,
        max_length=100,
        validators=[account_name_validator],
        label=gettext_lazy("Account name"),
        help_text=gettext_lazy(
            "Optional: by default the file's name, or cookies.json. An account of that name gets the new credential."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            field, text = "file", self._read(upload)
        elif (cleaned.get("text") or "").strip():
            field, text = "text", cleaned["text"]
        else:
            raise ValidationError(_("Choose a cookies.json file or paste its content."))
        if text is not None:
            try:
                cleaned["document"] = credentials.parse(text)
            except credentials.CredentialError as exc:
                self.add_error(field, _("This is %(problem)s.") % {"problem": exc})
        if "name" in cleaned and not cleaned["name"]:
            cleaned["name"] = upload.name if upload is not None else "cookies.json"
            try:
                account_name_validator(cleaned["name"])
            except ValidationError:
                self.add_error(
                    "name",
                    _("The file's name cannot be an account name: give one here."),
                )
        return cleaned

    def _read(self, upload: Any) -> str | None:
        if upload.size > MAX_COOKIES_BYTES:
            self.add_error("file", _("The file is larger than 1 MB."))
            return None
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            self.add_error("file", _("This is not a text file."))
            return None


def _row(account: BilibiliAccount, now: datetime) -> BilibiliAccount:
    """What the row shows beyond the model: whole days left and whether uploads wait."""
    account.days_left = (  # type: ignore[attr-defined]
        (account.expires_at - now).days if account.expires_at else None
    )
    account.paused = bool(  # type: ignore[attr-defined]
        account.uploads_paused_until and account.uploads_paused_until > now
    )
    return account


def _accounts_context(**extra: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "accounts": [_row(a, now) for a in BilibiliAccount.objects.all()],
        "now": now,
        "import_form": ImportForm(),
        "login": None,
        **extra,
    }


def _qr_svg(url: str) -> SafeString:
    code = segno.make(url, error="m")
    width, _height = code.symbol_size(scale=1)
    scale = max(1, round(QR_PIXELS / width))
    # unit="px" adds a viewBox beside width/height, so CSS can fit it to its box.
    svg = code.svg_inline(scale=scale, unit="px")
    return mark_safe(svg)  # segno's own markup: paths only, no text of ours


def _qr_context(login: QrLogin | None, error: str = "") -> dict[str, Any]:
    polling = (
        login is not None
        and not error
        and login.status in (QrLogin.Status.PENDING, QrLogin.Status.SCANNED)
    )
    return {
        "login": login,
        "qr_error": error,
        "polling": polling,
        "qr_svg": _qr_svg(login.url) if polling and login else "",
    }


def _qr_answer(
    request: HtmxHttpRequest, login: QrLogin | None, error: str = ""
) -> HttpResponse:
    """The QR partial for htmx; the whole page, with the QR in it, for a plain form post."""
    context = _qr_context(login, error)
    if request.htmx:
        response = render(request, "accounts/accounts.html#qr-login", context)
    else:
        response = render(
            request, "accounts/accounts.html", _accounts_context(**context)
        )
    if login is not None and login.status == QrLogin.Status.CONFIRMED:
        trigger_client_event(response, "accounts-changed")
    return response


def _bilibili_error(exc: Exception) -> str:
    if isinstance(exc, BilibiliError):
        return str(bilibili_messages.explain_error(exc))
    return _("Bilibili could not be reached: %(error)s") % {"error": exc}


@require_GET
@login_required
def accounts(request: HttpRequest) -> HttpResponse:
    return render_page(
        request, "accounts/accounts.html", _accounts_context(), parts=("account-list",)
    )


@require_POST
@login_required
def accounts_qr(request: HtmxHttpRequest) -> HttpResponse:
    """Start a TV QR login (cookies and the app token uploads need)."""
    try:
        login = qr_login.start()
    except (BilibiliError, BilibiliUnavailable) as exc:
        return _qr_answer(request, None, _bilibili_error(exc))
    return _qr_answer(request, login)


@require_POST
@login_required
def accounts_qr_poll(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Ask Bilibili once how the QR login stands; the partial polls again while it waits."""
    login = QrLogin.objects.filter(key=key).first()
    if login is None:
        return _qr_answer(request, None, _("This QR code is unknown: get a new one."))
    try:
        login = qr_login.advance(login)
    except (BilibiliError, BilibiliUnavailable) as exc:
        return _qr_answer(request, login, _bilibili_error(exc))
    return _qr_answer(request, login)


@require_POST
@login_required
def accounts_import(request: HtmxHttpRequest) -> HttpResponse:
    """Store an uploaded or pasted cookies.json, as `manage.py importcookies` does."""
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        if request.htmx:
            return render(
                request, "accounts/accounts.html#import", {"import_form": form}
            )
        return render(
            request, "accounts/accounts.html", _accounts_context(import_form=form)
        )
    name = form.cleaned_data["name"]
    replaced = BilibiliAccount.objects.filter(value=name).exists()
    account = cookiefile.store(name, form.cleaned_data["document"])
    if replaced:
        message = _("Replaced the credential of %(name)s.") % {"name": account.value}
    else:
        message = _("Imported %(name)s.") % {"name": account.value}
    if not request.htmx:
        messages.success(request, message)
        return redirect("accounts")
    response = render(
        request,
        "accounts/accounts.html#import",
        {"import_form": ImportForm(), "import_message": message},
    )
    return trigger_client_event(response, "accounts-changed")


def _check_outcome(account: BilibiliAccount) -> tuple[str, bool]:
    """What a check found, in words, and whether it is good news."""
    if not account.credential:
        return _(
            "No credential to check: log in by QR code or import a cookies.json."
        ), False
    if account.status == BilibiliAccount.Status.ACTIVE and not account.status_reason:
        return _("Checked: Bilibili accepts this login."), True
    if account.status in (
        BilibiliAccount.Status.EXPIRED,
        BilibiliAccount.Status.REVOKED,
    ):
        return _(
            "Bilibili no longer accepts this login (%(reason)s): log in again by QR code."
        ) % {"reason": account.status_reason}, False
    return _("The check did not finish, nothing changed. %(reason)s") % {
        "reason": account.status_reason
    }, False


class BudgetForm(forms.Form):
    upload_budget = forms.IntegerField(
        min_value=1,
        max_value=1000,
        label=gettext_lazy("Preuploads an hour"),
        help_text=gettext_lazy(
            "Bilibili takes about 20 files an hour from one account; past that it refuses."
        ),
    )
    upload_rate_limit = forms.IntegerField(
        min_value=0,
        max_value=rate_schedule.MAX_RATE,
        required=False,
        label=gettext_lazy("Upload speed cap (KiB/s)"),
        help_text=gettext_lazy("All this account's uploads together; 0: no limit."),
    )

    def clean_upload_rate_limit(self) -> int:
        rate = self.cleaned_data.get("upload_rate_limit") or 0
        rate_schedule.check_rate(rate)
        return rate


@require_POST
@login_required
def accounts_budget(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Set how many files the account may start uploading in an hour, and how fast."""
    account = get_object_or_404(BilibiliAccount, pk=pk)
    form = BudgetForm(request.POST)
    if form.is_valid():
        account.upload_budget = form.cleaned_data["upload_budget"]
        account.upload_rate_limit = form.cleaned_data["upload_rate_limit"]
        account.save(update_fields=("upload_budget", "upload_rate_limit", "updated"))
        message, good = _("Upload budget saved."), True
    else:
        message = " ".join(e for errors in form.errors.values() for e in errors)
        good = False
    return _account_row(request, account, message, good)


def _account_row(
    request: HtmxHttpRequest, account: BilibiliAccount, message: str, good: bool
) -> HttpResponse:
    """The account's row with the outcome of an action on it (htmx), or the list page with
    the outcome as a message."""
    if not request.htmx:
        messages.add_message(
            request, messages.SUCCESS if good else messages.ERROR, message
        )
        return redirect("accounts")
    now = timezone.now()
    context = {
        "account": _row(account, now),
        "now": now,
        "check_message": message,
        "check_good": good,
    }
    return render(request, "accounts/accounts.html#account", context)


@require_POST
@login_required
def accounts_check(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Check one account against Bilibili now (the daily task does the same)."""
    account = health.check(get_object_or_404(BilibiliAccount, pk=pk))
    message, good = _check_outcome(account)
    if not request.htmx:
        message = f"{account}: {message}"
    return _account_row(request, account, message, good)


@require_GET
@login_required
def accounts_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The credential as a cookies.json download: byte for byte what exportcookies prints."""
    account = get_object_or_404(BilibiliAccount, pk=pk)
    if not account.credential:
        raise Http404("This account has no credential.")
    response = HttpResponse(
        cookiefile.export(account), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=account.value
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def accounts_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(BilibiliAccount, pk=pk)
    name = str(account)
    account.delete()
    if request.htmx:
        return render(
            request, "accounts/accounts.html#account-list", _accounts_context()
        )
    messages.success(request, _("Deleted %(name)s.") % {"name": name})
    return redirect("accounts")
