"""The README's pictures: the running app on demo data, photographed in headless Chromium.

A demo data folder is filled through the real ingest path (demo workbooks checked, committed
and consumed), `streamlit run` serves it with its own embedded worker, and Chromium saves
1400x900 PNGs of the home page and of the dashboards page.

    python benchmarks/screenshot.py [--out docs] [--movements 10000] [--customers 500]

Without --data-dir the demo data lives in a temporary folder removed at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import Page, sync_playwright

from core.worker_lock import is_worker_running
from tests.browser.harness import launch_chromium, running_app, seed_demo

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1400, "height": 900}
DEFAULT_MOVEMENTS = 10_000
DEFAULT_CUSTOMERS = 500
DEFAULT_DAYS = 365
DEFAULT_SEED = 1
HOME_FILE = "screenshot.png"
DASHBOARDS_FILE = "dashboards.png"
TIMEOUT_MS = 120_000
WORKER_TIMEOUT_S = 60.0
SETTLE_MS = 800  # canvas tables and Plotly transitions paint after the script finishes
APP_OPTIONS = ("--client.toolbarMode", "viewer")  # no developer menu in the pictures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    parser.add_argument("--data-dir", type=Path, help="keep the demo data here (must be new)")
    parser.add_argument("--movements", type=int, default=DEFAULT_MOVEMENTS)
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.data_dir is not None and args.data_dir.exists():
        parser.error(f"{args.data_dir} exists; give a new folder")
    with tempfile.TemporaryDirectory(prefix="pipeworks-screenshot-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        started = time.monotonic()
        seed_demo(
            data_dir,
            work_dir=Path(tmp) / "files",
            movements=args.movements,
            customers=args.customers,
            seed=args.seed,
            days=args.days,
        )
        print(f"seeded {data_dir} in {time.monotonic() - started:.1f} s")
        args.out.mkdir(parents=True, exist_ok=True)
        with (
            running_app(data_dir, log=Path(tmp) / "streamlit.log", options=APP_OPTIONS) as url,
            sync_playwright() as playwright,
        ):
            browser = launch_chromium(playwright)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(TIMEOUT_MS)
                home(page, url, data_dir, args.out / HOME_FILE)
                dashboards(page, url, args.out / DASHBOARDS_FILE)
            finally:
                browser.close()
    return 0


def home(page: Page, url: str, data_dir: Path, out: Path) -> None:
    """The home page once the worker (started by the first visit) holds its lock."""
    page.goto(url)
    page.get_by_test_id("stMetric").first.wait_for()
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while not is_worker_running(data_dir):
        if time.monotonic() > deadline:
            raise RuntimeError("the embedded worker did not start")
        page.wait_for_timeout(250)
    page.reload()
    page.get_by_text("The background worker is running").wait_for()
    page.get_by_test_id("stDataFrame").locator("canvas").first.wait_for()
    _save(page, out)


def dashboards(page: Page, url: str, out: Path) -> None:
    page.goto(f"{url}/Dashboards")
    page.get_by_test_id("stPlotlyChart").locator(".main-svg").first.wait_for()
    _save(page, out)


def _save(page: Page, out: Path) -> None:
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(SETTLE_MS)
    page.screenshot(path=str(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
