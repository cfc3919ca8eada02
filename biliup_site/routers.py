from __future__ import annotations

from typing import Any

CHANNELS_DB = "channels"


class ChannelLayerRouter:
    """channels-lite's tables live in the `channels` database, and nothing else does there.

    (The router channels-lite ships claims only its own app, so `migrate --database channels`
    would copy every other table into the channel layer's file.)
    """

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return CHANNELS_DB if model._meta.app_label == "channels_lite" else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return CHANNELS_DB if model._meta.app_label == "channels_lite" else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return (db == CHANNELS_DB) == (app_label == "channels_lite")
