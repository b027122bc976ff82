"""Services shared by every session of the app process, and the embedded worker."""

from __future__ import annotations

import os
import subprocess
import sys

import streamlit as st

from core.bootstrap import Services, build_services
from core.errors import PipeworksError, ServiceUnavailable
from core.processes import PROJECT_ROOT
from core.settings import load_settings
from core.worker_lock import is_worker_running


@st.cache_resource(show_spinner=False)
def services() -> Services:
    """The process-wide adapters (thread-safe; each connects on first use)."""
    return build_services(load_settings())


@st.cache_resource(show_spinner=False)
def _worker_process() -> subprocess.Popen[bytes] | None:
    """Start `python -m background` once per app process. The worker itself takes an
    exclusive lock on the data folder, so however many app processes or sessions there are,
    exactly one consumer runs."""
    settings = services().settings
    if not settings.is_embedded or not settings.embedded_worker:
        return None
    if is_worker_running(settings.data_dir):
        return None
    log = (settings.data_dir / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "background", "--parent", str(os.getpid())],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PIPEWORKS_DATA_DIR": str(settings.data_dir.resolve())},
    )


def start() -> Services | None:
    """Frame of every page: services, the embedded worker, and a banner for any server that
    cannot be reached. Returns None (and shows the banner) when the app cannot work."""
    try:
        svc = services()
    except PipeworksError as exc:
        st.error(f"Configuration problem: {exc}")
        return None
    problems = _problems(svc)
    if problems:
        for problem in problems:
            st.error(
                f"**{problem.service} is unreachable.** Check the setting `{problem.setting}`"
                f" or start the server. ({problem.detail})"
            )
        return None
    try:
        svc.sql.ensure_schema()
    except ServiceUnavailable as exc:
        st.error(f"**{exc.service} is unreachable.** Check the setting `{exc.setting}`.")
        return None
    _worker_process()
    return svc


def worker_running() -> bool:
    """True when a worker holds the data folder, or the one this app started is starting."""
    started = _worker_process()
    if started is not None and started.poll() is None:
        return True
    return is_worker_running(services().settings.data_dir)


@st.cache_data(ttl=10, show_spinner=False)
def _check(_svc: Services, key: str) -> list[tuple[str, str, str]]:
    return [(p.service, p.setting, p.detail) for p in _svc.check()]


def _problems(svc: Services) -> list[ServiceUnavailable]:
    key = f"{svc.settings.relational_url}|{svc.settings.mongo_url}|{svc.settings.kafka_bootstrap}"
    return [ServiceUnavailable(*p) for p in _check(svc, key)]
