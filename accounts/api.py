from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import credentials
from accounts.forms import AccountForm, LoginForm, RegisterForm, TokenForm
from accounts.models import ApiToken, BilibiliAccount, LoginFailure
from biliup_site.api import ApiError, api, dispatch, error, ok
from biliup_site.forms import bind
from biliup_site.http import ApiRequest, client_ip


@api("POST", auth=False)
def register(request: ApiRequest) -> HttpResponse:
    """The first account bootstraps the site; after that only a logged-in admin adds users."""
    form = bind(RegisterForm, request.json)
    with transaction.atomic():
        first = not User.objects.exists()
        if not first and not (
            request.user.is_authenticated and request.user.is_superuser
        ):
            return error(
                "An admin account exists already: log in, or ask the admin to add you",
                403,
            )
        user = User.objects.create_user(
            form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            is_staff=first,
            is_superuser=first,
        )
    if first:
        auth.login(request, user)
    return ok({"username": user.username, "is_admin": user.is_superuser})


@api("POST", auth=False)
def login(request: ApiRequest) -> HttpResponse:
    form = bind(LoginForm, request.json)
    username, ip = form.cleaned_data["username"], client_ip(request)
    if LoginFailure.objects.recent(username, ip) >= settings.LOGIN_MAX_FAILURES:
        minutes = settings.LOGIN_LOCKOUT_SECONDS // 60
        return error(f"Too many failed logins: try again in {minutes} minutes", 429)
    user = auth.authenticate(
        request, username=username, password=form.cleaned_data["password"]
    )
    if user is None:
        LoginFailure.objects.create(username=username, ip=ip)
        return error("Wrong username or password", 401)
    auth.login(request, user)
    LoginFailure.objects.filter(username=username).delete()
    LoginFailure.objects.prune()
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
        document = credentials.read_from_data_dir(account.value)
    except credentials.CredentialError as exc:
        raise ApiError(f"value: {account.value} in the data folder is {exc}") from None
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
