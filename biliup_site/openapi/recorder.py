"""The recorder app's part of the OpenAPI document: streamers, the recordings folder's videos,
live sessions and their files.
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
)

STREAMER_SCHEMAS: dict[str, Any] = {
    "Streamer": {
        "type": "object",
        "properties": {
            "id": INT,
            "url": STR,
            "platform": {
                "type": "string",
                "description": "Read from the URL: bilibili, or a streamlink plugin",
            },
            "remark": STR,
            "template_name": NULL_STR,
            "upload_streamers_id": NULL_INT,
            "split_time": {
                "type": "integer",
                "description": "Seconds; 0 = no time split",
            },
            "split_size": {"type": "integer", "description": "MB; 0 = no size split"},
            "filename_prefix": STR,
            "format": STR,
            "time_range": {"type": ["array", "null"], "items": STR},
            "excluded_keywords": {"type": "array", "items": STR},
            "override": {"type": "object"},
            "record_danmaku": {
                "type": "boolean",
                "description": "Bilibili rooms: record the live chat (danmaku, super chats, "
                "gifts, guard purchases) in a BililiveRecorder XML beside each segment. "
                "Default true",
            },
            "danmaku_ass": {
                "type": "boolean",
                "description": "Also make an ASS subtitle of each segment's chat (biliass). "
                "Default false",
            },
        },
    },
    "StreamerRow": {
        "type": "object",
        "description": "Each Streamer field is also at the top level, as biliup's own server "
        "gives it (on /v1, time_range is JSON text there).",
        "properties": {
            "status": {"type": "string", "enum": ["Idle", "Working", "Pause"]},
            "upload_status": {"type": "string", "enum": ["Idle", "Working"]},
            "state": {
                "type": "string",
                "enum": [
                    "idle",
                    "checking",
                    "waiting",
                    "recording",
                    "restricted",
                    "error",
                    "paused",
                ],
            },
            "state_detail": STR,
            "restriction": {
                "type": "string",
                "enum": ["", "paid", "guard", "password"],
                "description": "state restricted: why the live cannot be recorded (paid/DRM, "
                "guard-only 舰长专属, password). Not tried again until its broadcast changes or "
                "the streamer is edited, paused or resumed.",
            },
            "progress": {
                "type": "object",
                "description": "The running recording; empty when not recording.",
                "properties": {
                    "bytes": INT,
                    "bitrate": INT,
                    "duration": {"type": "number"},
                    "segments": INT,
                    "file": STR,
                    "stream": {
                        "type": "string",
                        "description": "Bilibili: format/codec, e.g. flv/avc, fmp4/hevc",
                    },
                    "qn": INT,
                    "origin_qn": {
                        "type": "integer",
                        "description": "The room's best quality (accept_qn's first)",
                    },
                    "logged_out": {"type": "boolean"},
                },
            },
            "room": {
                "type": "object",
                "description": "The room as the last live check saw it (its card): Bilibili's "
                "room info, or the title streamlink's plugin tells. Kept after the live ends, "
                "but for the online count.",
                "properties": {
                    "title": STR,
                    "cover": {
                        "type": "string",
                        "description": "The cover's URL at Bilibili; fetch it through /proxy",
                    },
                    "area_name": STR,
                    "parent_area_name": STR,
                    "online": {
                        "type": ["integer", "null"],
                        "description": "While live; null when offline or not known",
                    },
                    "seen": {
                        "type": ["string", "null"],
                        "format": "date-time",
                        "description": "When a check last read these",
                    },
                },
            },
            "inner": ref("Streamer"),
        },
    },
}

STREAMER_PATHS: dict[str, dict[str, Any]] = {
    "/streamers": {
        "get": op(
            "Streamers with their recording and upload status",
            {"type": "array", "items": ref("StreamerRow")},
        ),
        "post": op("Add a streamer", ref("Streamer"), body="Streamer"),
        "put": op(
            "Update a streamer (id in the body; fields left out are kept)",
            ref("Streamer"),
            body="Streamer",
            errors=(404,),
        ),
    },
    "/streamers/{id}": {
        "get": op(
            "One streamer row", ref("StreamerRow"), parameters=id_param("Streamer id")
        ),
        "delete": op(
            "Delete a streamer; returns it",
            ref("Streamer"),
            parameters=id_param("Streamer id"),
        ),
    },
    "/streamers/{id}/pause": {
        "post": op(
            "Toggle pause: Working/Idle → Pause, Pause → Idle",
            ref("StreamerRow"),
            parameters=id_param("Streamer id"),
        ),
        "put": op(
            "Same as POST (biliup's method)",
            ref("StreamerRow"),
            parameters=id_param("Streamer id"),
        ),
    },
}

VIDEO_SCHEMAS: dict[str, Any] = {
    "Video": {
        "type": "object",
        "properties": {"key": INT, "name": STR, "updateTime": INT, "size": INT},
    },
}

VIDEO_PATHS: dict[str, dict[str, Any]] = {
    "/videos": {"get": op("Media files in the recordings folder", array("Video"))},
}

SESSION_SCHEMAS: dict[str, Any] = {
    "StreamerInfo": {
        "type": "object",
        "properties": {
            "id": INT,
            "template_name": STR,
            "stream_title": STR,
            "streamer_name": STR,
            "start_time": STR,
            "video_path": STR,
            "name": STR,
            "url": STR,
            "title": STR,
            "date": INT,
            "live_cover_path": STR,
            "end_time": NULL_STR,
            "stream_format": STR,
            "qn": {
                "type": "integer",
                "description": "The quality recorded (the worst part's); 0: unknown",
            },
            "origin_qn": {"type": "integer", "description": "The room's best quality"},
            "below_origin": {"type": "boolean"},
            "quality_note": {
                "type": "string",
                "description": "What to do about a recording below the origin, or empty",
            },
            "gaps": {
                "type": "array",
                "description": "Stream drops inside the session",
                "items": {
                    "type": "object",
                    "properties": {"start": STR, "seconds": {"type": "number"}},
                },
            },
        },
    },
    "RecordingFile": {
        "type": "object",
        "properties": {
            "id": INT,
            "streamer_info_id": INT,
            "file_path": STR,
            "file_size": INT,
            "duration": {"type": "number"},
            "file": STR,
            "gaps": {
                "type": "array",
                "description": "The session's stream drops inside this file",
                "items": {
                    "type": "object",
                    "properties": {"start": STR, "seconds": {"type": "number"}},
                },
            },
            "danmaku": {
                "type": "object",
                "description": "The live chat recorded beside this file",
                "properties": {
                    "path": {
                        "type": "string",
                        "description": "Its BililiveRecorder XML; empty when none",
                    },
                    "ass_path": {
                        "type": "string",
                        "description": "Its ASS subtitle; empty when none was made",
                    },
                    "counts": {
                        "type": "object",
                        "description": "Messages of each kind in the XML",
                        "properties": {
                            "danmaku": INT,
                            "superchat": INT,
                            "gift": INT,
                            "guard": INT,
                        },
                    },
                },
            },
        },
    },
}

SESSION_PATHS: dict[str, dict[str, Any]] = {
    "/streamer_info": {"get": op("Live sessions, newest first", array("StreamerInfo"))},
    "/streamer_info/{id}/files": {
        "get": op(
            "Files of a live session",
            array("RecordingFile"),
            parameters=id_param("Session id"),
        )
    },
}
