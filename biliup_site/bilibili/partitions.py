"""The 2025 partition tree (分区 v2, `tid_v2`): main partitions and their sub partitions.

Bilibili replaced its categories in 2025: a second-level legacy `tid` sent alone is ignored or
mapped to 生活-日常, and the archive's partition is the submit's `human_type2`. The creator
centre lists the partitions it takes there with `human/type2/list`, a flat list of the main
partitions (1001 影视 …); the sub partitions (2001 影视解读 …) exist in the site's catalog but
Bilibili has not opened them for submitting yet, so `human_type2` carries the main partition.

The tree ships as partitions.json (pure data: [{id, name, children: [{id, name}]}]). refresh()
rewrites a copy in the data folder from a logged-in account's type2 list, which then wins.

Reference: bilibili-protocol.md §3.10 (`human/type2/list`); bilibili-2026.md "Upload and
submit" (the 2025 overhaul); the ids and names are the catalog of bilibili-API-collect's
docs/video/video_zone_v2.md and its creativecenter upload page (`data.type_list`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

from django.conf import settings

from biliup_site.bilibili import http

logger = logging.getLogger(__name__)

SHIPPED = Path(__file__).with_name("partitions.json")


class SubDict(TypedDict):
    id: int
    name: str


class MainDict(TypedDict):
    id: int
    name: str
    children: list[SubDict]


@dataclass(frozen=True)
class Partition:
    id: int
    name: str
    main: int  # the main partition's id; its own id for a main partition

    @property
    def is_main(self) -> bool:
        return self.main == self.id


def local_path() -> Path:
    """Where refresh() writes by default: the data folder's copy, read before the shipped one."""
    return Path(settings.DATA_DIR) / "partitions.json"


def tree() -> list[MainDict]:
    """The tree in use: the data folder's refreshed copy if there is one, else the shipped file."""
    local = local_path()
    return _read(local if local.exists() else SHIPPED)


@cache
def _read_cached(path: str, mtime: int) -> tuple[tuple[Any, ...], ...]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(
        (
            int(m["id"]),
            str(m["name"]),
            tuple((int(c["id"]), str(c["name"])) for c in m["children"]),
        )
        for m in data
    )


def _read(path: Path) -> list[MainDict]:
    # Cached per modification time, so a refresh is seen without a restart.
    rows = _read_cached(str(path), path.stat().st_mtime_ns)
    return [
        {"id": i, "name": n, "children": [{"id": c, "name": cn} for c, cn in subs]}
        for i, n, subs in rows
    ]


def find(tid_v2: int | None) -> Partition | None:
    """The partition with this id, main or sub; None if the tree has none."""
    if tid_v2 is None:
        return None
    for main in tree():
        if main["id"] == tid_v2:
            return Partition(main["id"], main["name"], main["id"])
        for sub in main["children"]:
            if sub["id"] == tid_v2:
                return Partition(
                    sub["id"], f"{main['name']} › {sub['name']}", main["id"]
                )
    return None


def human_type2(tid_v2: int) -> int:
    """The submit's `human_type2` for a template's partition: its main partition, the level
    the creator centre takes today (type2/list lists only those). An unknown id goes as is."""
    found = find(tid_v2)
    return found.main if found is not None else tid_v2


def choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Grouped choices for a <select>: one <optgroup> per main partition, the main partition
    itself first, then its sub partitions."""
    return [
        (
            main["name"],
            [
                (main["id"], main["name"]),
                *(
                    (sub["id"], f"{main['name']} › {sub['name']}")
                    for sub in main["children"]
                ),
            ],
        )
        for main in tree()
    ]


def fetch_main(credential: dict[str, Any]) -> list[tuple[int, str]]:
    """§3.10 `human/type2/list`: the main partitions the account may submit to, (id, name)."""
    with http.session(credential) as sess:
        data = http.call(
            sess,
            "GET",
            http.member_url("/x/vupre/web/archive/human/type2/list"),
            params={"t": int(time.time() * 1000)},
        )
    items = (data or {}).get("type_list") if isinstance(data, dict) else None
    found = [
        (int(item["id"]), str(item.get("name") or item["id"]))
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("id"), int)
    ]
    if not found:
        raise http.BilibiliUnavailable("human/type2/list answered without partitions")
    return found


def merge(current: list[MainDict], mains: list[tuple[int, str]]) -> list[MainDict]:
    """The tree with Bilibili's main partitions, in its order and with its names; the known sub
    partitions of each kept (the list does not carry them), a new main partition with none."""
    known = {m["id"]: m["children"] for m in current}
    return [{"id": i, "name": n, "children": list(known.get(i, []))} for i, n in mains]


def write(rows: list[MainDict], path: Path) -> None:
    """One line per partition, so a refresh's diff shows what changed."""
    lines = []
    for main in rows:
        subs = ",\n".join(
            "   " + json.dumps(sub, ensure_ascii=False) for sub in main["children"]
        )
        head = json.dumps({"id": main["id"], "name": main["name"]}, ensure_ascii=False)
        body = (
            f'{head[:-1]}, "children": [\n{subs}\n ]}}'
            if subs
            else f'{head[:-1]}, "children": []}}'
        )
        lines.append(" " + body)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    tmp.replace(path)


def refresh(credential: dict[str, Any], path: Path | None = None) -> list[MainDict]:
    """Ask Bilibili for the main partitions and rewrite the tree at `path` (default: the data
    folder's copy). Returns the new tree."""
    rows = merge(tree(), fetch_main(credential))
    target = path or local_path()
    write(rows, target)
    logger.info("partitions: %d main partitions written to %s", len(rows), target)
    return rows
