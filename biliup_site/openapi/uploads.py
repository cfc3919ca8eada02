"""The uploads app's part of the OpenAPI document: upload templates (biliup's upload_streamers)
and upload jobs.
"""

from __future__ import annotations

from typing import Any

from biliup_site.openapi.build import (
    FLAG,
    INT,
    NULL_INT,
    STR,
    array,
    id_param,
    op,
    ref,
)

TEMPLATE_SCHEMAS: dict[str, Any] = {
    "UploadTemplate": {
        "type": "object",
        "properties": {
            "id": NULL_INT,
            "template_name": STR,
            "title": STR,
            "part_title": STR,
            "tid": {"type": "integer", "description": "Legacy category id"},
            "tid_v2": {
                "type": ["integer", "null"],
                "description": "2025 partition (main or sub id of the partition tree), "
                "sent as human_type2 (its main partition); alias `human_type2`",
            },
            "creation_statement": {
                "type": "string",
                "enum": ["", "none", "ai", "fiction", "marketing", "opinion"],
                "description": "创作声明 of a self-made archive; empty: none declared",
            },
            "tag": {
                "type": "string",
                "description": "Comma-separated, 1 to 10 tags of at most 20 characters; "
                "or send `tags` as a list",
            },
            "tags": {"type": "array", "items": STR},
            "copyright": {"type": "integer", "enum": [1, 2]},
            "source": STR,
            "desc": STR,
            "dynamic": STR,
            "cover": STR,
            "dtime": {
                "type": ["integer", "null"],
                "description": "Scheduled publishing, unix seconds, 2 hours to 15 days "
                "ahead when saved; null: at once",
            },
            "dolby": FLAG,
            "hires": FLAG,
            "no_reprint": FLAG,
            "open_elec": FLAG,
            "up_selection_reply": {"type": "boolean"},
            "up_close_reply": {"type": "boolean"},
            "up_close_danmu": {"type": "boolean"},
            "is_only_self": FLAG,
            "keep_danmaku": {
                "type": "boolean",
                "description": "When the configuration deletes videos after upload, keep "
                "their danmaku XML and ASS files (default true). Danmaku files are never "
                "uploaded as parts",
            },
            "credits": {"type": "array"},
            "extra_fields": {
                "type": ["object", "string", "null"],
                "description": "A JSON object; its JSON text is accepted too. On /v1 it is "
                "answered as text (null when empty), as biliup's UI binds it to a text area",
            },
            "submit_api": {"type": ["string", "null"], "enum": ["app", "web", None]},
            "uploader": {
                "type": ["string", "null"],
                "enum": ["upos", "openplatform", "bcut", "Noop", None],
            },
            "lines": {
                "type": "string",
                "description": "UPOS line for this template: AUTO or a line name such as "
                "bda2; empty uses the configuration's `lines`",
            },
            "user_cookie": {
                "type": ["string", "null"],
                "description": "The account's name, or a cookies file in the data folder "
                "(cookies.json, data/12345.json), imported when first named; a name that "
                "names nothing yet is kept and linked when such an account appears",
            },
            "season_id": NULL_INT,
            "section_id": NULL_INT,
            "warning": {
                "type": ["string", "null"],
                "readOnly": True,
                "description": "Why the template cannot upload yet (no account of its name)",
            },
        },
    },
}

TEMPLATE_PATHS: dict[str, dict[str, Any]] = {
    "/upload_streamers": {
        "get": op("Upload templates", array("UploadTemplate")),
        "post": op(
            "Create (id null) or update (id set) an upload template",
            ref("UploadTemplate"),
            body="UploadTemplate",
            errors=(404,),
        ),
    },
    "/upload_streamers/{id}": {
        "get": op(
            "One upload template",
            ref("UploadTemplate"),
            parameters=id_param("Template id"),
        ),
        "delete": op(
            "Delete an upload template; returns it",
            ref("UploadTemplate"),
            parameters=id_param("Template id"),
        ),
    },
}

JOB_SCHEMAS: dict[str, Any] = {
    "UploadRequest": {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {"type": "array", "items": STR},
            "params": ref("UploadTemplate"),
        },
    },
    "UploadJob": {
        "type": "object",
        "properties": {
            "id": INT,
            "status": {
                "type": "string",
                "enum": [
                    "queued",
                    "running",
                    "submitting",
                    "waiting",
                    "paused",
                    "done",
                    "failed",
                    "cancelled",
                ],
            },
            "error": STR,
            "paused_until": {
                "type": ["string", "null"],
                "description": "While paused: when the job is queued again",
            },
            "review_state": {
                "type": "string",
                "enum": ["", "reviewing", "public", "rejected"],
                "description": "The archive's review on Bilibili, polled after submit",
            },
            "review_reason": {"type": "string", "description": "Why it was rejected"},
            "season_added": {
                "type": ["string", "null"],
                "description": "When the archive joined the template's collection",
            },
            "streamer_id": NULL_INT,
            "streamer_info_id": NULL_INT,
            "template_name": {"type": ["string", "null"]},
            "uploader": {"type": "string", "enum": ["upos", "openplatform", "bcut"]},
            "title": STR,
            "bytes_done": INT,
            "bytes_total": INT,
            "speed": {"type": "number", "description": "Bytes per second"},
            "eta": {"type": ["integer", "null"], "description": "Seconds left"},
            "connections": {
                "type": "integer",
                "description": "Chunks in flight while sending (0: not sending)",
            },
            "limited_by": {
                "type": "string",
                "enum": ["", "cap", "schedule", "account", "line", "connections"],
                "description": "What holds its speed now: a rate cap, or a connection ceiling",
            },
            "line": STR,
            "retries": INT,
            "attempts": INT,
            "aid": NULL_INT,
            "bvid": STR,
            "url": STR,
            "finished": {"type": ["string", "null"]},
            "visible": {
                "type": "boolean",
                "description": "The archive has been seen in its account's public video list",
            },
            "visible_since": {"type": ["string", "null"]},
            "files": {"type": "array", "items": ref("UploadFile")},
        },
    },
    "UploadFile": {
        "type": "object",
        "properties": {
            "id": INT,
            "path": STR,
            "size": INT,
            "bytes_done": INT,
            "status": {
                "type": "string",
                "enum": ["pending", "uploading", "uploaded", "failed"],
            },
            "line": STR,
            "retries": INT,
            "chunks_total": INT,
            "remote_filename": STR,
            "submitted": {"type": "boolean"},
            "error": STR,
        },
    },
}

JOB_PATHS: dict[str, dict[str, Any]] = {
    "/uploads": {
        "post": op(
            "Queue files of the recordings folder for upload",
            {"type": "object"},
            body="UploadRequest",
        )
    },
    "/upload_jobs": {
        "get": op(
            "Upload jobs with their progress, newest first (optionally one status)",
            array("UploadJob"),
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
        "get": op("One upload job", ref("UploadJob"), parameters=id_param("Job id"))
    },
    "/upload_jobs/{id}/retry": {
        "post": op(
            "Queue a failed or cancelled job again; sent chunks are kept (409 otherwise)",
            ref("UploadJob"),
            errors=(409,),
            parameters=id_param("Job id"),
        )
    },
    "/upload_jobs/{id}/cancel": {
        "post": op(
            "Cancel a job; a running upload stops within a second (409 if finished)",
            ref("UploadJob"),
            errors=(409,),
            parameters=id_param("Job id"),
        )
    },
}
