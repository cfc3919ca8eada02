"""The JSON shapes of the uploads app's objects, as their to_dict() returns them and the API
and the live socket send them."""

from __future__ import annotations

from typing import Any, TypedDict


class UploadTemplateDict(TypedDict):
    """The documented names, then biliup's aliases (copyright_source … charging_pay)."""

    id: int | None  # None for the unsaved settings create_job() snapshots
    template_name: str
    title: str
    part_title: str
    tid: int
    tid_v2: int | None
    creation_statement: str
    season_id: int | None
    section_id: int | None
    tag: str
    tags: list[str]
    copyright: int
    source: str
    desc: str
    dynamic: str
    cover: str
    dtime: int | None
    dolby: int
    hires: int
    no_reprint: int
    open_elec: int
    up_selection_reply: bool
    up_close_reply: bool
    up_close_danmu: bool
    is_only_self: int
    credits: list[Any]
    extra_fields: dict[str, Any]
    submit_api: str | None
    uploader: str | None
    lines: str
    user_cookie: str | None
    copyright_source: str
    description: str
    cover_path: str
    charging_pay: int
    human_type2: int | None
    keep_danmaku: bool
    warning: str | None


class UploadJobDict(TypedDict):
    id: int
    status: str
    error: str
    streamer_id: int | None
    streamer_info_id: int | None
    template_name: str | None
    user_cookie: str | None
    uploader: str
    title: str
    bytes_done: int
    bytes_total: int
    speed: float
    eta: int | None
    connections: int
    limited_by: str
    line: str
    retries: int
    attempts: int
    aid: int | None
    bvid: str
    url: str
    created: str
    updated: str
    finished: str | None
    visible: bool
    visible_since: str | None
    paused_until: str | None
    review_state: str
    review_reason: str
    season_added: str | None
    files: list[UploadFileDict]


class UploadFileDict(TypedDict):
    id: int
    path: str
    size: int
    bytes_done: int
    status: str
    line: str
    retries: int
    chunks_total: int
    remote_filename: str
    submitted: bool
    error: str
