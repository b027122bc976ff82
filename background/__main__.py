"""`python -m background`: run the worker until SIGTERM or SIGINT.

Exit codes: 0 after a clean stop (or when another worker already holds the data folder's
lock), 2 when a configured server cannot be reached at start (one line on stderr).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from background.worker import build_scheduler
from core.bootstrap import build_services
from core.errors import PipeworksError
from core.reports import daily_reports
from core.settings import load_settings
from core.usecases.inbox import process_inbox
from core.worker_lock import acquire_lock

INBOX_SCAN_S = 10
DAILY_REPORTS_HOUR = 6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m background", description=__doc__)
    parser.add_argument("--parent", type=int, help="stop when this process is gone")
    parser.add_argument("--log-level", default=os.environ.get("PIPEWORKS_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)

    try:
        settings = load_settings()
        lock = acquire_lock(settings.data_dir)
        if lock is None:
            print(
                "pipeworks worker: another worker already runs on this data folder", file=sys.stderr
            )
            return 0
        services = build_services(settings)
        problems = services.check()
        if problems:
            print(f"pipeworks worker: {problems[0]}", file=sys.stderr)
            return 2
        services.sql.ensure_schema()
    except PipeworksError as exc:
        print(f"pipeworks worker: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    extra: list = [  # type: ignore[type-arg]
        (
            lambda: process_inbox(services),
            {"trigger": "interval", "seconds": INBOX_SCAN_S, "id": "inbox"},
        ),
        (
            lambda: daily_reports(services),
            {"trigger": "cron", "hour": DAILY_REPORTS_HOUR, "id": "reports"},
        ),
    ]
    if args.parent:
        extra.append((_watch_parent(args.parent, stop), {"trigger": "interval", "seconds": 2}))
    scheduler, job = build_scheduler(services, stop, extra_jobs=extra)

    def shutdown(signum: int, _frame: object) -> None:
        stop.set()
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    logging.getLogger("pipeworks.worker").info("worker started (%s)", _describe(settings))
    try:
        scheduler.start()
    finally:
        stop.set()
        job.close()
        services.close()
        lock.close()
    return 0


def _watch_parent(pid: int, stop: threading.Event):  # type: ignore[no-untyped-def]
    def check() -> None:
        if os.getppid() != pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return check


def _describe(settings) -> str:  # type: ignore[no-untyped-def]
    bus = f"Kafka {settings.kafka_bootstrap}" if settings.kafka_bootstrap else "embedded queue"
    return f"bus: {bus}; data folder: {settings.data_dir}"


if __name__ == "__main__":
    sys.exit(main())
