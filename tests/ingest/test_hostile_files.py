"""Hostile, broken and disguised files: each gets one clear line and the test process lives."""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import pytest

from core.errors import FileRejected
from core.ingest.limits import ParseLimits
from core.ingest.reader import inspect_file, read_sheet
from tests.ingest.builders import (
    BILLION_LAUGHS_DTD,
    SHEET_OPEN,
    WORKBOOK,
    fake_ole,
    handmade_xlsx,
    sheet_xml,
    xlsx,
)


def rejected(path: Path, limits: ParseLimits, **options: object) -> str:
    with pytest.raises(FileRejected) as caught:
        read_sheet(path, sheet=None, limits=limits, **options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_an_empty_file_is_refused_as_empty(tmp_path: Path, limits: ParseLimits) -> None:
    path = tmp_path / "upload.xlsx"
    path.write_bytes(b"")
    assert rejected(path, limits) == "upload.xlsx is empty (0 bytes)."
    with pytest.raises(FileRejected, match="empty"):
        inspect_file(path, limits=limits)


def test_a_billion_laughs_workbook_is_refused_before_any_parser_sees_it(
    tmp_path: Path, limits: ParseLimits
) -> None:
    sheet = sheet_xml({"A1": "Name", "A2": "&lol9;"}, dimension="A1:A2")
    laughing = sheet.replace(SHEET_OPEN, SHEET_OPEN[:55] + BILLION_LAUGHS_DTD + SHEET_OPEN[55:])
    assert laughing.index("<!DOCTYPE") < laughing.index("<worksheet")
    path = handmade_xlsx(tmp_path / "laughs.xlsx", laughing)
    message = rejected(path, limits)
    assert "document type declaration" in message and "xl/worksheets/sheet1.xml" in message


def test_an_external_entity_in_the_workbook_part_is_refused(
    tmp_path: Path, limits: ParseLimits
) -> None:
    xxe = WORKBOOK.replace(
        "<workbook ", '<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><workbook '
    ).replace('name="Data"', 'name="&xxe;"')
    path = handmade_xlsx(
        tmp_path / "xxe.xlsx",
        sheet_xml({"A1": "x"}, dimension="A1"),
        parts={"xl/workbook.xml": xxe},
    )
    assert "document type declaration (xl/workbook.xml)" in rejected(path, limits)
    with pytest.raises(FileRejected, match="document type declaration"):
        inspect_file(path, limits=limits)


def test_openpyxl_itself_refuses_entity_declarations(tmp_path: Path) -> None:
    import openpyxl
    from defusedxml.common import DefusedXmlException

    sheet = sheet_xml({"A1": "&lol9;"}, dimension="A1")
    laughing = sheet.replace(SHEET_OPEN, SHEET_OPEN[:55] + BILLION_LAUGHS_DTD + SHEET_OPEN[55:])
    path = handmade_xlsx(tmp_path / "laughs.xlsx", laughing)
    assert openpyxl.DEFUSEDXML
    with pytest.raises(ValueError) as caught:
        openpyxl.load_workbook(path)
    assert isinstance(caught.value.__cause__, DefusedXmlException)


def test_a_zip_bomb_is_refused_by_its_compression_ratio(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "bomb.xlsx", [["Name"], ["x"]])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/media/padding.bin", b"\x00" * (64 << 20))
    assert path.stat().st_size < 1 << 20
    message = rejected(path, limits)
    assert "zip bomb" in message and "xl/media/padding.bin" in message


def test_an_archive_expanding_past_the_limit_is_refused(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "big.xlsx", [["Name"], ["x"]])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/media/photo.bin", os.urandom(2 << 20))
    tight = dataclasses.replace(limits, max_unzipped_mb=1)
    assert "expands to 2 MB, more than the 1 MB allowed" in rejected(path, tight)


def test_an_archive_with_too_many_entries_is_refused(tmp_path: Path, limits: ParseLimits) -> None:
    path = xlsx(tmp_path / "many.xlsx", [["Name"], ["x"]])
    with zipfile.ZipFile(path, "a") as archive:
        for n in range(30):
            archive.writestr(f"xl/media/{n}.bin", b"x")
    tight = dataclasses.replace(limits, max_zip_entries=20)
    assert "more than the 20 a workbook may have" in rejected(path, tight)


@pytest.mark.parametrize("dimension", ["A1:XFD1048576", "A1", None])
def test_a_far_cell_is_refused_from_the_sheet_size_without_parsing(
    tmp_path: Path, limits: ParseLimits, dimension: str | None
) -> None:
    cells = {"A1": "Name", "A2": "x", "XFD1048576": "far"}
    path = handmade_xlsx(tmp_path / "far.xlsx", sheet_xml(cells, dimension=dimension))
    assert path.stat().st_size < 5_000
    message = rejected(path, limits)
    assert "spans A1:XFD1048576" in message and "Ctrl+End" in message
    [sheet] = inspect_file(path, limits=limits).sheets
    assert sheet.problem == message


def test_a_far_cell_behind_a_lying_dimension_kills_only_the_child(
    tmp_path: Path, limits: ParseLimits
) -> None:
    cells = {"A1": "Name", "A2": "x", "XFD1048576": "far"}
    path = handmade_xlsx(tmp_path / "liar.xlsx", sheet_xml(cells, dimension="A1:A2"))
    message = rejected(path, limits)
    assert message.startswith("liar.xlsx needs more memory than allowed to read (limit 1,024 MB")
    # and this process goes on reading files
    fine = xlsx(tmp_path / "fine.xlsx", [["Name"], ["x"]])
    assert read_sheet(fine, sheet=None, limits=limits).row_count == 1


def test_a_sheet_wider_than_excel_allows_is_refused_as_crafted(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = handmade_xlsx(tmp_path / "wide.xlsx", sheet_xml({"A1": "Name"}, dimension="A1:ZZZ10"))
    assert "beyond Excel's limits" in rejected(path, limits)


def test_a_parse_over_the_time_limit_is_stopped(tmp_path: Path, limits: ParseLimits) -> None:
    path = xlsx(tmp_path / "slow.xlsx", [["Name"], ["x"]])
    message = rejected(path, dataclasses.replace(limits, timeout_s=0.01))
    assert message.startswith("Reading slow.xlsx took longer than the 0.01 s allowed")


def test_an_encrypted_workbook_is_refused_with_what_to_do(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = fake_ole(tmp_path / "secret.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    message = rejected(path, limits)
    assert message.startswith("secret.xlsx is password-protected (encrypted)")
    assert "remove the password" in message


def test_an_office_file_that_is_not_a_workbook_is_refused(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = fake_ole(tmp_path / "letter.xls", ["WordDocument"])
    assert rejected(path, limits) == "letter.xls is an Office document but not an Excel workbook."


def test_a_damaged_xls_workbook_is_refused_as_damaged(tmp_path: Path, limits: ParseLimits) -> None:
    path = fake_ole(tmp_path / "old.xls", ["Workbook", "SummaryInformation"])
    message = rejected(path, limits)
    assert message.startswith("old.xls could not be read, the file seems damaged")
    with pytest.raises(FileRejected, match="could not be read"):
        inspect_file(path, limits=limits)


def test_a_truncated_workbook_is_refused_as_damaged(tmp_path: Path, limits: ParseLimits) -> None:
    whole = xlsx(tmp_path / "whole.xlsx", [["Name"], ["x"]] * 50).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    message = rejected(path, limits)
    assert message.startswith("cut.xlsx is damaged or incomplete")


def test_a_workbook_with_a_corrupt_sheet_is_refused_as_damaged(
    tmp_path: Path, limits: ParseLimits
) -> None:
    whole = sheet_xml({"A1": "Name", "A2": "x"}, dimension="A1:A2")
    broken = whole[: len(whole) // 2 + 20]
    path = handmade_xlsx(tmp_path / "broken.xlsx", broken)
    assert "could not be read, the file seems damaged" in rejected(path, limits)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.7 ...", "report.xlsx is a PDF document, not a spreadsheet."),
        (b"<html><table><tr><td>1</td></tr></table></html>", "web page (HTML)"),
        (b'<?xml version="1.0"?><Workbook/>', "XML file"),
        (b"\x00\x01\x02binary", "binary content of an unknown kind"),
    ],
)
def test_files_that_are_not_spreadsheets_are_named_for_what_they_are(
    tmp_path: Path, limits: ParseLimits, content: bytes, expected: str
) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    assert expected in rejected(path, limits)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path, limits: ParseLimits) -> None:
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "hello")
    assert rejected(path, limits) == "photos.xlsx is a ZIP archive but not an Excel workbook."


def test_an_upload_larger_than_allowed_is_refused(tmp_path: Path, limits: ParseLimits) -> None:
    path = tmp_path / "huge.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 300_000)
    tight = dataclasses.replace(limits, max_file_mb=1)
    assert "more than the 1 MB allowed (setting PIPEWORKS_MAX_UPLOAD_MB)" in rejected(path, tight)


def test_a_csv_with_more_rows_than_the_limit_is_refused_naming_the_limit(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = tmp_path / "long.csv"
    path.write_text("Name\n" + "x\n" * 500, encoding="utf-8")
    message = rejected(path, dataclasses.replace(limits, max_rows=100))
    assert "more than 100 rows" in message and "PIPEWORKS_MAX_ROWS" in message


def test_a_workbook_with_more_rows_than_the_limit_is_refused_naming_the_limit(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "long.xlsx", [["Name"]] + [["x"]] * 50)
    message = rejected(path, dataclasses.replace(limits, max_rows=10))
    assert "has 50 rows, more than the 10 allowed (setting PIPEWORKS_MAX_ROWS)" in message


def test_a_csv_renamed_as_xlsx_is_read_as_csv_with_a_note(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = tmp_path / "export.xlsx"
    path.write_text("Article;Quantite\n0001;12,5\n", encoding="utf-8")
    info = inspect_file(path, limits=limits)
    assert info.format == "csv"
    assert info.notes == ("export.xlsx is named .xlsx but holds CSV text: read as such.",)
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.headers == ("Article", "Quantite")
    assert table.frame["A"].tolist() == ["0001"]


def test_an_xlsm_is_read_for_its_values_and_its_macros_ignored(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "book.xlsx", [["Name"], ["x"]])
    macro = tmp_path / "book.xlsm"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(macro, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            target.writestr(item, data)
        target.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "Evil"')
    info = inspect_file(macro, limits=limits)
    assert info.format == "xlsm"
    assert "Macros in this workbook are ignored: only cell values are read." in info.notes
    assert read_sheet(macro, sheet=None, limits=limits).frame["A"].tolist() == ["x"]


def test_a_workbook_with_a_scrambled_part_is_refused_as_damaged(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "sound.xlsx", [["Name", "Value"]] + [[f"n{i}", i] for i in range(3000)])
    data = bytearray(path.read_bytes())
    member = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    for offset in range(200, 260):
        data[start + offset] ^= 0x5A
    scrambled = tmp_path / "scrambled.xlsx"
    scrambled.write_bytes(bytes(data))
    with pytest.raises(FileRejected, match=r"^scrambled\.xlsx is damaged or incomplete"):
        inspect_file(scrambled, limits=limits)
    assert rejected(scrambled, limits).startswith("scrambled.xlsx is damaged or incomplete")
