"""The catalogs moved from `uploads` to `creators` without losing a row: the move is state only,
and the rows naming the old app (the schedule, the content types) follow, both ways."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("uploads", "0006_refresh_catalogs_schedule"), ("creators", None)]
SCHEDULE_MIGRATION = "uploads.migrations.0006_refresh_catalogs_schedule"
MODELS = ["creator", "creatorsnapshot", "creatorvideo", "videosnapshot"]


def migrate(targets: list[tuple[str, str | None]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The state those targets leave ("creators", None: the app unapplied, not a node).
    nodes = [target for target in targets if target[1] is not None]
    return executor.loader.project_state(nodes).apps


def labels(apps: Any) -> list[tuple[str, str]]:
    return list(
        apps.get_model("contenttypes", "ContentType")
        .objects.filter(model__in=MODELS)
        .order_by("app_label", "model")
        .values_list("app_label", "model")
    )


@pytest.fixture
def leaf(transactional_db: None) -> Iterator[list[tuple[str, str]]]:
    """The latest migrations, where the database is left however the test ends."""
    nodes = MigrationExecutor(connection).loader.graph.leaf_nodes()
    yield nodes
    migrate(nodes)


def test_the_move_keeps_every_row_and_relabels_what_names_the_app(
    leaf: list[tuple[str, str]],
) -> None:
    old = migrate(BEFORE)
    # A transactional test that ran earlier flushed 0006's row; make it as 0006 does.
    importlib.import_module(SCHEDULE_MIGRATION).schedule(old, None)
    assert labels(old) == [("uploads", m) for m in MODELS]
    when = datetime(2026, 1, 1, tzinfo=UTC)
    creator = old.get_model("uploads", "Creator").objects.create(uid=42, name="甲")
    video = old.get_model("uploads", "CreatorVideo").objects.create(
        creator=creator, bvid="BV1old", aid=1, title="t", published=when, raw={"k": 1}
    )
    old.get_model("uploads", "VideoSnapshot").objects.create(
        video=video, at=when, play=5, danmaku=1
    )
    old.get_model("uploads", "CreatorSnapshot").objects.create(
        creator=creator, at=when, videos=1, play=5, danmaku=1
    )

    new = migrate(leaf)

    moved = new.get_model("creators", "Creator").objects.get(uid=42)
    assert moved.name == "甲"
    assert [v.raw for v in moved.videos.all()] == [{"k": 1}]
    assert moved.videos.get().snapshots.get().play == 5
    assert moved.snapshots.get().videos == 1
    assert labels(new) == [("creators", m) for m in MODELS]
    schedules = new.get_model("django_q", "Schedule").objects
    assert schedules.filter(func="creators.tasks.refresh_catalogs").count() == 1
    assert not schedules.filter(func__startswith="uploads.tasks.refresh").exists()

    back = migrate(BEFORE)
    assert labels(back) == [("uploads", m) for m in MODELS]
    assert back.get_model("uploads", "CreatorVideo").objects.get().bvid == "BV1old"
    assert (
        back.get_model("django_q", "Schedule")
        .objects.filter(func="uploads.tasks.refresh_catalogs")
        .exists()
    )
