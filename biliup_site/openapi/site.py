"""The site's own part of the OpenAPI document (biliup_site/site_api.py): the configuration,
status, the attention counts, the image proxy and this document.
"""

from __future__ import annotations

from typing import Any

from biliup_site.openapi.build import INT, STR, op, ref, refusal

CONFIGURATION_SCHEMAS: dict[str, Any] = {
    "Configuration": {
        "type": "object",
        "properties": {
            "lines": STR,
            "threads": INT,
            "submit_api": {"type": ["string", "null"], "enum": ["app", "web", None]},
            "download_limit": INT,
            "upload_limit": INT,
            "recordings_dir": STR,
            "event_loop_interval": INT,
            "delay": INT,
            "delete_after_upload": {"type": "string", "enum": ["keep", "delete"]},
            "disk_reserve": {"type": "integer", "description": "MB"},
            "uploader": {"type": "string", "enum": ["upos", "openplatform"]},
            "openplatform_client_id": STR,
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
            "upload_rate_limit": {
                "type": "integer",
                "description": "KiB/s for all uploads together; 0: no limit",
            },
            "upload_schedule": {
                "type": "array",
                "description": "Caps by the time of day, in the site's time zone; the first "
                "rule that holds wins, outside them upload_rate_limit does",
                "items": {
                    "type": "object",
                    "properties": {
                        "start": {"type": "string", "description": "HH:MM"},
                        "end": {"type": "string", "description": "HH:MM"},
                        "rate": {
                            "type": "integer",
                            "description": "KiB/s; 0: no limit",
                        },
                    },
                },
            },
            "upload_adaptive": {
                "type": "boolean",
                "description": "Open connections while the speed grows (false: exactly threads)",
            },
            "upload_max_connections": {
                "type": "integer",
                "description": "Chunks in flight over all running uploads",
            },
            "upload_line_max_connections": {
                "type": "integer",
                "description": "Chunks in flight on one UPOS line",
            },
            "user": {
                "type": ["object", "null"],
                "description": "biliup's cookie keys, kept as accounts, never here: on write "
                "bili_cookie_file imports that cookies file (or names an account) and "
                "bili_cookie (with SESSDATA) becomes an account; other non-empty keys are "
                "refused. On read, bili_cookie_file is the first account's name.",
            },
        },
    },
}

CONFIGURATION_PATHS: dict[str, dict[str, Any]] = {
    "/configuration": {
        "get": op("The global configuration", ref("Configuration")),
        "put": op(
            "Update the global configuration (fields left out are kept)",
            ref("Configuration"),
            body="Configuration",
        ),
    },
}

STATUS_SCHEMAS: dict[str, Any] = {
    "Status": {
        "type": "object",
        "properties": {
            "version": STR,
            "rooms": {"type": "array", "items": {"type": "object"}},
            "download_semaphore": INT,
            "update_semaphore": INT,
            "config": ref("Configuration"),
        },
    },
}

PROXY_AND_STATUS_PATHS: dict[str, dict[str, Any]] = {
    "/proxy": {
        "get": {
            "summary": "Fetch an image from an allowed Bilibili image host",
            "parameters": [
                {"name": "url", "in": "query", "required": True, "schema": STR}
            ],
            "responses": {
                "200": {
                    "description": "The image, kept on the server's disk and, with an "
                    "ETag, in the browser for BILIUP_PROXY_CACHE_DAYS"
                },
                "304": {"description": "Not modified (If-None-Match)"},
                "403": refusal(403),
                "502": refusal(502),
                "504": refusal(504),
            },
        }
    },
    "/status": {"get": op("Rooms, free slots and configuration", ref("Status"))},
}

ATTENTION_SCHEMAS: dict[str, Any] = {
    "Attention": {
        "type": "object",
        "description": "What needs the user: the counts of the pages' attention strip",
        "required": [
            "total",
            "failed_uploads",
            "failing_rooms",
            "paused_accounts",
            "expiring_logins",
            "disk_low",
            "disk_free",
            "disk_reserve",
        ],
        "properties": {
            "total": {
                "type": "integer",
                "description": "The things below that need the user (a low disk is one)",
            },
            "failed_uploads": {
                "type": "integer",
                "description": "Upload jobs that failed in the last 7 days",
            },
            "failing_rooms": {
                "type": "integer",
                "description": "Streamers not paused whose recording failed (state error) "
                "or stalled (recording, its recorder no longer beating)",
            },
            "paused_accounts": {
                "type": "integer",
                "description": "Accounts whose uploads Bilibili paused (too fast)",
            },
            "expiring_logins": {
                "type": "integer",
                "description": "Accounts whose login expired, was revoked, is missing or "
                "runs out within 7 days",
            },
            "disk_low": {
                "type": "boolean",
                "description": "Less free disk than the reserve where recordings go",
            },
            "disk_free": {"type": "integer", "description": "Bytes"},
            "disk_reserve": {"type": "integer", "description": "Bytes"},
        },
    },
}

ATTENTION_PATHS: dict[str, dict[str, Any]] = {
    "/attention": {"get": op("What needs the user, counted", ref("Attention"))},
}

DOCUMENT_PATHS: dict[str, dict[str, Any]] = {
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1"}},
        }
    },
}
