"""Notifications and webhooks (biliup_site/hooks_api.py): /hooks, their deliveries, /events."""

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
)

# biliup_site.models.EventKind's values (tests/site/test_hooks_api.py checks they agree).
EVENT_KINDS = [
    "session_started",
    "stream_started",
    "file_opening",
    "file_closed",
    "stream_ended",
    "session_ended",
    "recording_failed",
    "recording_stalled",
    "disk_low",
    "upload_published",
    "upload_failed",
    "upload_rejected",
    "account_paused",
    "cookie_expiring",
    "cookie_expired",
]
_KINDS = {"type": "string", "enum": EVENT_KINDS}
_LIMIT = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "How many, newest first (1–100)",
        "schema": {"type": "integer", "default": 20},
    }
]

SCHEMAS: dict[str, Any] = {
    "Hook": {
        "type": "object",
        "properties": {
            "id": INT,
            "kind": {
                "type": "string",
                "enum": ["apprise", "webhook"],
                "description": "apprise: a notification URL (tgram://, mailto://, ...); "
                "webhook: signed JSON in BililiveRecorder's webhook v2 shape",
            },
            "name": STR,
            "url": {
                "type": "string",
                "description": "Write-only for apprise: read back masked (scheme and host)",
            },
            "events": {
                "type": "array",
                "items": _KINDS,
                "description": "Empty: every kind",
            },
            "allow_private": {
                "type": "boolean",
                "description": "Webhooks: allow loopback, private and link-local addresses",
            },
            "enabled": {"type": "boolean"},
            "secret_set": {"type": "boolean", "readOnly": True},
            "created": {"type": "string", "format": "date-time", "readOnly": True},
            "secret": {
                "type": "string",
                "readOnly": True,
                "description": "Only in the answer that made it: the key of the "
                "X-Biliup-Signature header (sha256=<hex HMAC-SHA256 of the body>)",
            },
        },
    },
    "HookWrite": {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["apprise", "webhook"]},
            "name": STR,
            "url": STR,
            "events": {
                "type": "array",
                "items": _KINDS,
                "description": "Left out on create: the usual alerts for apprise, every "
                "kind for webhooks",
            },
            "allow_private": {"type": "boolean"},
            "enabled": {"type": "boolean"},
            "regenerate_secret": {
                "type": "boolean",
                "description": "PATCH: give the webhook a new secret, answered this once",
            },
        },
    },
    "Event": {
        "type": "object",
        "properties": {
            "id": INT,
            "uuid": {"type": "string", "description": "The webhook's EventId"},
            "kind": _KINDS,
            "key": STR,
            "data": {"type": "object", "description": "The webhook's EventData"},
            "summary": STR,
            "created": {"type": "string", "format": "date-time"},
        },
    },
    "Delivery": {
        "type": "object",
        "properties": {
            "id": INT,
            "hook_id": INT,
            "event": ref("Event"),
            "status": {"type": "string", "enum": ["pending", "sent", "failed"]},
            "attempts": INT,
            "next_try": NULL_STR,
            "last_try": NULL_STR,
            "response_status": NULL_INT,
            "error": STR,
        },
    },
    "HookTest": {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "status": NULL_INT, "error": STR},
    },
}

_HOOK_ID = id_param("Hook id")

PATHS: dict[str, dict[str, Any]] = {
    "/hooks": {
        "get": op("Notifications and webhooks", array("Hook")),
        "post": op(
            "Add a notification or a webhook (201; a webhook's secret is in the answer)",
            ref("Hook"),
            body="HookWrite",
            status=201,
        ),
    },
    "/hooks/{id}": {
        "get": op("One hook", ref("Hook"), parameters=_HOOK_ID),
        "patch": op(
            "Change a hook (fields left out, the URL too, are kept)",
            ref("Hook"),
            body="HookWrite",
            parameters=_HOOK_ID,
        ),
        "delete": op(
            "Delete a hook and its deliveries", ref("Hook"), parameters=_HOOK_ID
        ),
    },
    "/hooks/{id}/test": {
        "post": op("Send a test event now", ref("HookTest"), parameters=_HOOK_ID),
    },
    "/hooks/{id}/deliveries": {
        "get": op(
            "The hook's latest deliveries",
            array("Delivery"),
            parameters=_HOOK_ID + _LIMIT,
        ),
    },
    "/events": {"get": op("Latest events", array("Event"), parameters=_LIMIT)},
}
