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
from biliup_site.api import (
    ApiError,
    api,
    biliup_surface,
    dispatch,
    ok,
    upstream_error,
)
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from biliup_site.bilibili import account as bilibili_account
from biliup_site.forms import bind
from biliup_site.http import ApiRequest


def _warning(user: User, password: str) -> dict[str, str]:
    warning = signin.password_warning(user, password)
    return {"warning": warning} if warning else {}


@api("POST", auth=False)
def register(request: ApiRequest) -> HttpResponse:
    """The first account bootstraps the site; after that only a logged-in admin adds users."""
    form = bind(RegisterForm, request.json)
    try:
        user = signin.register(
            request, form.cleaned_data["username"], form.cleaned_data["password"]
        )
    except signin.SignInRefused as exc:
        raise ApiError(exc.message, exc.status) from None
    return ok(
        {
            "username": user.username,
            "is_admin": user.is_superuser,
            **_warning(user, form.cleaned_data["password"]),
        }
    )


@api("POST", auth=False)
def login(request: ApiRequest) -> HttpResponse:
    form = bind(LoginForm, request.json)
    try:
        user = signin.sign_in(
            request, form.cleaned_data["username"], form.cleaned_data["password"]
        )
    except signin.SignInRefused as exc:
        # Raised, not returned: the refusal then has biliup's `message` on /v1 too.
        retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise ApiError(exc.message, exc.status, headers=retry) from None
    next_url = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ):
        next_url = "/"
    return ok(
        {
            "username": user.username,
            "next": next_url or "/",
            **_warning(user, form.cleaned_data["password"]),
        }
    )


@api("GET", auth=False)
def current_user(request: ApiRequest) -> HttpResponse:
    """/api/v1 (the document): 200 when logged in, 404 when not, `registered` telling a client
    whether to offer register. biliup's /v1: 200 whenever a user exists, logged in or not (its
    UI reads 404 as "no user yet, register"); 404 only before the first one."""
    if request.user.is_authenticated:
        return ok(
            {
                "username": request.user.username,
                "is_admin": request.user.is_superuser,
                "logged_in": True,
            }
        )
    registered = User.objects.exists()
    if biliup_surface(request) and registered:
        return ok({"logged_in": False, "registered": True})
    return ok({"error": "Not logged in", "registered": registered}, status=404)


@api("GET", "POST", auth=False)
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return HttpResponseRedirect(settings.LOGIN_URL)


def list_accounts(request: ApiRequest) -> HttpResponse:
    return ok([account.to_dict() for account in BilibiliAccount.objects.all()])


def _named(name: Any) -> BilibiliAccount | None:
    """The account of this name; biliup's cookie file path "data/<name>" names it too."""
    if not isinstance(name, str) or not name:
        return None
    names = {name, name.removeprefix("data/")}
    return BilibiliAccount.objects.filter(value__in=names).order_by("id").first()


def add_account(request: ApiRequest) -> HttpResponse:
    # Idempotent: biliup's UI adds the file its QR login just wrote, which here is already an
    # account. Adding an existing name again (without a credential to change) answers it.
    if "credential" not in request.json and request.json.get("key") in (
        None,
        "",
        BilibiliAccount.PLATFORM,
    ):
        existing = _named(request.json.get("value"))
        if existing is not None:
            return ok(existing.to_dict())
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


def _wait_seconds(request: ApiRequest) -> float:
    """?wait=<seconds> (0: poll once and answer at once); by default BILIUP_QR_WAIT_SECONDS."""
    raw = request.GET.get("wait")
    if raw is None:
        return settings.QR_WAIT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= settings.QR_WAIT_SECONDS:
        raise ApiError(
            f"wait: Give a number of seconds from 0 to {settings.QR_WAIT_SECONDS:g}."
        )
    return seconds


@api("POST")
async def login_by_qrcode(request: ApiRequest) -> HttpResponse:
    """Wait, as biliup does, until the phone confirms (200 {filename}), the code expires (410)
    or the wait ends (202 {status}: ask again); ?wait=0 polls once and answers at once."""
    seconds = _wait_seconds(request)
    started = await QrLogin.objects.filter(key=_qr_key(request.json)).afirst()
    if started is None:
        raise ApiError("qrcode_key: Unknown QR code: ask /qrcode for a new one.", 404)
    try:
        started = await qr_login.wait(started, seconds)
    except (BilibiliError, BilibiliUnavailable) as exc:
        raise upstream_error(exc) from None
    if started.status == QrLogin.Status.CONFIRMED:
        account = await BilibiliAccount.objects.filter(pk=started.account_id).afirst()
        if account is not None:
            return ok({"filename": account.value, "mid": account.mid})
    if started.status in (QrLogin.Status.EXPIRED, QrLogin.Status.CONFIRMED):
        # Confirmed with its account deleted since is as good as expired: log in again.
        raise ApiError("The QR code expired: ask /qrcode for a new one.", 410)
    message = (
        "Scanned: confirm the login in the Bilibili app"
        if started.status == QrLogin.Status.SCANNED
        else "Waiting for the QR code to be scanned"
    )
    return ok({"status": started.status, "message": message}, status=202)


def _account_with_credential(name: str | None) -> BilibiliAccount:
    if name:
        account = _named(name)
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


def _bilibili_answer(request: ApiRequest, data: dict[str, Any]) -> HttpResponse:
    """biliup's /bili routes pass Bilibili's envelope through (its UI reads res.data.face and
    archivePre.data.typelist); /api/v1 answers the data itself, as the document shows."""
    if biliup_surface(request):
        return ok({"code": 0, "message": "0", "ttl": 1, "data": data})
    return ok(data)


@api("GET")
def myinfo(request: ApiRequest) -> HttpResponse:
    user = request.GET.get("user", "")
    if not user:
        raise ApiError(
            "user: Give the name of a Bilibili account, as listed by /users."
        )
    if biliup_surface(request) and _named(user) is None:
        # biliup's UserList asks myinfo for a typed cookie file before it adds the account.
        try:
            document = credentials.read_named_file(user)
        except credentials.CredentialError as exc:
            raise ApiError(f"user: {user} in the data folder is {exc}") from None
        if document is not None:
            try:
                data = bilibili_account.myinfo(document)
            except (BilibiliError, BilibiliUnavailable) as exc:
                raise upstream_error(exc) from None
            return _bilibili_answer(request, data)
    account = _account_with_credential(user)
    return _bilibili_answer(
        request,
        _ask_bilibili(account, lambda: bilibili_account.myinfo(account.credential)),
    )


@api("GET")
def archive_pre(request: ApiRequest) -> HttpResponse:
    account = _account_with_credential(request.GET.get("user"))
    return _bilibili_answer(
        request,
        _ask_bilibili(
            account, lambda: categories.archive_pre(account.credential, account.pk)
        ),
    )
