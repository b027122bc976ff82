"""One demo app for every browser test: a data folder seeded through the real ingest path,
`streamlit run` on a free port (with its own embedded worker), and headless Chromium.

The app, the browser and Playwright live for the `tests/browser` package only, so the
Playwright event loop is gone before any other test runs. Chromium missing is a skip on a
developer's machine and a failure under CI=true.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from core.adapters.sql_store import SqlStore
from core.settings import load_settings
from tests.browser.harness import CHROMIUM, DemoApp, launch_chromium, running_app, seed_demo

IN_CI = os.environ.get("CI", "").lower() == "true"
VIEWPORT = {"width": 1400, "height": 900}
# The first visit to each page imports its modules in the server: allow for a cold start.
# A wait that runs out is a failure, never a pass, so a generous limit costs nothing.
ACTION_TIMEOUT_MS = 60_000


@pytest.fixture(scope="package")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    root = tmp_path_factory.mktemp("browser")
    data_dir = root / "data"
    files = seed_demo(data_dir, work_dir=root / "files")
    settings = load_settings({"PIPEWORKS_DATA_DIR": str(data_dir)}, secrets_file=None)
    sql = SqlStore(settings.relational_url)
    try:
        with running_app(data_dir, log=root / "streamlit.log") as url:
            yield DemoApp(url=url, data_dir=data_dir, files=files, settings=settings, sql=sql)
    finally:
        sql.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} not found: run `bash tests/services/services.sh install`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, demo_app: DemoApp) -> Iterator[Page]:
    """A fresh browser context (its own Streamlit session) that accepts downloads."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
