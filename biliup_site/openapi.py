"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json.

Hand-written next to the routes; tests/site/test_openapi.py fails when a route is missing here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


def _op(
    summary: str,
    response: dict[str, Any] | None = None,
    body: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {"schema": response or {"type": "object"}}
                },
            },
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
        },
    }
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    op.update(extra)
    return op


def _id_param(description: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "id",
            "in": "path",
            "required": True,
            "description": description,
            "schema": {"type": "integer"},
        }
    ]


_STR = {"type": "string"}
_INT = {"type": "integer"}
_FLAG = {"type": "integer", "enum": [0, 1]}
_NULL_STR = {"type": ["string", "null"]}
_NULL_INT = {"type": ["integer", "null"]}

_UID = [
    {
        "name": "uid",
        "in": "path",
        "required": True,
        "description": "Bilibili user id (mid)",
        "schema": {"type": "integer"},
    }
]

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": _STR}},
    "Follow": {
        "type": "object",
        "required": ["uid"],
        "properties": {
            "uid": _INT,
            "provider": {
                "type": "string",
                "enum": ["", "bilibili", "justoneapi"],
                "description": "Empty: the configuration's catalog_provider",
            },
            "refresh_minutes": {
                "type": "integer",
                "minimum": 5,
                "maximum": 10080,
                "default": 60,
            },
        },
    },
    "Creator": {
        "type": "object",
        "properties": {
            "uid": _INT,
            "name": _STR,
            "face": _STR,
            "provider": {"type": "string", "enum": ["", "bilibili", "justoneapi"]},
            "provider_used": {
                "type": "string",
                "enum": ["", "app", "web", "justoneapi"],
                "description": "The endpoint that answered the last refresh",
            },
            "refresh_minutes": _INT,
            "status": {"type": "string", "enum": ["new", "ok", "error", "stopped"]},
            "status_reason": _STR,
            "video_count": {
                "type": "integer",
                "description": "How many videos Bilibili says the user has",
            },
            "videos_known": {"type": "integer", "description": "In the catalog"},
            "own": {"type": "boolean", "description": "One of our Bilibili accounts"},
            "synced": {"type": ["string", "null"]},
            "last_refresh": {"type": ["string", "null"]},
            "next_refresh": {"type": ["string", "null"]},
            "refreshing": {"type": "boolean"},
            "created": _STR,
        },
    },
    "CreatorVideo": {
        "type": "object",
        "properties": {
            "bvid": _STR,
            "aid": _INT,
            "uid": _INT,
            "title": _STR,
            "cover": _STR,
            "duration": {"type": "integer", "description": "Seconds"},
            "play": _INT,
            "danmaku": _INT,
            "published": _STR,
            "category": _STR,
            "url": _STR,
            "first_seen": _STR,
            "updated": _STR,
            "snapshots": {
                "type": "array",
                "description": "Only on /creators/{uid}/videos/{bvid}",
                "items": {
                    "type": "object",
                    "properties": {"at": _STR, "play": _INT, "danmaku": _INT},
                },
            },
        },
    },
    "VideoPage": {
        "type": "object",
        "properties": {
            "count": _INT,
            "page": _INT,
            "page_size": _INT,
            "pages": _INT,
            "results": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/CreatorVideo"},
            },
        },
    },
    "CreatorTotals": {
        "type": "object",
        "properties": {"at": _STR, "videos": _INT, "play": _INT, "danmaku": _INT},
    },
    "Credentials": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": _STR, "password": _STR, "next": _STR},
    },
    "Streamer": {
        "type": "object",
        "properties": {
            "id": _INT,
            "url": _STR,
            "platform": {
                "type": "string",
                "description": "Read from the URL: bilibili, or a streamlink plugin",
            },
            "remark": _STR,
            "template_name": _NULL_STR,
            "upload_streamers_id": _NULL_INT,
            "split_time": {
                "type": "integer",
                "description": "Seconds; 0 = no time split",
            },
            "split_size": {"type": "integer", "description": "MB; 0 = no size split"},
            "filename_prefix": _STR,
            "format": _STR,
            "time_range": {"type": ["array", "null"], "items": _STR},
            "excluded_keywords": {"type": "array", "items": _STR},
            "override": {"type": "object"},
        },
    },
    "StreamerRow": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["Idle", "Working", "Pause"]},
            "upload_status": {"type": "string", "enum": ["Idle", "Working"]},
            "state": {
                "type": "string",
                "enum": ["idle", "checking", "waiting", "recording", "error", "paused"],
            },
            "state_detail": _STR,
            "progress": {
                "type": "object",
                "description": "The running recording; empty when not recording.",
                "properties": {
                    "bytes": _INT,
                    "bitrate": _INT,
                    "duration": {"type": "number"},
                    "segments": _INT,
                    "file": _STR,
                },
            },
            "inner": _ref("Streamer"),
        },
    },
    "Configuration": {
        "type": "object",
        "properties": {
            "lines": _STR,
            "threads": _INT,
            "submit_api": {"type": ["string", "null"], "enum": ["app", "web", None]},
            "download_limit": _INT,
            "upload_limit": _INT,
            "recordings_dir": _STR,
            "event_loop_interval": _INT,
            "delay": _INT,
            "delete_after_upload": {"type": "string", "enum": ["keep", "delete"]},
            "disk_reserve": {"type": "integer", "description": "MB"},
            "uploader": {"type": "string", "enum": ["upos", "openplatform"]},
            "openplatform_client_id": _STR,
            "openplatform_auth": {"type": "string", "enum": ["signature", "legacy"]},
            "openplatform_app_secret_set": {
                "type": "boolean",
                "description": "Write openplatform_app_secret; it is never read back",
            },
            "openplatform_access_token_set": {
                "type": "boolean",
                "description": "Write openplatform_access_token; it is never read back",
            },
            "catalog_provider": {
                "type": "string",
                "enum": ["bilibili", "justoneapi"],
                "description": "Where followed users' video lists come from by default",
            },
            "justoneapi_env": {
                "type": "string",
                "enum": ["global", "cn"],
                "description": "JustOneAPI prod-global, or prod-cn for mainland China",
            },
            "justoneapi_token_set": {
                "type": "boolean",
                "description": "Write justoneapi_token; it is never read back",
            },
            "justoneapi_stopped": {
                "type": "string",
                "description": "Why refreshes through JustOneAPI are held now (empty: they are not)",
            },
        },
    },
    "UploadTemplate": {
        "type": "object",
        "properties": {
            "id": _NULL_INT,
            "template_name": _STR,
            "title": _STR,
            "part_title": _STR,
            "tid": _INT,
            "tag": {
                "type": "string",
                "description": "Comma-separated; or send `tags` as a list",
            },
            "tags": {"type": "array", "items": _STR},
            "copyright": {"type": "integer", "enum": [1, 2]},
            "source": _STR,
            "desc": _STR,
            "dynamic": _STR,
            "cover": _STR,
            "dtime": _NULL_INT,
            "dolby": _FLAG,
            "hires": _FLAG,
            "no_reprint": _FLAG,
            "open_elec": _FLAG,
            "up_selection_reply": {"type": "boolean"},
            "up_close_reply": {"type": "boolean"},
            "up_close_danmu": {"type": "boolean"},
            "is_only_self": _FLAG,
            "credits": {"type": "array"},
            "extra_fields": {"type": "object"},
            "submit_api": {"type": ["string", "null"], "enum": ["app", "web", None]},
            "uploader": {
                "type": ["string", "null"],
                "enum": ["upos", "openplatform", "Noop", None],
            },
            "lines": {
                "type": "string",
                "description": "UPOS line for this template: AUTO or a line name such as "
                "bda2; empty uses the configuration's `lines`",
            },
            "user_cookie": _NULL_STR,
        },
    },
    "Video": {
        "type": "object",
        "properties": {"key": _INT, "name": _STR, "updateTime": _INT, "size": _INT},
    },
    "UploadRequest": {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {"type": "array", "items": _STR},
            "params": _ref("UploadTemplate"),
        },
    },
    "UploadJob": {
        "type": "object",
        "properties": {
            "id": _INT,
            "status": {
                "type": "string",
                "enum": [
                    "queued",
                    "running",
                    "submitting",
                    "waiting",
                    "done",
                    "failed",
                    "cancelled",
                ],
            },
            "error": _STR,
            "streamer_id": _NULL_INT,
            "streamer_info_id": _NULL_INT,
            "template_name": {"type": ["string", "null"]},
            "uploader": {"type": "string", "enum": ["upos", "openplatform"]},
            "title": _STR,
            "bytes_done": _INT,
            "bytes_total": _INT,
            "speed": {"type": "number", "description": "Bytes per second"},
            "eta": {"type": ["integer", "null"], "description": "Seconds left"},
            "line": _STR,
            "retries": _INT,
            "attempts": _INT,
            "aid": _NULL_INT,
            "bvid": _STR,
            "url": _STR,
            "finished": {"type": ["string", "null"]},
            "visible": {
                "type": "boolean",
                "description": "The archive has been seen in its account's public video list",
            },
            "visible_since": {"type": ["string", "null"]},
            "files": {"type": "array", "items": _ref("UploadFile")},
        },
    },
    "UploadFile": {
        "type": "object",
        "properties": {
            "id": _INT,
            "path": _STR,
            "size": _INT,
            "bytes_done": _INT,
            "status": {
                "type": "string",
                "enum": ["pending", "uploading", "uploaded", "failed"],
            },
            "line": _STR,
            "retries": _INT,
            "chunks_total": _INT,
            "remote_filename": _STR,
            "submitted": {"type": "boolean"},
            "error": _STR,
        },
    },
    "BilibiliAccount": {
        "type": "object",
        "properties": {
            "id": _INT,
            "name": _STR,
            "value": _STR,
            "platform": {"type": "string", "enum": ["bilibili-cookies"]},
            "mid": _NULL_INT,
            "uname": _STR,
            "face": _STR,
            "status": _STR,
            "status_reason": _STR,
            "expires_at": _NULL_STR,
        },
    },
    "NewAccount": {
        "type": "object",
        "required": ["value"],
        "properties": {
            "key": {"type": "string", "enum": ["bilibili-cookies"]},
            "value": _STR,
        },
    },
    "ApiToken": {
        "type": "object",
        "properties": {
            "id": _INT,
            "name": _STR,
            "prefix": _STR,
            "token": {"type": "string", "description": "Only when created"},
        },
    },
    "QrCode": {"type": "object", "properties": {"url": _STR, "qrcode_key": _STR}},
    "QrKey": {"type": "object", "properties": {"qrcode_key": _STR}},
    "QrDone": {"type": "object", "properties": {"filename": _STR, "mid": _INT}},
    "NewToken": {"type": "object", "required": ["name"], "properties": {"name": _STR}},
    "Status": {
        "type": "object",
        "properties": {
            "version": _STR,
            "rooms": {"type": "array", "items": {"type": "object"}},
            "download_semaphore": _INT,
            "update_semaphore": _INT,
            "config": _ref("Configuration"),
        },
    },
    "StreamerInfo": {
        "type": "object",
        "properties": {
            "id": _INT,
            "template_name": _STR,
            "stream_title": _STR,
            "streamer_name": _STR,
            "start_time": _STR,
            "video_path": _STR,
            "name": _STR,
            "url": _STR,
            "title": _STR,
            "date": _INT,
            "live_cover_path": _STR,
            "end_time": _NULL_STR,
            "gaps": {
                "type": "array",
                "description": "Stream drops inside the session",
                "items": {
                    "type": "object",
                    "properties": {"start": _STR, "seconds": {"type": "number"}},
                },
            },
        },
    },
    "RecordingFile": {
        "type": "object",
        "properties": {
            "id": _INT,
            "streamer_info_id": _INT,
            "file_path": _STR,
            "file_size": _INT,
            "duration": {"type": "number"},
            "file": _STR,
            "gaps": {
                "type": "array",
                "description": "The session's stream drops inside this file",
                "items": {
                    "type": "object",
                    "properties": {"start": _STR, "seconds": {"type": "number"}},
                },
            },
        },
    },
}

PATHS: dict[str, dict[str, Any]] = {
    "/users/register": {
        "post": _op(
            "Create the first admin (open once), or a user (admins only)",
            body="Credentials",
            security=[],
        )
    },
    "/users/login": {
        "post": _op("Log in; sets the session cookie", body="Credentials", security=[])
    },
    "/users/biliup": {"get": _op("200 when logged in, 404 when not", security=[])},
    "/logout": {
        "get": {
            "summary": "Log out and redirect to the login page",
            "responses": {"302": {"description": "Redirect"}},
        },
        "post": {
            "summary": "Log out and redirect to the login page",
            "responses": {"302": {"description": "Redirect"}},
        },
    },
    "/streamers": {
        "get": _op(
            "Streamers with their recording and upload status",
            {"type": "array", "items": _ref("StreamerRow")},
        ),
        "post": _op("Add a streamer", _ref("Streamer"), body="Streamer"),
        "put": _op(
            "Update a streamer (id in the body; fields left out are kept)",
            _ref("Streamer"),
            body="Streamer",
        ),
    },
    "/streamers/{id}": {
        "get": _op(
            "One streamer row", _ref("StreamerRow"), parameters=_id_param("Streamer id")
        ),
        "delete": _op(
            "Delete a streamer; returns it",
            _ref("Streamer"),
            parameters=_id_param("Streamer id"),
        ),
    },
    "/streamers/{id}/pause": {
        "post": _op(
            "Toggle pause: Working/Idle → Pause, Pause → Idle",
            _ref("StreamerRow"),
            parameters=_id_param("Streamer id"),
        ),
        "put": _op(
            "Same as POST (biliup's method)",
            _ref("StreamerRow"),
            parameters=_id_param("Streamer id"),
        ),
    },
    "/configuration": {
        "get": _op("The global configuration", _ref("Configuration")),
        "put": _op(
            "Update the global configuration (fields left out are kept)",
            _ref("Configuration"),
            body="Configuration",
        ),
    },
    "/upload_streamers": {
        "get": _op("Upload templates", _array("UploadTemplate")),
        "post": _op(
            "Create (id null) or update (id set) an upload template",
            _ref("UploadTemplate"),
            body="UploadTemplate",
        ),
    },
    "/upload_streamers/{id}": {
        "get": _op(
            "One upload template",
            _ref("UploadTemplate"),
            parameters=_id_param("Template id"),
        ),
        "delete": _op(
            "Delete an upload template; returns it",
            _ref("UploadTemplate"),
            parameters=_id_param("Template id"),
        ),
    },
    "/videos": {"get": _op("Media files in the recordings folder", _array("Video"))},
    "/uploads": {
        "post": _op(
            "Queue files of the recordings folder for upload",
            {"type": "object"},
            body="UploadRequest",
        )
    },
    "/upload_jobs": {
        "get": _op(
            "Upload jobs with their progress, newest first (optionally one status)",
            _array("UploadJob"),
            parameters=[
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                }
            ],
        )
    },
    "/upload_jobs/{id}": {
        "get": _op("One upload job", _ref("UploadJob"), parameters=_id_param("Job id"))
    },
    "/upload_jobs/{id}/retry": {
        "post": _op(
            "Queue a failed or cancelled job again; sent chunks are kept (409 otherwise)",
            _ref("UploadJob"),
            parameters=_id_param("Job id"),
        )
    },
    "/upload_jobs/{id}/cancel": {
        "post": _op(
            "Cancel a job; a running upload stops within a second (409 if finished)",
            _ref("UploadJob"),
            parameters=_id_param("Job id"),
        )
    },
    "/users": {
        "get": _op(
            "Bilibili accounts (never their credentials)", _array("BilibiliAccount")
        ),
        "post": _op(
            "Add a Bilibili account by name", _ref("BilibiliAccount"), body="NewAccount"
        ),
    },
    "/users/{id}": {
        "delete": _op(
            "Delete a Bilibili account; returns it",
            _ref("BilibiliAccount"),
            parameters=_id_param("Account id"),
        )
    },
    "/qrcode": {
        "get": _op(
            "Start a QR login: show `url` as a QR code",
            _ref("QrCode"),
            parameters=[
                {
                    "name": "kind",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["tv", "web"]},
                }
            ],
        )
    },
    "/login_by_qrcode": {
        "post": {
            "summary": "Advance a QR login one step: 200 {filename} once confirmed, 202 {status} until then",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("QrKey")}},
            },
            "responses": {
                "200": {
                    "description": "Logged in",
                    "content": {"application/json": {"schema": _ref("QrDone")}},
                },
                "202": {"description": "Not confirmed yet: ask again in a second"},
                "404": {"$ref": "#/components/responses/Error"},
                "410": {"$ref": "#/components/responses/Error"},
                "502": {"$ref": "#/components/responses/Error"},
            },
        }
    },
    "/myinfo": {
        "get": _op(
            "Bilibili's space/myinfo for an account",
            {"type": "object"},
            parameters=[
                {"name": "user", "in": "query", "required": True, "schema": _STR}
            ],
        )
    },
    "/archive_pre": {
        "get": _op(
            "Bilibili's category list (typelist), cached for an hour",
            {"type": "object"},
            parameters=[
                {"name": "user", "in": "query", "required": False, "schema": _STR}
            ],
        )
    },
    "/tokens": {
        "get": _op("Your API tokens", _array("ApiToken")),
        "post": _op(
            "Create an API token; its secret is shown once",
            _ref("ApiToken"),
            body="NewToken",
        ),
    },
    "/tokens/{id}": {
        "delete": _op(
            "Revoke an API token", _ref("ApiToken"), parameters=_id_param("Token id")
        )
    },
    "/proxy": {
        "get": {
            "summary": "Fetch an image from an allowed Bilibili image host",
            "parameters": [
                {"name": "url", "in": "query", "required": True, "schema": _STR}
            ],
            "responses": {
                "200": {"description": "The image"},
                "400": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
            },
        }
    },
    "/status": {"get": _op("Rooms, free slots and configuration", _ref("Status"))},
    "/streamer_info": {
        "get": _op("Live sessions, newest first", _array("StreamerInfo"))
    },
    "/streamer_info/{id}/files": {
        "get": _op(
            "Files of a live session",
            _array("RecordingFile"),
            parameters=_id_param("Session id"),
        )
    },
    "/creators": {
        "get": _op("Followed Bilibili users (creator catalogs)", _array("Creator")),
        "post": _op(
            "Follow a user: the first refresh starts at once (201; 409 if followed)",
            _ref("Creator"),
            body="Follow",
        ),
    },
    "/creators/{uid}": {
        "get": _op("One followed user", _ref("Creator"), parameters=_UID),
        "put": _op(
            "Change the provider or refresh interval (uid stays)",
            _ref("Creator"),
            body="Follow",
            parameters=_UID,
        ),
        "delete": _op(
            "Unfollow: the user's catalog and trends are deleted",
            _ref("Creator"),
            parameters=_UID,
        ),
    },
    "/creators/{uid}/refresh": {
        "post": _op(
            "Refresh now (202); 409 while JustOneAPI's daily quota is used up",
            _ref("Creator"),
            parameters=_UID,
        )
    },
    "/creators/{uid}/videos": {
        "get": _op(
            "The user's videos, filtered, sorted and paginated",
            _ref("VideoPage"),
            parameters=[
                *_UID,
                *(
                    {"name": name, "in": "query", "required": False, "schema": schema}
                    for name, schema in (
                        (
                            "order",
                            {
                                "type": "string",
                                "enum": [
                                    "-published",
                                    "published",
                                    "-play",
                                    "play",
                                    "-danmaku",
                                    "danmaku",
                                    "-duration",
                                    "duration",
                                ],
                                "default": "-published",
                            },
                        ),
                        ("q", {"type": "string", "description": "Title contains"}),
                        ("category", _STR),
                        ("since", {"type": "string", "format": "date-time"}),
                        ("until", {"type": "string", "format": "date-time"}),
                        ("page", {"type": "integer", "minimum": 1, "default": 1}),
                        (
                            "page_size",
                            {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 100,
                                "default": 30,
                            },
                        ),
                    )
                ),
            ],
        )
    },
    "/creators/{uid}/videos/{bvid}": {
        "get": _op(
            "One video with its plays and danmaku over time",
            _ref("CreatorVideo"),
            parameters=[
                *_UID,
                {"name": "bvid", "in": "path", "required": True, "schema": _STR},
            ],
        )
    },
    "/creators/{uid}/trend": {
        "get": _op(
            "The user's total videos, plays and danmaku after each refresh",
            _array("CreatorTotals"),
            parameters=_UID,
        )
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1"}},
        }
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "biliup-site API",
            "version": settings.VERSION,
            "description": "Wire-compatible with biliup's REST API.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"session": []}, {"token": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": {
                "Error": {
                    "description": "Error",
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
            },
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                },
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
    }
