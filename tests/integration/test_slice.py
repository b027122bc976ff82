"""The thin end-to-end slice, in both modes: a customer file uploaded on the upload page is
published, stored by the worker and listed on the customers page, read from the store."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from background.worker import ConsumeJob
from core.bootstrap import build_services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_on_stack(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("PIPEWORKS_"):
            monkeypatch.delenv(name)
    for name, value in stack_env.items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield stack_env
    st.cache_resource.clear()
    st.cache_data.clear()


def test_upload_commit_store_and_browse_customers(
    app_on_stack, stack_settings, shared_data
) -> None:
    upload = AppTest.from_file(str(ROOT / "pages" / "1_Upload.py"), default_timeout=120).run()
    data = (shared_data / "seed_customers.csv").read_bytes()
    upload.file_uploader[0].set_value(("seed_customers.csv", data, "text/csv"))
    upload.run()
    commit = next(b for b in upload.button if b.label.startswith("Commit"))
    upload = commit.click().run()
    assert not upload.exception, upload.exception
    assert any("Published 2,000 rows" in s.value for s in upload.success)

    services = build_services(stack_settings)
    job = ConsumeJob(services, threading.Event(), budget_s=60)
    while job():
        pass
    job.close()
    [record] = services.sql.list_uploads()
    assert (record["status"], record["stored"]) == ("stored", 2000)

    browse = AppTest.from_file(str(ROOT / "pages" / "5_Customers.py"), default_timeout=120).run()
    assert not browse.exception, browse.exception
    table = browse.dataframe[0].value
    assert len(table) > 0
    text = " ".join(str(m.value) for m in (*browse.markdown, *browse.caption))
    assert "2,000" in text or "2000" in text
    first_ids = [str(v) for v in table.iloc[:, 0].tolist()[:3]]
    assert first_ids[0] in {"1", "10", "100"}
