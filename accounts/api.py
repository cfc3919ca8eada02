from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import categories, credentials, signin
from accounts import login as qr_login
from accounts.forms import AccountForm, LoginForm, RegisterForm, TokenForm
from accounts.models import ApiToken, BilibiliAccount, QrLogin
from biliup_site.api import ApiError, api, dispatch, error, ok, upstream_error
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from biliup_site.bilibili import account as bilibili_account
from biliup_site.forms import bind
from biliup_site.http import ApiRequest


@api("POST", auth=False)
def register(request: ApiRequest) -> HttpResponse:
    """The first account bootstraps the site; after that only a logged-in admin adds users."""
    form = bind(RegisterForm, request.json)
    try:
        user = signin.register(
            request, form.cleaned_data["username"], form.cleaned_data["password"]
        )
    except signin.SignInRefused as exc:
        return error(exc.message, exc.status)
    return ok({"username": user.username, "is_admin": user.is_superuser})


@api("POST", auth=False)
def login(request: ApiRequest) -> HttpResponse:
    form = bind(LoginForm, request.json)
    try:
        user = signin.sign_in(
            request, form.cleaned_data["username"], form.cleaned_data["password"]
        )
    except signin.SignInRefused as exc:
        return error(exc.message, exc.status)
    next_url = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ):
        next_url = "/"
    return ok({"username": user.username, "next": next_url or "/"})


@api("GET", auth=False)
def current_user(request: ApiRequest) -> HttpResponse:
    """200 when logged in, 404 when not; `registered` tells a client whether to offer register."""
    if request.user.is_authenticated:
        return ok(
            {"username": request.user.username, "is_admin": request.user.is_superuser}
        )
    return ok(
        {"error": "Not logged in", "registered": User.objects.exists()}, status=404
    )


@api("GET", "POST", auth=False)
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return HttpResponseRedirect(settings.LOGIN_URL)


def list_accounts(request: ApiRequest) -> HttpResponse:
    return ok([account.to_dict() for account in BilibiliAccount.objects.all()])


def add_account(request: ApiRequest) -> HttpResponse:
    form = bind(AccountForm, request.json)
    account = form.save(commit=False)
    try:
        if "credential" in request.json:
            document = credentials.check(request.json["credential"])
        else:
            document = credentials.read_from_data_dir(account.value)
    except credentials.CredentialError as exc:
        where = (
            "credential"
            if "credential" in request.json
            else f"value: {account.value} in the data folder"
        )
        raise ApiError(f"{where} is {exc}") from None
    if document is not None:
        account.set_credential(document)
    account.save()
    return ok(account.to_dict())


accounts = dispatch(GET=list_accounts, POST=add_account)


@api("DELETE")
def delete_account(request: ApiRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(BilibiliAccount, pk=pk)
    data = account.to_dict()
    account.delete()
    return ok(data)


def list_tokens(request: ApiRequest) -> HttpResponse:
    return ok([token.to_dict() for token in request.user.api_tokens.all()])


def create_token(request: ApiRequest) -> HttpResponse:
    form = bind(TokenForm, request.json)
    token, raw = ApiToken.objects.issue(request.user, form.cleaned_data["name"])
    return ok({**token.to_dict(), "token": raw})


tokens = dispatch(GET=list_tokens, POST=create_token)


@api("DELETE")
def delete_token(request: ApiRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    data = token.to_dict()
    token.delete()
    return ok(data)


def _start_qr_login(kind: str = QrLogin.Kind.TV) -> QrLogin:
    if kind not in QrLogin.Kind.values:
        raise ApiError(
            "kind: Use tv (cookies and an upload token, the default) or web (cookies only)."
        )
    try:
        return qr_login.start(kind)
    except (BilibiliError, BilibiliUnavailable) as exc:
        raise upstream_error(exc) from None


@api("GET")
def qrcode(request: ApiRequest) -> HttpResponse:
    """Start a QR login (TV by default: it yields the app token uploads need); show `url` as a QR code."""
    started = _start_qr_login(request.GET.get("kind", QrLogin.Kind.TV))
    return ok({"url": started.url, "qrcode_key": started.key})


@api("GET")
def get_qrcode(request: ApiRequest) -> HttpResponse:
    """biliup's own route answers with Bilibili's auth_code envelope, which its UI reads."""
    started = _start_qr_login()
    return ok(
        {
            "code": 0,
            "message": "0",
            "ttl": 1,
            "data": {"url": started.url, "auth_code": started.key},
        }
    )


def _qr_key(body: dict[str, Any]) -> str:
    # Ours send {"qrcode_key"}; biliup's UI sends back the whole auth_code answer.
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    key = (
        body.get("qrcode_key")
        or body.get("auth_code")
        or data.get("auth_code")
        or data.get("qrcode_key")
    )
    if not isinstance(key, str) or not key:
        raise ApiError("qrcode_key: Give the qrcode_key that /qrcode returned.")
    return key


@api("POST")
def login_by_qrcode(request: ApiRequest) -> HttpResponse:
    """One poll per call: 200 {filename} once confirmed, 202 {status} while waiting."""
    started = QrLogin.objects.filter(key=_qr_key(request.json)).first()
    if started is None:
        raise ApiError("qrcode_key: Unknown QR code: ask /qrcode for a new one.", 404)
    try:
        started = qr_login.advance(started)
    except (BilibiliError, BilibiliUnavailable) as exc:
        raise upstream_error(exc) from None
    if started.status == QrLogin.Status.CONFIRMED and started.account is not None:
        return ok({"filename": started.account.value, "mid": started.account.mid})
    if started.status == QrLogin.Status.EXPIRED:
        raise ApiError("The QR code expired: ask /qrcode for a new one.", 410)
    message = (
        "Scanned: confirm the login in the Bilibili app"
        if started.status == "scanned"
        else "Waiting for the QR code to be scanned"
    )
    return ok({"status": started.status, "message": message}, status=202)


def _account_with_credential(name: str | None) -> BilibiliAccount:
    if name:
        account = BilibiliAccount.objects.filter(value=name).first()
        if account is None:
            raise ApiError(f"user: No Bilibili account named {name!r}.", 404)
    else:
        usable = BilibiliAccount.objects.filter(credential__isnull=False).exclude(
            status=BilibiliAccount.Status.EXPIRED
        )
        account = usable.order_by("id").first()
        if account is None:
            raise ApiError(
                "No Bilibili account with a credential: log one in by QR code first."
            )
    if not account.credential:
        raise ApiError(
            f"user: {account.value} has no credential yet: log it in by QR code or import its cookies.json."
        )
    if account.status == BilibiliAccount.Status.EXPIRED:
        raise ApiError(
            f"user: {account.value} has expired ({account.status_reason}): log it in again.",
            409,
        )
    return account


def _ask_bilibili(account: BilibiliAccount, call: Any) -> Any:
    try:
        return account.ask(call)
    except (BilibiliError, BilibiliUnavailable) as exc:
        raise upstream_error(exc) from None


@api("GET")
def myinfo(request: ApiRequest) -> HttpResponse:
    user = request.GET.get("user", "")
    if not user:
        raise ApiError(
            "user: Give the name of a Bilibili account, as listed by /users."
        )
    account = _account_with_credential(user)
    return ok(
        _ask_bilibili(account, lambda: bilibili_account.myinfo(account.credential))
    )


@api("GET")
def archive_pre(request: ApiRequest) -> HttpResponse:
    account = _account_with_credential(request.GET.get("user"))
    return ok(
        _ask_bilibili(
            account, lambda: categories.archive_pre(account.credential, account.pk)
        )
    )
