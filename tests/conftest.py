from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.layers import channel_layers
from django.contrib.auth.models import User
from django.test import Client
from django_q.conf import Conf

from biliup_site.models import Configuration


class JsonClient(Client):
    """A test client that speaks the API's JSON: bodies are encoded, Content-Type is set."""

    def _json(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        body = "" if data is None else json.dumps(data)
        return getattr(super(), method)(
            path, body, content_type="application/json", **extra
        )

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        return self._json("post", path, data, **extra)

    def put(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        return self._json("put", path, data, **extra)

    def delete(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        return self._json("delete", path, data, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        return self._json("patch", path, data, **extra)


@pytest.fixture(autouse=True)
def _isolated_workers(settings: Any) -> Iterator[None]:
    # Unit tests: tasks run inline (django-q2 sync mode) and the channel layer is in memory.
    # tests/integration runs the real broker and channel layer in real processes.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    channel_layers.backends.clear()
    sync, Conf.SYNC = Conf.SYNC, True
    # What a worker process learned of each upload line stays in that test.
    from uploads import bandwidth

    bandwidth._LEVELS.clear()
    yield
    Conf.SYNC = sync
    channel_layers.backends.clear()


@pytest.fixture
def run(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run a call, then what it left for after its commit: the tasks it queued, which
    django-q2 runs inline here (a refresh dispatched by a follow, an upload's catalog watch)."""

    def run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def alice(db: None) -> User:
    """The admin."""
    return User.objects.create_superuser("alice", password="alice-password-1")


@pytest.fixture
def bob(db: None) -> User:
    """A user added by the admin: not an admin."""
    return User.objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def anon(db: None) -> JsonClient:
    return JsonClient()


@pytest.fixture
def api(alice: User) -> JsonClient:
    client = JsonClient()
    client.force_login(alice)
    return client


@pytest.fixture
def recordings(db: None, tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    root.mkdir()
    config = Configuration.load()
    config.recordings_dir = str(root)
    config.save()
    return root


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[Any]:
    from tests.fakebili.server import FakeBilibili

    with FakeBilibili() as fake:
        yield fake


@pytest.fixture
def fakebili(_fake_server: Any, settings: Any) -> Iterator[Any]:
    """The fake Bilibili over real HTTP, fresh for each test, with every Bilibili host aimed at it."""
    from django.core.cache import cache

    from biliup_site.bilibili.pace import PACE
    from biliup_site.bilibili.risk import WBI_KEYS

    _fake_server.reset()
    for name in ("API", "PASSPORT", "MEMBER", "LIVE_API", "APP_API"):
        setattr(settings, f"BILIBILI_{name}_URL", _fake_server.url)
    settings.PROXY_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PROXY_ALLOW_PRIVATE = True
    settings.RECORD_ALLOWED_HOSTS = ["127.0.0.1"]
    # Preupload names the real UPOS hosts; they are served by the fake, host kept in the path.
    settings.BILIBILI_UPOS_URL = _fake_server.url
    settings.BILIBILI_OPENUPOS_URL = _fake_server.url
    # The fake's chat socket has no TLS.
    settings.BILIBILI_CHAT_SCHEME = "ws"
    # Backoffs in tens of milliseconds: the tests wait for the outcome, not the clock.
    settings.UPLOAD_RETRY_SECONDS = 0.02
    settings.UPLOAD_RATE_LIMIT_SECONDS = 0.05
    settings.SUBMIT_RETRY_SECONDS = 0.05
    settings.JUSTONEAPI_GLOBAL_URL = _fake_server.url
    settings.JUSTONEAPI_CN_URL = _fake_server.url
    settings.CATALOG_RETRY_SECONDS = 0.02
    # 4 calls a second, under the strict fake's burst rule (more than 5 in 1 s) with room to
    # spare; the tests of the pace itself ask for the real one (real_pace).
    settings.BILIBILI_PACE_SECONDS = 0.25
    settings.BILIBILI_PACE_JITTER = 0.0
    cache.clear()
    WBI_KEYS.forget()
    # No host held back by an earlier test's risk-control answer (the pace is per data dir).
    PACE.reset()
    yield _fake_server
    _fake_server.clear_faults()


@pytest.fixture
def real_pace(fakebili: Any, settings: Any) -> None:
    """The pace of the space calls as shipped (settings.py's defaults), for the tests that
    prove it keeps the strict fake's burst rule quiet."""
    settings.BILIBILI_PACE_SECONDS = 0.35
    settings.BILIBILI_PACE_JITTER = 0.25
