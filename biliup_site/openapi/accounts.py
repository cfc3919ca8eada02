"""The accounts app's part of the OpenAPI document: site users and login, Bilibili accounts
and QR login, Bilibili's myinfo and category list, API tokens.
"""

from __future__ import annotations

from typing import Any

from biliup_site.openapi.build import (
    INT,
    NULL_INT,
    NULL_STR,
    STR,
    array,
    id_param,
    op,
    ref,
    refusal,
)

USER_SCHEMAS: dict[str, Any] = {
    "Credentials": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": STR, "password": STR, "next": STR},
    },
}

USER_PATHS: dict[str, dict[str, Any]] = {
    "/users/register": {
        "post": op(
            "Create the first admin (open once), or a user (admins only). Any password is"
            " taken, as in biliup; a weak one adds `warning` to the answer",
            body="Credentials",
            security=[],
        )
    },
    "/users/login": {
        "post": op(
            "Log in; sets the session cookie. `warning` in the answer: the password is weak",
            body="Credentials",
            errors=(429,),
            security=[],
        )
    },
    "/users/biliup": {
        "get": op("200 when logged in, 404 when not", errors=(404,), security=[])
    },
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
}

ACCOUNT_SCHEMAS: dict[str, Any] = {
    "BilibiliAccount": {
        "type": "object",
        "properties": {
            "id": INT,
            "name": STR,
            "value": STR,
            "platform": {"type": "string", "enum": ["bilibili-cookies"]},
            "mid": NULL_INT,
            "uname": STR,
            "face": STR,
            "status": STR,
            "status_reason": STR,
            "expires_at": NULL_STR,
            "upload_budget": {
                "type": "integer",
                "description": "Files the account may start uploading in an hour",
            },
            "upload_rate_limit": {
                "type": "integer",
                "description": "KiB/s for all its uploads together; 0: no limit",
            },
            "uploads_paused_until": {
                "type": ["string", "null"],
                "description": "While its uploads are paused (too fast, or over budget)",
            },
            "uploads_paused_reason": STR,
        },
    },
    "NewAccount": {
        "type": "object",
        "required": ["value"],
        "properties": {
            "key": {"type": "string", "enum": ["bilibili-cookies"]},
            "value": STR,
        },
    },
    "ApiToken": {
        "type": "object",
        "properties": {
            "id": INT,
            "name": STR,
            "prefix": STR,
            "token": {"type": "string", "description": "Only when created"},
        },
    },
    "QrCode": {"type": "object", "properties": {"url": STR, "qrcode_key": STR}},
    "QrKey": {"type": "object", "properties": {"qrcode_key": STR}},
    "QrDone": {"type": "object", "properties": {"filename": STR, "mid": INT}},
    "NewToken": {"type": "object", "required": ["name"], "properties": {"name": STR}},
}

ACCOUNT_PATHS: dict[str, dict[str, Any]] = {
    "/users": {
        "get": op(
            "Bilibili accounts (never their credentials)", array("BilibiliAccount")
        ),
        "post": op(
            "Add a Bilibili account by name", ref("BilibiliAccount"), body="NewAccount"
        ),
    },
    "/users/{id}": {
        "delete": op(
            "Delete a Bilibili account; returns it",
            ref("BilibiliAccount"),
            parameters=id_param("Account id"),
        )
    },
    "/qrcode": {
        "get": op(
            "Start a QR login: show `url` as a QR code",
            ref("QrCode"),
            errors=(502,),
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
            "summary": "Wait, as biliup does, until the phone confirms (200 {filename}), the code"
            " expires (410) or the wait ends (202 {status}); ?wait=0 polls once",
            "parameters": [
                {
                    "name": "wait",
                    "in": "query",
                    "required": False,
                    "description": "Seconds to wait, 0 to BILIUP_QR_WAIT_SECONDS (the default, 300)",
                    "schema": {"type": "number", "minimum": 0},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("QrKey")}},
            },
            "responses": {
                "200": {
                    "description": "Logged in",
                    "content": {"application/json": {"schema": ref("QrDone")}},
                },
                "202": {"description": "Not confirmed yet: ask again"},
                "404": refusal(404),
                "410": refusal(410),
                "502": refusal(502),
            },
        }
    },
    "/myinfo": {
        "get": op(
            "Bilibili's space/myinfo for an account",
            {"type": "object"},
            errors=(404, 409, 502),
            parameters=[
                {"name": "user", "in": "query", "required": True, "schema": STR}
            ],
        )
    },
    "/archive_pre": {
        "get": op(
            "Bilibili's category list (typelist), cached for an hour",
            {"type": "object"},
            errors=(404, 409, 502),
            parameters=[
                {"name": "user", "in": "query", "required": False, "schema": STR}
            ],
        )
    },
    "/tokens": {
        "get": op("Your API tokens", array("ApiToken")),
        "post": op(
            "Create an API token; its secret is shown once",
            ref("ApiToken"),
            body="NewToken",
        ),
    },
    "/tokens/{id}": {
        "delete": op(
            "Revoke an API token", ref("ApiToken"), parameters=id_param("Token id")
        )
    },
}
