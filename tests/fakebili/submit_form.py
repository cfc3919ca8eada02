"""The 2025 parts of a submit's Studio body: the partition (`human_type2`) and the creation
statement (创作声明); submit.py's _check_studio calls check(), Archive.to_dict() partition_of().

- `human_type2`, when sent, must be one of the main partitions the type2 list gives
  (member.HUMAN_TYPES), else 21001. It is where the archive is filed.
- Without it the real site ignores a second-level legacy `tid` or maps it to 生活-日常
  (bilibili-2026.md): the fake files every such archive under the legacy 生活-日常 (tid 21),
  whatever tid was sent, and records that, so a test can show why tid_v2 matters.
- `creation_statement`, when sent (not null), must be {"id": n} with n one of -1 (none needed),
  1 (AI-generated), 2 (fiction or staged), 3 (marketing), 4 (personal opinion), else 21001.

Reference: bilibili-protocol.md §3.10, §4.1; bilibili-2026.md "Upload and submit" (biliLive-tools
#454, #541 for the statement's shape). Invented where the sources are silent: the 21001 messages,
and that a sub partition id (2xxx) in human_type2 is refused (the type2 list has none).
"""

from __future__ import annotations

from typing import Any

from tests.fakebili.member import HUMAN_TYPES
from tests.fakebili.wire import Response, fail

HUMAN_TYPE_NAMES = dict(HUMAN_TYPES)
STATEMENT_IDS = frozenset({-1, 1, 2, 3, 4})
# Where the site files an archive sent with a legacy tid alone.
LEGACY_FALLBACK = {"tid": 21, "human_type2": None, "name": "生活-日常"}


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def check(body: dict[str, Any]) -> Response | None:
    """The refusal for a bad human_type2 or creation_statement; None if they are fine."""
    if body.get("human_type2") is not None:
        human_type2 = _int(body["human_type2"])
        if human_type2 not in HUMAN_TYPE_NAMES:
            return fail(21001, f"分区 {body['human_type2']!r} 不存在")
    statement = body.get("creation_statement")
    if statement is not None and not (
        isinstance(statement, dict)
        and set(statement) == {"id"}
        and _int(statement["id"]) in STATEMENT_IDS
    ):
        return fail(21001, f"创作声明 {statement!r} 无效")
    return None


def partition_of(body: dict[str, Any]) -> dict[str, Any]:
    """Where the archive is filed: {tid, human_type2, name}."""
    human_type2 = _int(body.get("human_type2"))
    if human_type2 in HUMAN_TYPE_NAMES:
        return {
            "tid": body.get("tid"),
            "human_type2": human_type2,
            "name": HUMAN_TYPE_NAMES[human_type2],
        }
    return dict(LEGACY_FALLBACK)
