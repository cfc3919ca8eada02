"""Browser tests: Debian's chromium, driven by Playwright, against a real `manage.py serve` (web
server and workers) aimed at the fake Bilibili. Screenshots go to BILIUP_ARTIFACTS_DIR
(artifacts/browser by default) as test artifacts.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakebili.server import FakeBilibili
from tests.livesite import Site, reset, running_site

pytestmark = pytest.mark.browser

CHROMIUM = os.getenv("BILIUP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(
    os.getenv(
        "BILIUP_ARTIFACTS_DIR",
        Path(__file__).resolve().parent.parent.parent / "artifacts" / "browser",
    )
)
# Chromium on these machines: no sandbox as root, no GPU, and none of the background fetches a
# closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 860}}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def _shared(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FakeBilibili, Site]]:
    """One site and fake for every module: starting a site costs seconds."""
    with FakeBilibili() as fake:
        env = {
            **fake.env(),
            "BILIUP_UPLOAD_RETRY_SECONDS": "0.1",
            "BILIUP_SUBMIT_RETRY_SECONDS": "0.1",
            "BILIUP_REVIEW_POLL_SECONDS": "1",
        }
        data_dir = tmp_path_factory.mktemp("site")
        with running_site(data_dir, label="browser", **env) as site:
            yield fake, site


@pytest.fixture(scope="module")
def _new(_shared: tuple[FakeBilibili, Site]) -> tuple[FakeBilibili, Site]:
    """The shared site as its first start left it (no admin yet), and the fake at its seed."""
    fake, site = _shared
    reset(site)
    fake.reset()
    return _shared


@pytest.fixture(scope="module")
def fake(_new: tuple[FakeBilibili, Site]) -> FakeBilibili:
    return _new[0]


@pytest.fixture(scope="module")
def site(_new: tuple[FakeBilibili, Site]) -> Site:
    return _new[1]


USERNAME, PASSWORD = "admin", "a long password 1"


def log_in(page: Any) -> None:
    """Log in as the admin; on the module's empty site the same form is the first-run setup,
    which makes the admin."""
    page.goto("/login/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def new_page(chromium: Any, site: Site, **options: Any) -> Any:
    """A fresh browser context (its own cookies), English unless `locale` says otherwise."""
    context = chromium.new_context(
        base_url=site.url, **{"locale": "en-US", **DESKTOP, **options}
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_the_width(page: Any) -> bool:
    """No horizontal scrolling: nothing is wider than the viewport."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
