"""For tests that call the strict fake with plain requests: a WBI signature made with the fake's
current keys, and the headers the CDN takes for a browser.

Written from §7.3, not with the product's signer, so a bug there does not hide here.

Reference: /work/shared/reference/bilibili-protocol.md §7.3; bilibili-2026.md (WBI on the live
calls, the CDN's browser headers).
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tests.fakebili import strict

if TYPE_CHECKING:
    from tests.fakebili.server import FakeBilibili

# What the CDN wants on every pull (rule cdn_headers).
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) fakebili-tests",
    "Referer": strict.LIVE_ORIGIN + "/",
}


def wbi_signed(fake: FakeBilibili, params: dict[str, Any]) -> dict[str, str]:
    """params plus wts and w_rid, signed with the keys nav serves right now."""
    with fake.state.lock:
        key = strict.mixin_key(*fake.state.wbi_keys)
    signed = {
        str(k): "".join(c for c in str(v) if c not in "!'()*")
        for k, v in params.items()
    }
    signed["wts"] = str(int(time.time()))
    query = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(signed.items())
    )
    signed["w_rid"] = hashlib.md5((query + key).encode()).hexdigest()
    return signed
