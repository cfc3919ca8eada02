"""Bilibili's category list (archive/pre), cached: it changes rarely and every page wants it.

The request is `biliup_site.bilibili.account.archive_pre`; what is ours is the cache, one entry
per account for an hour.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from biliup_site.bilibili import account as bilibili_account

CACHE_SECONDS = 3600


def archive_pre(credential: dict[str, Any], account_id: int) -> dict[str, Any]:
    key = f"archive_pre:{account_id}"
    if (cached := cache.get(key)) is not None:
        return cached
    data = bilibili_account.archive_pre(credential)
    cache.set(key, data, CACHE_SECONDS)
    return data
