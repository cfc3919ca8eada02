"""`python -m tests.fakebili [--port 0]`: serve the fake Bilibili until SIGINT or SIGTERM.

The first line on stdout is the base URL; the lines after it are the settings that point
biliup-site at the fake (KEY=value, ready for `env` or an .env file). With --live, the seed room
(23058, short id 3) is live from the start, streaming the test clip, and its chat (the WebSocket
getDanmuInfo points at) says something every --danmaku-interval seconds while it is live. With
--creator MID (repeatable),
that uploader has published 45 videos, for the app, web and JustOneAPI lists; with
--justoneapi-token TOKEN, the fake JustOneAPI takes that token (no quota, no balance limit).
It refuses what the real site refuses (tests/fakebili/strict.py); --lenient RULE switches one off.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from tests.fakebili.live import SEED_ROOM
from tests.fakebili.server import QR_TTL, FakeBilibili
from tests.fakebili.strict import RULES

# Enough for two app pages (20 a page) and two web pages (30 a page).
DEMO_VIDEOS = 45


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakebili", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--qr-ttl", type=float, default=QR_TTL, help="QR code lifetime in seconds"
    )
    parser.add_argument(
        "--no-sign-check", action="store_true", help="accept any APP sign"
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help=f"the seed room {SEED_ROOM['room_id']} is live from the start",
    )
    parser.add_argument(
        "--danmaku-interval",
        type=float,
        default=3.0,
        metavar="S",
        help="while the seed room is live, a danmaku in its chat every S seconds (0: none; "
        "default 3)",
    )
    parser.add_argument(
        "--creator",
        type=int,
        action="append",
        default=[],
        metavar="MID",
        help=f"an uploader with {DEMO_VIDEOS} published videos (repeatable)",
    )
    parser.add_argument(
        "--justoneapi-token",
        metavar="TOKEN",
        help="a token the fake JustOneAPI accepts",
    )
    parser.add_argument(
        "--lenient",
        action="append",
        default=[],
        choices=sorted(RULES),
        metavar="RULE",
        help="switch one of the real site's refusals off, for good (repeatable; "
        "GET /_fake/rules lists them; all are on by default)",
    )
    parser.add_argument(
        "--review-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="a submitted archive is under review this long before it is public (default 5;"
        " tests get 0 unless they ask)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every request to stderr"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())

    fake = FakeBilibili(
        args.port,
        args.host,
        qr_ttl=args.qr_ttl,
        check_sign=not args.no_sign_check,
        lenient=frozenset(args.lenient),
    )
    if args.live:
        fake.set_live(SEED_ROOM["room_id"], 1)
    fake.configure_room(SEED_ROOM["room_id"], danmaku_interval=args.danmaku_interval)
    for mid in args.creator:
        fake.add_space_user(mid, f"UP主{mid}")
        fake.add_space_videos(mid, DEMO_VIDEOS)
    if args.justoneapi_token:
        fake.add_justoneapi_token(args.justoneapi_token)
    fake.set_review(args.review_seconds)
    with fake:
        lines = [fake.url, *(f"{k}={v}" for k, v in fake.env().items())]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
