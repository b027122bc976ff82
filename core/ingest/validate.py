"""The validation report: which rows go forward typed, which are rejected and why.

A row is rejected when any mapped cell cannot be coerced to its field's kind or a required
field is empty; every such cell is listed with its sheet, Excel row, column header and letter,
value and reason. Among the rows left, rows sharing a natural key keep the last one; the
others count as duplicates. A row whose key is incomplete (a delivery list without line
numbers) has no key to share: it is a duplicate only when every cell of its row repeats an
earlier row, which is kept. Only valid, deduplicated rows go forward.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.domain.schemas import Dataset, Kind
from core.ingest.coerce import coerce, display, infer_kind
from core.ingest.mapping import ROW_NUMBER, ColumnMapping
from core.ingest.tables import HeaderProblem, RawTable

PREVIEW_ROWS = 20
ISSUE_COLUMNS = ("sheet", "row", "column", "letter", "value", "reason")
ATTRIBUTES = "attributes"
REQUIRED_MISSING = "required value is missing"
CSV_ENCODING = "utf-8-sig"  # Excel opens it with accents intact
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_TYPED_DTYPES: dict[str, str] = {
    "code": "str",
    "text": "str",
    "time": "str",
    "integer": "Int64",
    "decimal": "float64",
    "date": "object",
}


@dataclass(frozen=True)
class ValidationReport:
    """Counts, problems and the typed valid rows of one sheet against one dataset.

    `total = valid + rejected + duplicates`. `issues` has one line per bad cell (columns
    `ISSUE_COLUMNS`); `duplicates_list` one line per dropped duplicate with the row kept and
    what it shares with it (`same`: "key", or "values" for a row whose key is incomplete).
    `valid_rows` has one column per dataset field (codes and texts str, integers Int64,
    decimals float64, dates datetime.date, times 'HH:MM:SS'), then `sheet` and `row`, then
    `attributes` (a dict per row) for datasets that keep extra columns.
    """

    dataset: str
    file_name: str
    sheet: str
    total: int
    valid: int
    rejected: int
    duplicates: int
    issues: pd.DataFrame
    duplicates_list: pd.DataFrame
    valid_rows: pd.DataFrame
    mapping: ColumnMapping
    extra_columns: Mapping[str, Kind] = field(default_factory=dict)
    header_problems: tuple[HeaderProblem, ...] = ()

    @property
    def preview(self) -> pd.DataFrame:
        return self.valid_rows.head(PREVIEW_ROWS)

    @property
    def rejected_rows(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.issues["row"].tolist())))

    def records(self) -> Iterator[dict[str, Any]]:
        """The valid rows as plain Python values (None for missing), ready to encode."""
        names = list(self.valid_rows.columns)
        columns = [_native(self.valid_rows[name]) for name in names]
        for values in zip(*columns, strict=True):
            yield dict(zip(names, values, strict=True))


def validate(
    dataset: Dataset, raw: RawTable, mapping: ColumnMapping, *, file_name: str
) -> ValidationReport:
    """Coerce, check and deduplicate `raw` as `dataset` under a complete `mapping`.

    Raises ValueError when the mapping is for another dataset, leaves a required field
    without a source, or names a header the table does not have.
    """
    if mapping.dataset != dataset.name:
        raise ValueError(f"mapping is for {mapping.dataset}, not {dataset.name}")
    if not mapping.complete:
        raise ValueError(f"required fields not mapped: {', '.join(mapping.missing_required)}")
    index = raw.frame.index
    typed: dict[str, pd.Series] = {}
    issues: list[pd.DataFrame] = []
    for f in dataset.fields:
        source = mapping.source_of(f.name)
        if source is None:
            typed[f.name] = _empty(f.kind, index)
            continue
        if source == ROW_NUMBER:
            numbers = pd.Series(index.to_numpy(), index=index)
            typed[f.name] = numbers.astype("Int64" if f.kind == "integer" else "str")
            continue
        if source not in raw.headers:
            raise ValueError(f"no column named {source!r} in sheet {raw.sheet!r}")
        cells = raw.column(source)
        result = coerce(cells, f.kind)
        typed[f.name] = result.values
        bad = result.bad.to_numpy()
        if bad.any():
            issues.append(_issues(raw, source, cells[bad], result.errors[bad].tolist()))
        if f.required:
            empty = (result.values.isna() & ~result.bad).to_numpy()
            if empty.any():
                issues.append(_issues(raw, source, cells[empty], REQUIRED_MISSING))
    issue_table = _issue_table(issues)
    keep = ~index.isin(issue_table["row"].unique())
    frame = pd.DataFrame(typed, index=index)[keep]
    frame["sheet"] = pd.Series(raw.sheet, index=frame.index, dtype="str")
    frame["row"] = frame.index.to_numpy(dtype=np.int64)
    extra_kinds: dict[str, Kind] = {}
    if dataset.keeps_extra_columns:
        extra_kinds = {h: infer_kind(raw.column(h)) for h in mapping.unexpected}
        frame[ATTRIBUTES] = _attributes(raw, extra_kinds, frame.index)
    duplicated, duplicates_list = _duplicates(frame, raw.frame.loc[frame.index], dataset)
    valid_rows = frame[~duplicated].reset_index(drop=True)
    return ValidationReport(
        dataset=dataset.name,
        file_name=file_name,
        sheet=raw.sheet,
        total=len(index),
        valid=len(valid_rows),
        rejected=int((~keep).sum()),
        duplicates=int(duplicated.sum()),
        issues=issue_table,
        duplicates_list=duplicates_list,
        valid_rows=valid_rows,
        mapping=mapping,
        extra_columns=extra_kinds,
        header_problems=raw.problems,
    )


def report_csv(report: ValidationReport) -> bytes:
    """Every rejected cell and dropped duplicate as CSV (UTF-8 with BOM, for Excel)."""
    duplicates = report.duplicates_list.assign(
        column="",
        letter="",
        value=report.duplicates_list["key"],
        reason=[
            f"duplicate of row {kept} (same {same}); row {kept} is kept"
            for kept, same in zip(
                report.duplicates_list["kept_row"], report.duplicates_list["same"], strict=True
            )
        ],
    )
    lines = pd.concat(
        [report.issues, duplicates[list(ISSUE_COLUMNS)]], ignore_index=True
    ).sort_values("row", kind="stable")
    for name in ("sheet", "column", "value", "reason"):
        lines[name] = lines[name].astype(str).map(_defused)
    buffer = io.StringIO()
    lines.to_csv(buffer, index=False, columns=list(ISSUE_COLUMNS), lineterminator="\r\n")
    return buffer.getvalue().encode(CSV_ENCODING)


def _defused(text: str) -> str:
    """Text a spreadsheet will not run as a formula when the CSV is opened."""
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def _issues(raw: RawTable, header: str, cells: pd.Series, reasons: list[str] | str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sheet": raw.sheet,
            "row": cells.index.to_numpy(dtype=np.int64),
            "column": header,
            "letter": raw.letter_of(header),
            "value": [display(v) for v in cells.tolist()],
            "reason": reasons,
        }
    )


def _issue_table(issues: list[pd.DataFrame]) -> pd.DataFrame:
    if not issues:
        empty = {
            name: pd.Series(dtype="int64" if name == "row" else "str") for name in ISSUE_COLUMNS
        }
        return pd.DataFrame(empty)
    table = pd.concat(issues, ignore_index=True)
    return table.sort_values(["row"], kind="stable").reset_index(drop=True)


def _attributes(raw: RawTable, kinds: Mapping[str, Kind], index: pd.Index) -> list[dict]:
    columns = {
        h: _native(coerce(raw.column(h).loc[index], kind).values) for h, kind in kinds.items()
    }
    rows: list[dict] = [{} for _ in range(len(index))]
    for header, values in columns.items():
        for attributes, value in zip(rows, values, strict=True):
            if value is not None:
                attributes[header] = value
    return rows


def _duplicates(
    frame: pd.DataFrame, cells: pd.DataFrame, dataset: Dataset
) -> tuple[pd.Series, pd.DataFrame]:
    """Which rows of `frame` are dropped as duplicates, and the list of them with the row each
    repeats (`cells`: the same rows as read, every column of the sheet).

    A row with a complete key shares it with a later row (the last is kept). A row with an
    empty key field is a duplicate only when every cell of the sheet's row repeats an earlier
    row (the first is kept): two lines of one note differing in any column are two lines."""
    keys = list(dataset.key)
    complete = frame[keys].notna().all(axis=1)
    by_key = frame.duplicated(subset=keys, keep="last") & complete
    by_values = pd.Series(False, index=frame.index)
    if not complete.all():
        by_values = cells.duplicated(keep="first") & ~complete
    duplicated = by_key | by_values
    columns = {"sheet": "str", "row": "int64", "kept_row": "int64", "key": "str", "same": "str"}
    if not duplicated.any():
        empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})
        return duplicated, empty
    kept = frame.groupby(keys, dropna=False, sort=False)["row"].transform("last")
    if by_values.any():
        first = (
            pd.Series(frame["row"].to_numpy(), index=frame.index)
            .groupby([cells[c] for c in cells.columns], dropna=False, sort=False)
            .transform("first")
        )
        kept = kept.where(~by_values, first)
    dropped = frame[duplicated.to_numpy()]
    key_text = [
        " | ".join(display(v) for v in values)
        for values in zip(*(_native(dropped[k]) for k in keys), strict=True)
    ]
    listed = pd.DataFrame(
        {
            "sheet": dropped["sheet"].to_numpy(),
            "row": dropped["row"].to_numpy(),
            "kept_row": kept[duplicated.to_numpy()].to_numpy(dtype=np.int64),
            "key": key_text,
            "same": np.where(by_values[duplicated].to_numpy(), "values", "key"),
        }
    )
    return duplicated, listed.astype({"same": "str"})


def _empty(kind: Kind, index: pd.Index) -> pd.Series:
    dtype = _TYPED_DTYPES[kind]
    if dtype == "object":
        return pd.Series([None] * len(index), index=index, dtype=object)
    return pd.Series(None, index=index, dtype=dtype)


def _native(series: pd.Series) -> list[Any]:
    """Plain Python values of a column, None for every kind of missing value."""
    values = series.astype(object).tolist()
    return [None if v is None or v is pd.NA or v is pd.NaT or v != v else v for v in values]
