"""The site's own middleware: what every request must pass before the session lookup or a view,
and the language the pages speak.

PostgreSQL's text can't hold a NUL character: a query value, a path segment or a cookie with one
reaches the database as a lookup and ends in a 500 there (SQLite takes it, so the same request
passed on the embedded default). Refusing it here, for the API and the pages alike, keeps the
two databases answering the same; JSON bodies have their own check (strictjson), form fields
Django's (ProhibitNullCharactersValidator).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

NUL = "\x00"
API_PREFIXES = ("/api/", "/v1/", "/bili/")


def _where_nul(request: HttpRequest) -> str:
    """Which part of the request holds a NUL ("" when none does)."""
    if NUL in request.path:
        return "The path"
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in value for value in values):
            return "The query string"
    for key, value in request.COOKIES.items():
        if NUL in key or NUL in value:
            return "A cookie"
    return ""


def _refusal(request: HttpRequest, where: str) -> HttpResponse:
    message = f"{where} holds a NUL character, which can't be stored: remove it."
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"error": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RefuseNulMiddleware:
    """Answer 400 to a request with a NUL in its path, query or cookies (sync and async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        where = _where_nul(request)
        if self.is_async:
            return self._acall(request, where)
        if where:
            return _refusal(request, where)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest, where: str) -> HttpResponse:
        if where:
            return _refusal(request, where)
        return await self.get_response(request)


def _speaks(code: str) -> bool:
    try:
        translation.get_supported_language_variant(code)
    except LookupError:
        return False
    return True


def asks_for_no_language_we_speak(request: HttpRequest) -> bool:
    """The browser names languages, none of them ours (fr, de, ja): it gets English, which
    more of those readers read than Chinese. zh, zh-CN, zh-TW and zh-Hant all come to zh-hans
    (Django's fallbacks); a browser naming no language gets BILIUP_LANGUAGE, as does "*"."""
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie and _speaks(cookie):
        return False
    accept = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    codes = [code for code, _q in parse_accept_lang_header(accept) if code != "*"]
    return bool(codes) and not any(_speaks(code) for code in codes)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's (the cookie, then Accept-Language, then BILIUP_LANGUAGE), except that a browser
    asking only for languages the site does not speak gets English."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        if asks_for_no_language_we_speak(request):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
