"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json.

Hand-written next to the routes: one module per app (accounts, recorder, uploads, creators, site, hooks)
holds its schemas and paths, built with build.py's helpers, and this module assembles them into
document(). tests/site/test_openapi.py fails when a route is missing here. The package imports
only Django's settings and its own modules; biliup_site/site_api.py calls document(), and nothing
outside the package imports the part modules or build.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from biliup_site.openapi import accounts, creators, hooks, recorder, site, uploads
from biliup_site.openapi.build import STR, refusal_responses, with_refusals

# The sections interleave the apps in the order the document has always listed them, so the
# served JSON stays byte-for-byte what clients and diffs already know.
SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": STR}},
    **creators.SCHEMAS,
    **accounts.USER_SCHEMAS,
    **recorder.STREAMER_SCHEMAS,
    **site.CONFIGURATION_SCHEMAS,
    **uploads.TEMPLATE_SCHEMAS,
    **recorder.VIDEO_SCHEMAS,
    **uploads.JOB_SCHEMAS,
    **accounts.ACCOUNT_SCHEMAS,
    **site.STATUS_SCHEMAS,
    **recorder.SESSION_SCHEMAS,
    **hooks.SCHEMAS,
    **site.ATTENTION_SCHEMAS,
}

PATHS: dict[str, dict[str, Any]] = with_refusals(
    {
        **accounts.USER_PATHS,
        **recorder.STREAMER_PATHS,
        **site.CONFIGURATION_PATHS,
        **uploads.TEMPLATE_PATHS,
        **recorder.VIDEO_PATHS,
        **uploads.JOB_PATHS,
        **accounts.ACCOUNT_PATHS,
        **site.PROXY_AND_STATUS_PATHS,
        **recorder.SESSION_PATHS,
        **creators.PATHS,
        **hooks.PATHS,
        **site.ATTENTION_PATHS,
        **site.DOCUMENT_PATHS,
    }
)


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
            "responses": refusal_responses(),
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
