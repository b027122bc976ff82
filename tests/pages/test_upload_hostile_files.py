"""Hostile files on the upload screen: one clear message, the app survives, nothing stored."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.bootstrap import build_services
from core.settings import load_settings
from tests.ingest.builders import (
    BILLION_LAUGHS_DTD,
    SHEET_OPEN,
    fake_ole,
    handmade_xlsx,
    sheet_xml,
    xlsx,
)

ROOT = Path(__file__).resolve().parents[2]


def _laughs(folder: Path) -> Path:
    sheet = sheet_xml({"A1": "CustomerID", "A2": "&lol9;"}, dimension="A1:A2")
    laughing = sheet.replace(SHEET_OPEN, SHEET_OPEN[:55] + BILLION_LAUGHS_DTD + SHEET_OPEN[55:])
    return handmade_xlsx(folder / "laughs.xlsx", laughing)


def _far_cell(folder: Path) -> Path:
    cells = {"A1": "CustomerID", "A2": "1", "XFD1048576": "far"}
    return handmade_xlsx(folder / "far.xlsx", sheet_xml(cells, dimension="A1:A2"))


def _zip_bomb(folder: Path) -> Path:
    path = xlsx(folder / "bomb.xlsx", [["CustomerID"], ["1"]])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/media/padding.bin", b"\x00" * (64 << 20))
    return path


def _encrypted(folder: Path) -> Path:
    return fake_ole(folder / "secret.xlsx", ["EncryptionInfo", "EncryptedPackage"])


def _empty(folder: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize("build", [_laughs, _far_cell, _zip_bomb, _encrypted, _empty])
def test_a_hostile_file_gets_a_message_and_nothing_is_stored(
    app_env: Path, tmp_path: Path, build: Callable[[Path], Path], monkeypatch
) -> None:
    monkeypatch.setenv("PIPEWORKS_PARSE_MEMORY_MB", "1024")
    path = build(tmp_path)
    at = AppTest.from_file(str(ROOT / "pages" / "1_Upload.py"), default_timeout=120).run()
    at.file_uploader[0].set_value((path.name, path.read_bytes(), "application/octet-stream"))
    at = at.run()
    assert not at.exception, at.exception
    [error] = at.error
    assert "cannot be read" in error.value and len(error.value.splitlines()) == 1
    assert not [b for b in at.button if b.label.startswith("Commit")]
    services = build_services(load_settings(secrets_file=None))
    assert services.sql.list_uploads() == []
    assert services.sql.count_rows("customers") == 0
