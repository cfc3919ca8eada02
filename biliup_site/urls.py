from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import defaults

from accounts import api as accounts_api
from biliup_site import hooks_api, site_api
from biliup_site import views as site_views
from biliup_site.api import error
from creators import api as creators_api
from recorder import api as recorder_api
from uploads import api as uploads_api

# The documented API (../shared/reference/biliup-rest-api.md), under /api/v1.
api_v1 = [
    path("users/register", accounts_api.register),
    path("users/login", accounts_api.login),
    path("users/biliup", accounts_api.current_user),
    path("logout", accounts_api.logout),
    path("users", accounts_api.accounts),
    path("users/<int:pk>", accounts_api.delete_account),
    path("qrcode", accounts_api.qrcode),
    path("login_by_qrcode", accounts_api.login_by_qrcode),
    path("myinfo", accounts_api.myinfo),
    path("archive_pre", accounts_api.archive_pre),
    path("tokens", accounts_api.tokens),
    path("tokens/<int:pk>", accounts_api.delete_token),
    path("streamers", recorder_api.streamers),
    path("streamers/<int:pk>", recorder_api.streamer),
    path("streamers/<int:pk>/pause", recorder_api.pause),
    path("streamer_info", recorder_api.streamer_info),
    path("streamer_info/<int:pk>/files", recorder_api.streamer_info_files),
    path("videos", recorder_api.videos),
    path("configuration", site_api.configuration),
    path("status", site_api.status),
    path("attention", site_api.attention),
    path("proxy", site_api.image_proxy),
    path("upload_streamers", uploads_api.templates),
    path("upload_streamers/<int:pk>", uploads_api.template),
    path("uploads", uploads_api.uploads),
    path("upload_jobs", uploads_api.upload_jobs),
    path("upload_jobs/<int:pk>", uploads_api.upload_job),
    path("upload_jobs/<int:pk>/retry", uploads_api.retry_job),
    path("upload_jobs/<int:pk>/cancel", uploads_api.cancel_job),
    path("creators", creators_api.creators),
    path("creators/<int:uid>", creators_api.creator),
    path("creators/<int:uid>/refresh", creators_api.refresh_creator),
    path("creators/<int:uid>/videos", creators_api.creator_videos),
    path("creators/<int:uid>/videos/<str:bvid>", creators_api.creator_video),
    path("creators/<int:uid>/trend", creators_api.creator_trend),
    path("hooks", hooks_api.hooks_view),
    path("hooks/<int:pk>", hooks_api.hook_view),
    path("hooks/<int:pk>/test", hooks_api.send_test),
    path("hooks/<int:pk>/deliveries", hooks_api.hook_deliveries),
    path("events", hooks_api.recent_events),
    path("openapi.json", site_api.openapi_document),
]

# biliup's own route names (its Rust server), so its UI and scripts work unchanged.
biliup_routes = [
    path("v1/users/register", accounts_api.register),
    path("v1/users/login", accounts_api.login),
    path("v1/users/biliup", accounts_api.current_user),
    path("v1/logout", accounts_api.logout),
    path("v1/users", accounts_api.accounts),
    path("v1/users/<int:pk>", accounts_api.delete_account),
    path("v1/streamers", recorder_api.streamers),
    path("v1/streamers/<int:pk>", recorder_api.streamer),
    path("v1/streamers/<int:pk>/pause", recorder_api.pause),
    path("v1/streamer-info", recorder_api.streamer_info),
    path("v1/streamer-info/files/<int:pk>", recorder_api.streamer_info_files),
    path("v1/videos", recorder_api.videos),
    path("v1/configuration", site_api.configuration),
    path("v1/status", site_api.status),
    path("v1/upload/streamers", uploads_api.templates),
    path("v1/upload/streamers/<int:pk>", uploads_api.template),
    path("v1/uploads", uploads_api.uploads),
    path("v1/get_qrcode", accounts_api.get_qrcode),
    path("v1/login_by_qrcode", accounts_api.login_by_qrcode),
    path("bili/archive/pre", accounts_api.archive_pre),
    path("bili/space/myinfo", accounts_api.myinfo),
    path("bili/proxy", site_api.image_proxy),
]

# The pages, for people (HTMX); each app lists its own.
pages = [
    path("", site_views.dashboard, name="dashboard"),
    path("attention/", site_views.attention_strip, name="attention"),
    path("settings/", site_views.settings_page, name="settings"),
    path("settings/tokens", site_views.settings_tokens, name="settings-tokens"),
    path(
        "settings/tokens/<int:pk>/delete",
        site_views.settings_token_delete,
        name="settings-token-delete",
    ),
    path(
        "settings/hooks/new/<str:kind>",
        site_views.settings_hook_add,
        name="settings-hook-add",
    ),
    path(
        "settings/hooks/<int:pk>",
        site_views.settings_hook_edit,
        name="settings-hook-edit",
    ),
    path(
        "settings/hooks/<int:pk>/delete",
        site_views.settings_hook_delete,
        name="settings-hook-delete",
    ),
    path(
        "settings/hooks/<int:pk>/secret",
        site_views.settings_hook_secret,
        name="settings-hook-secret",
    ),
    path(
        "settings/hooks/<int:pk>/test",
        site_views.settings_hook_test,
        name="settings-hook-test",
    ),
    path("logs/", site_views.logs_page, name="logs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    path("", include("recorder.urls")),
    path("", include("uploads.urls")),
    path("", include("creators.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("", include(biliup_routes)),
    # biliup's history player: recordings by their path in the recordings folder. The site's
    # own assets share the prefix; WhiteNoise answers those before the URL router is reached.
    path("static/<path:name>", site_views.static_file),
    *pages,
]

API_PREFIXES = ("/api/", "/v1/", "/bili/")


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIXES):
        return error("Not found", 404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIXES):
        return error("Internal server error: see the server log", 500)
    return defaults.server_error(request)
