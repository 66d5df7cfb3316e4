"""Headless Chromium for the browser tests (Debian's /usr/bin/chromium).

``npx playwright install`` cannot download a browser here, so Playwright
drives the Chromium that ``make install`` puts in place via apt.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("FAQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Skips a browser test module when Chromium is not installed.
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
