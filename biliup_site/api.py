"""The /api/v1 plumbing: one error shape, one decorator for auth, CSRF and JSON bodies."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, sync_to_async
from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiToken
from biliup_site import strictjson

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
View = Callable[..., HttpResponse]


class ApiError(Exception):
    """Raised anywhere below a view to answer {"error": message} with the given status."""

    def __init__(
        self, message: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # Sent with the refusal, such as a 429's Retry-After.
        self.headers = headers or {}


# biliup's own routes (/v1, /bili), which its web UI calls. They answer as biliup's server does;
# /api/v1 answers as the REST document says. Where both shapes can hold at once, both are given.
BILIUP_PREFIXES = ("/v1/", "/bili/")


def biliup_surface(request: HttpRequest) -> bool:
    """The request came in on biliup's own routes rather than /api/v1."""
    return request.path.startswith(BILIUP_PREFIXES)


def error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def ok(data: Any = None, status: int = 200) -> JsonResponse:
    return JsonResponse({} if data is None else data, status=status, safe=False)


def upstream_error(exc: Exception) -> ApiError:
    """Bilibili refused or could not be reached: 502, with what it said."""
    return ApiError(f"Bilibili: {exc}", 502)


def form_error(form: forms.BaseForm) -> ApiError:
    """The form's first error as one readable line: "url: Enter a valid URL."."""
    for field, errors in form.errors.items():
        message = errors[0]
        return ApiError(message if field == "__all__" else f"{field}: {message}")
    return ApiError("Invalid data")


def _bearer_user(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    token = ApiToken.objects.for_raw(raw.strip())
    if token is None:
        raise ApiError("Invalid API token", 401)
    token.touch()
    return token.user


def _same_origin(request: HttpRequest, origin: str) -> bool:
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    return urlsplit(origin).netloc == request.get_host()


def _check_csrf(request: HttpRequest) -> None:
    """Browsers can't be made to send these from another site; curl and requests always can.

    A cross-site form can only send form or text/plain bodies, and a cross-site fetch with a JSON
    body needs a CORS preflight we never grant. So a state-changing call with a session cookie
    must carry JSON (or no body at all), and must not announce a foreign origin.
    """
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise ApiError("Cross-site request refused", 403)
    origin = request.headers.get("Origin")
    if origin and origin != "null" and not _same_origin(request, origin):
        raise ApiError("Cross-origin request refused", 403)
    if origin == "null":
        raise ApiError("Cross-origin request refused", 403)
    # No Content-Type at all is what fetch() sends for a Blob body, still without a preflight:
    # only an empty body (biliup's UI pauses a streamer so) may come without one.
    content_type = request.content_type or ""
    if content_type != "application/json" and (content_type or _body(request)):
        raise ApiError("Send JSON with Content-Type: application/json", 415)


def _body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise ApiError(f"Request body larger than {limit} bytes", 413) from None


def _parse_body(request: HttpRequest) -> dict[str, Any]:
    raw = _body(request)
    if not raw:
        return {}
    try:
        body = strictjson.loads(raw)
    except strictjson.JsonError as exc:
        raise ApiError(f"Invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("Expected a JSON object")
    return body


class MethodNotAllowed(ApiError):
    def __init__(self, methods: tuple[str, ...]) -> None:
        super().__init__("Method not allowed", 405)
        self.methods = methods


def _admit(request: HttpRequest, methods: tuple[str, ...], auth: bool) -> None:
    """Everything @api checks before the view runs; raises ApiError to refuse."""
    if request.method not in methods:
        raise MethodNotAllowed(methods)
    token_user = _bearer_user(request)
    if token_user is not None:
        request.user = token_user
    elif request.method not in SAFE_METHODS:
        _check_csrf(request)
    if auth and not request.user.is_authenticated:
        raise ApiError("Authentication required: log in or send an API token", 401)
    request.json = _parse_body(request)  # type: ignore[attr-defined]


def _refusal(request: HttpRequest, exc: ApiError | Http404) -> HttpResponse:
    if isinstance(exc, Http404):
        message, status = str(exc) or "Not found", 404
    elif isinstance(exc, MethodNotAllowed):
        message, status = f"Method {request.method} not allowed", 405
    else:
        message, status = exc.message, exc.status
    body = {"error": message}
    if biliup_surface(request):
        # biliup's UI reads both: its login page shows `message` (biliup's own error body),
        # UserList shows `error`.
        body["message"] = message
    response = JsonResponse(body, status=status)
    if isinstance(exc, ApiError):
        for header, value in exc.headers.items():
            response[header] = value
    if isinstance(exc, MethodNotAllowed):
        response["Allow"] = ", ".join(exc.methods)
    return response


def api(*methods: str, auth: bool = True) -> Callable[[View], View]:
    """Make a function an /api/v1 view: allowed methods, auth, CSRF decision, JSON body, errors.

    An async view (one that waits on something, like a QR login) stays async: the checks, which
    touch the database, run in the sync thread, and the view on the event loop.
    """

    def decorator(view: View) -> View:
        if iscoroutinefunction(view):
            return _async_api(view, methods, auth)

        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                _admit(request, methods, auth)
                with translation.override("en"):
                    return view(request, *args, **kwargs)
            except (ApiError, Http404) as exc:
                return _refusal(request, exc)

        wrapper.api_methods = methods  # type: ignore[attr-defined]
        return wrapper

    return decorator


def _async_api(view: View, methods: tuple[str, ...], auth: bool) -> View:
    @csrf_exempt
    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            await sync_to_async(_admit)(request, methods, auth)
            with translation.override("en"):
                return await view(request, *args, **kwargs)
        except (ApiError, Http404) as exc:
            return _refusal(request, exc)

    wrapper.api_methods = methods  # type: ignore[attr-defined]
    return wrapper


def dispatch(**views: View) -> View:
    """One path, several methods: dispatch(GET=list_x, POST=create_x), like healthchecks' checks()."""
    methods = tuple(views)

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return views[request.method](request, *args, **kwargs)  # type: ignore[index]

    view.__name__ = "_".join(v.__name__ for v in views.values())
    return api(*methods)(view)
