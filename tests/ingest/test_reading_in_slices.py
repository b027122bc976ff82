"""A large sheet is read in slices of rows by two processes: the outcome is the whole read's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import python_calamine

from core.domain.schemas import CUSTOMERS_DATASET, STOCK_MOVEMENTS_DATASET, Dataset
from core.errors import FileRejected
from core.ingest import columns, sandbox
from core.ingest.coerce import DATE_NOT_NUMBER, NOT_A_NUMBER
from core.ingest.limits import ParseLimits
from core.ingest.mapping import suggest_mapping
from core.ingest.reader import read_sheet
from core.ingest.split import KEPT_SHARE, SheetSlices, Unsplittable
from core.ingest.tables import RawTable
from core.ingest.validate import validate
from tests.ingest.builders import SHEET_OPEN, handmade_xlsx, sheet_xml, xlsx

SLICE_BYTES = 2_048
SHEET_PART = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sliced(limits: ParseLimits) -> ParseLimits:
    return dataclasses.replace(limits, slice_bytes=SLICE_BYTES)


def assert_same_table(whole: RawTable, parts: RawTable) -> None:
    for name in ("sheet", "header_row", "headers", "letters", "problems", "notes"):
        assert getattr(parts, name) == getattr(whole, name), name
    pd.testing.assert_frame_equal(parts.frame, whole.frame)
    for letter in whole.frame.columns:
        assert list(map(type, parts.frame[letter])) == list(map(type, whole.frame[letter]))


def assert_same_report(dataset: Dataset, whole: RawTable, parts: RawTable) -> None:
    mapping = suggest_mapping(dataset, whole.headers)
    expected = validate(dataset, whole, mapping, file_name="x.xlsx")
    got = validate(dataset, parts, mapping, file_name="x.xlsx")
    assert (got.total, got.valid, got.rejected, got.duplicates) == (
        expected.total,
        expected.valid,
        expected.rejected,
        expected.duplicates,
    )
    pd.testing.assert_frame_equal(got.issues, expected.issues)
    pd.testing.assert_frame_equal(got.valid_rows, expected.valid_rows)
    pd.testing.assert_frame_equal(got.duplicates_list, expected.duplicates_list)


def sheet_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(SHEET_PART).file_size


def movements(count: int) -> list[list[object]]:
    """Stock movements with title rows, blank rows, dates, decimal commas, leading zeros and,
    far down, text in a number column and a date among numbers."""
    rows: list[list[object]] = [["Mouvements par date"], ["Edité le 02/01/2024"], []]
    header = ["Article", "Lot", "Piece", "No_ligne", "Quantite", "Date_creation", "Heure"]
    rows.append([*header, "Type_mouvement"])
    for i in range(count):
        quantity: object = f"{i},5" if i % 7 == 0 else i * 1.25
        day: object = dt.date(2024, 1, 1 + i % 28) if i % 5 else "03/02/2024"
        code = f"{i % 50:04d}"
        rows.append([code, f"L{i}", f"BL{i // 3}", i % 3 + 1, quantity, day, "08:30", "Sortie"])
        if i % 37 == 0:
            rows.append([None] * 8)  # a blank row, sometimes where a slice is cut
    rows[-40][3] = "two"  # text among numbers, in a late slice only
    rows[-20][4] = dt.date(2024, 5, 1)  # a date in a number column
    rows[-10][0] = None  # a required code missing
    rows.append(rows[-5])  # a duplicate key
    return rows


def test_a_large_sheet_read_in_slices_gives_the_frame_and_report_of_a_whole_read(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = xlsx(tmp_path / "movements.xlsx", movements(600), start="B1")
    slices = SheetSlices(path, part=SHEET_PART, folder=tmp_path, slice_bytes=SLICE_BYTES)
    assert len(list(slices)) > 20
    whole = read_sheet(path, sheet=None, limits=limits)
    parts = read_sheet(path, sheet=None, limits=sliced(limits))
    assert_same_table(whole, parts)
    assert parts.header_row == 4 and parts.letters[0] == "B"
    assert parts.frame.dtypes["E"] == "object"  # "two" among the numbers: mixed, as whole
    assert_same_report(STOCK_MOVEMENTS_DATASET, whole, parts)
    report = validate(
        STOCK_MOVEMENTS_DATASET,
        parts,
        suggest_mapping(STOCK_MOVEMENTS_DATASET, parts.headers),
        file_name="movements.xlsx",
    )
    assert report.rejected >= 3 and report.duplicates == 1
    assert set(report.issues["reason"]) >= {NOT_A_NUMBER, DATE_NOT_NUMBER}


def test_a_forced_header_row_and_merged_header_cells_survive_slicing(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows: list[list[object]] = [["Customers"], ["Code client", "Name", None, "Country", "CA"]]
    rows += [
        [f"{i:05d}", f"Client {i}", f"  {i} rue  ", "MA" if i % 2 else 7, f"{i} 000,5"]
        for i in range(400)
    ]
    path = xlsx(tmp_path / "customers.xlsx", rows, merged=["B2:C2"])
    for header_row in (None, 2):
        whole = read_sheet(path, sheet=None, limits=limits, header_row=header_row)
        parts = read_sheet(path, sheet=None, limits=sliced(limits), header_row=header_row)
        assert_same_table(whole, parts)
        assert [p.kind for p in parts.problems] == ["merged"]
    assert_same_report(CUSTOMERS_DATASET, whole, parts)


def test_each_sheet_of_a_workbook_is_sliced_on_its_own(tmp_path: Path, limits: ParseLimits) -> None:
    orders = [["Order", "Qty", "When"]] + [
        [f"{i:03d}", i, dt.datetime(2024, 1, 1, i % 24)] for i in range(300)
    ]
    path = xlsx(
        tmp_path / "book.xlsx", [["Name"], ["a"]], sheet="First", more_sheets={"Orders": orders}
    )
    whole = read_sheet(path, sheet="Orders", limits=limits)
    parts = read_sheet(path, sheet="Orders", limits=sliced(limits))
    assert_same_table(whole, parts)
    assert parts.frame["C"].dtype.kind == "M" and parts.row_count == 300


def test_slices_are_workbooks_whose_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "rows.xlsx", [["Code"]] + [[f"{i:04d}"] for i in range(500)])
    (tmp_path / "slices").mkdir()
    slices = SheetSlices(path, part=SHEET_PART, folder=tmp_path / "slices", slice_bytes=1_024)
    values: list[object] = []
    expected_row = 0
    for part in slices:
        sheet = python_calamine.CalamineWorkbook.from_path(str(part)).get_sheet_by_name("Data")
        first_row, first_column = sheet.start
        assert (first_row, first_column) == (expected_row, 0)
        rows = sheet.to_python(skip_empty_area=True)
        values += [row[0] for row in rows]
        expected_row = first_row + len(rows)
    assert values == ["Code"] + [f"{i:04d}" for i in range(500)]
    assert len(list((tmp_path / "slices").glob("slice*.xlsx"))) > 5
    assert slices.tail is not None


def test_rows_without_their_numbers_cannot_be_sliced_and_the_sheet_is_read_whole(
    tmp_path: Path, limits: ParseLimits
) -> None:
    rows = "".join(
        f'<row><c t="inlineStr"><is><t>{text}</t></is></c></row>'
        for text in ["Name", *(f"n{i:03d}" for i in range(300))]
    )
    path = handmade_xlsx(
        tmp_path / "plain.xlsx", f"{SHEET_OPEN}<sheetData>{rows}</sheetData></worksheet>"
    )
    with pytest.raises(Unsplittable):
        list(SheetSlices(path, part=SHEET_PART, folder=tmp_path, slice_bytes=1_024))
    table = read_sheet(path, sheet=None, limits=sliced(limits))
    assert table.excel_rows.tolist() == list(range(2, 302))
    assert table.frame["A"].tolist() == [f"n{i:03d}" for i in range(300)]


def test_a_comment_among_the_rows_keeps_the_sheet_from_being_cut_inside_it(
    tmp_path: Path, limits: ParseLimits
) -> None:
    cells = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        for r, text in enumerate(["Name", *(f"n{i:03d}" for i in range(300))], start=1)
    )
    fake = '<!-- <row r="2"><c r="A2" t="inlineStr"><is><t>fake</t></is></c></row> -->'
    between = cells.index("</row>", 5_000) + len("</row>")
    rows = f"{cells[:between]}{fake}{cells[between:]}"
    xml = f"{SHEET_OPEN}<sheetData>{rows}</sheetData></worksheet>"
    path = handmade_xlsx(tmp_path / "commented.xlsx", xml)
    with pytest.raises(Unsplittable):
        list(SheetSlices(path, part=SHEET_PART, folder=tmp_path, slice_bytes=1_024))
    table = read_sheet(path, sheet=None, limits=sliced(limits))
    assert table.frame["A"].tolist() == [f"n{i:03d}" for i in range(300)]


def numbered_rows(texts: list[str]) -> str:
    return "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        for r, text in enumerate(texts, start=1)
    )


@pytest.mark.parametrize("hiding", ["<!-- a comment -->", "<?pi data?>"])
def test_markup_after_many_exclamation_and_question_marks_still_stops_the_cutting(
    tmp_path: Path, hiding: str
) -> None:
    # Many '!' and '?' in the text before the markup: the search for it changes method.
    rows = numbered_rows(["Name", *(f"n{i:03d} ?! Oui ?!" for i in range(300))])
    between = rows.index("</row>", 8_000) + len("</row>")
    xml = f"{SHEET_OPEN}<sheetData>{rows[:between]}{hiding}{rows[between:]}</sheetData></worksheet>"
    path = handmade_xlsx(tmp_path / "marked.xlsx", xml)
    with pytest.raises(Unsplittable):
        list(SheetSlices(path, part=SHEET_PART, folder=tmp_path, slice_bytes=1_024))


def test_exclamation_and_question_marks_in_cells_do_not_stop_the_cutting(
    tmp_path: Path, limits: ParseLimits
) -> None:
    texts = [f"n{i:03d} ?! Oui ?!" for i in range(300)]
    xml = f"{SHEET_OPEN}<sheetData>{numbered_rows(['Name', *texts])}</sheetData></worksheet>"
    path = handmade_xlsx(tmp_path / "marks.xlsx", xml)
    (tmp_path / "slices").mkdir()
    parts = list(SheetSlices(path, part=SHEET_PART, folder=tmp_path / "slices", slice_bytes=1_024))
    assert len(parts) > 5
    assert read_sheet(path, sheet=None, limits=sliced(limits)).frame["A"].tolist() == texts


def test_a_far_cell_in_a_late_slice_kills_only_a_worker(
    tmp_path: Path, limits: ParseLimits
) -> None:
    cells = {"A1": "Name", **{f"A{r}": f"n{r}" for r in range(2, 300)}, "XFD1048576": "far"}
    path = handmade_xlsx(tmp_path / "liar.xlsx", sheet_xml(cells, dimension="A1:A2"))
    with pytest.raises(FileRejected) as caught:
        read_sheet(path, sheet=None, limits=sliced(limits))
    assert str(caught.value).startswith("liar.xlsx needs more memory than allowed to read")


def test_slices_stay_several_times_larger_than_the_shared_strings_they_repeat(
    tmp_path: Path,
) -> None:
    strings = "".join(f"<si><t>label {i}</t></si>" for i in range(400))
    shared = f'<sst xmlns="{MAIN_NS}" count="400" uniqueCount="400">{strings}</sst>'
    rows = {f"A{r}": f"code {r}" for r in range(1, 3_000)}
    path = handmade_xlsx(
        tmp_path / "strings.xlsx",
        sheet_xml(rows, dimension=None),
        parts={"xl/sharedStrings.xml": shared},
    )
    (tmp_path / "slices").mkdir()
    slices = SheetSlices(path, part=SHEET_PART, folder=tmp_path / "slices", slice_bytes=1_024)
    count = len(list(slices))
    assert slices.slice_bytes == KEPT_SHARE * len(shared)
    assert 1 < count <= sheet_size(path) // slices.slice_bytes + 1


def test_scratch_files_go_to_shared_memory_only_when_it_has_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "SHARED_MEMORY", str(tmp_path))
    assert sandbox._scratch_root() == str(tmp_path)
    monkeypatch.setattr(sandbox, "SCRATCH_MIN_FREE_MB", 1 << 40)  # more than any disk
    assert sandbox._scratch_root() is None
    monkeypatch.setattr(sandbox, "SHARED_MEMORY", str(tmp_path / "missing"))
    assert sandbox._scratch_root() is None


def test_a_parse_removes_scratch_folders_left_long_ago_by_a_killed_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limits: ParseLimits
) -> None:
    monkeypatch.setattr(sandbox, "SHARED_MEMORY", str(tmp_path))
    monkeypatch.setattr(sandbox, "SCRATCH_MIN_FREE_MB", 0)
    stale, recent = tmp_path / "pipeworks-parse-old", tmp_path / "pipeworks-parse-new"
    other = tmp_path / "something-else"
    for folder in (stale, recent, other):
        (folder / "slices-1").mkdir(parents=True)
        (folder / "slices-1" / "part.xml").write_bytes(b"x" * 100)
    long_ago = time.time() - sandbox.STALE_SCRATCH_S - 60
    for folder in (stale, other):
        os.utime(folder, (long_ago, long_ago))

    path = tmp_path / "small.xlsx"
    xlsx(path, [["piece", "article"], ["BL-1", "A"]])
    assert read_sheet(path, sheet=None, limits=limits).headers == ("piece", "article")

    assert not stale.exists()  # its parse ended hours ago
    assert recent.exists() and other.exists()  # a parse may be running; not ours
    assert [p.name for p in tmp_path.glob("pipeworks-parse-*")] == [recent.name]


def test_dates_beside_datetimes_come_back_as_dates_when_another_part_holds_text() -> None:
    first = [dt.date(2024, 1, 5), dt.datetime(2024, 1, 6, 8, 30), ""]
    second = ["n/a", dt.date(2024, 1, 7)]
    whole = columns.encode([*first, *second])
    assert whole is not None and whole.kind == columns.MIXED

    parts = [(len(first), columns.encode(first)), (len(second), columns.encode(second))]
    assert parts[0][1] is not None and parts[0][1].kind == columns.MOMENT
    assert columns.join(parts) == (whole.kind, whole.payload)
    assert whole.payload == [dt.date(2024, 1, 5), dt.datetime(2024, 1, 6, 8, 30), None, "n/a",
                             dt.date(2024, 1, 7)]  # fmt: skip
