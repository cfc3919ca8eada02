"""One running site and one fake Bilibili, shared by the modules that only talk to a site over
HTTP and WebSocket (biliup's UI replayed, the REST document's examples, the player and logs):
starting a site costs seconds, and each of them needed one of its own. A module, or a test, gets
it as new (shared_for_module, shared_for_test): the site reset to how its first start left it
(tests/livesite.py's reset) and the fake back to its seed. Ids go on from module to module.

The modules that stop, kill or restart a site's processes keep sites of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakebili.server import FakeBilibili
from tests.integration.shared import Shared
from tests.livesite import reset, running_site


@pytest.fixture(scope="package")
def _shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    with FakeBilibili() as fake:
        env = {
            **fake.env(),
            # A QR login waits for the phone up to 30 s, asking the fake every 0.2 s.
            "BILIUP_QR_WAIT_SECONDS": "30",
            "BILIUP_QR_POLL_SECONDS": "0.2",
        }
        data_dir = tmp_path_factory.mktemp("shared") / "site"
        with running_site(data_dir, label="shared", **env) as site:
            yield Shared(fake, site)


def _as_new(shared: Shared) -> Shared:
    reset(shared.site)
    shared.fake.reset()
    return shared


@pytest.fixture(scope="module")
def shared_for_module(_shared: Shared) -> Shared:
    """The shared site and fake, as new for this module, whose tests then share what they do."""
    return _as_new(_shared)


@pytest.fixture
def shared_for_test(_shared: Shared) -> Shared:
    """The shared site and fake, as new for this test."""
    return _as_new(_shared)
