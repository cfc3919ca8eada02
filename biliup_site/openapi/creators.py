"""The creator catalogs' part of the OpenAPI document: followed Bilibili users, their videos and
trends under /creators.
"""

from __future__ import annotations

from typing import Any

from biliup_site.openapi.build import INT, STR, array, op, ref

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
    "Follow": {
        "type": "object",
        "required": ["uid"],
        "properties": {
            "uid": INT,
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
            "uid": INT,
            "name": STR,
            "face": STR,
            "provider": {"type": "string", "enum": ["", "bilibili", "justoneapi"]},
            "provider_used": {
                "type": "string",
                "enum": ["", "app", "web", "justoneapi"],
                "description": "The endpoint that answered the last refresh",
            },
            "refresh_minutes": INT,
            "status": {"type": "string", "enum": ["new", "ok", "error", "stopped"]},
            "status_reason": STR,
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
            "created": STR,
        },
    },
    "CreatorVideo": {
        "type": "object",
        "properties": {
            "bvid": STR,
            "aid": INT,
            "uid": INT,
            "title": STR,
            "cover": STR,
            "duration": {"type": "integer", "description": "Seconds"},
            "play": INT,
            "danmaku": INT,
            "published": STR,
            "category": STR,
            "url": STR,
            "first_seen": STR,
            "updated": STR,
            "snapshots": {
                "type": "array",
                "description": "Only on /creators/{uid}/videos/{bvid}",
                "items": {
                    "type": "object",
                    "properties": {"at": STR, "play": INT, "danmaku": INT},
                },
            },
        },
    },
    "VideoPage": {
        "type": "object",
        "properties": {
            "count": INT,
            "page": INT,
            "page_size": INT,
            "pages": INT,
            "results": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/CreatorVideo"},
            },
        },
    },
    "CreatorTotals": {
        "type": "object",
        "properties": {"at": STR, "videos": INT, "play": INT, "danmaku": INT},
    },
}

PATHS: dict[str, dict[str, Any]] = {
    "/creators": {
        "get": op("Followed Bilibili users (creator catalogs)", array("Creator")),
        "post": op(
            "Follow a user: the first refresh starts at once (201; 409 if followed)",
            ref("Creator"),
            body="Follow",
            status=201,
            errors=(409,),
        ),
    },
    "/creators/{uid}": {
        "get": op("One followed user", ref("Creator"), parameters=_UID),
        "put": op(
            "Change the provider or refresh interval (uid stays)",
            ref("Creator"),
            body="Follow",
            parameters=_UID,
        ),
        "delete": op(
            "Unfollow: the user's catalog and trends are deleted",
            ref("Creator"),
            parameters=_UID,
        ),
    },
    "/creators/{uid}/refresh": {
        "post": op(
            "Refresh now (202); 409 while JustOneAPI's daily quota is used up",
            ref("Creator"),
            status=202,
            errors=(409,),
            parameters=_UID,
        )
    },
    "/creators/{uid}/videos": {
        "get": op(
            "The user's videos, filtered, sorted and paginated",
            ref("VideoPage"),
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
                        ("category", STR),
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
        "get": op(
            "One video with its plays and danmaku over time",
            ref("CreatorVideo"),
            parameters=[
                *_UID,
                {"name": "bvid", "in": "path", "required": True, "schema": STR},
            ],
        )
    },
    "/creators/{uid}/trend": {
        "get": op(
            "The user's total videos, plays and danmaku after each refresh",
            array("CreatorTotals"),
            parameters=_UID,
        )
    },
}
