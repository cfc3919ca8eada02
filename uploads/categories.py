"""Bilibili's category list (archive/pre), cached: it changes rarely and every page wants it.

Reference: ../shared/reference/bilibili-protocol.md §3.10.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from biliup_site import bilibili

CACHE_SECONDS = 3600


def archive_pre(credential: dict[str, Any], account_id: int) -> dict[str, Any]:
    key = f"archive_pre:{account_id}"
    if (cached := cache.get(key)) is not None:
        return cached
    data = bilibili.call(
        bilibili.session(credential),
        "GET",
        bilibili.member_url("/x/vupre/web/archive/pre"),
    )
    if not isinstance(data, dict) or not isinstance(data.get("typelist"), list):
        raise bilibili.BilibiliUnavailable(
            "archive/pre answered without a category list"
        )
    cache.set(key, data, CACHE_SECONDS)
    return data
