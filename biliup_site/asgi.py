from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biliup_site.settings")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from biliup_site.consumers import (  # noqa: E402
    LogConsumer,
    NotFoundConsumer,
    PageConsumer,
    ProgressConsumer,
)
from biliup_site.ws_origin import OriginCheck  # noqa: E402

websocket_urlpatterns = [
    path("ws/progress/", ProgressConsumer.as_asgi()),
    path("ws/pages/", PageConsumer.as_asgi()),
    # biliup's log viewer (and our log page).
    path("v1/ws/logs", LogConsumer.as_asgi()),
    # Last: any other path closes with 4404; without it the router raises and daphne answers 500.
    re_path(r"", NotFoundConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Every socket, present and future, goes through the Origin check.
        "websocket": OriginCheck(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
