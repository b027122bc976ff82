"""Check a file against a dataset and, unless it is a dry run, commit it.

Shared by the command line (`python -m core ingest`), the worker's inbox job and the tests;
the upload page runs the same steps one screen at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.adapters.sql_store import SqlStore
from core.bootstrap import Services
from core.domain.schemas import DATASETS
from core.errors import MappingIncomplete
from core.ingest.limits import ParseLimits
from core.ingest.mapping import ColumnMapping, apply_saved_mapping, make_mapping, suggest_mapping
from core.ingest.reader import inspect_file, read_sheet
from core.ingest.tables import RawTable, WorkbookInfo
from core.ingest.validate import ValidationReport, validate
from core.usecases.commit import CommitResult, UploadFacts, commit_upload

MappingSource = Literal["saved", "suggested", "chosen"]


@dataclass(frozen=True)
class FileCheck:
    """A file read, mapped and validated: everything shown before a commit."""

    info: WorkbookInfo
    raw: RawTable
    mapping: ColumnMapping
    mapping_source: MappingSource
    report: ValidationReport
    already_loaded: Mapping[str, Any] | None

    def facts(self, *, source: str) -> UploadFacts:
        return UploadFacts(
            dataset=self.report.dataset,
            file_name=self.info.file_name,
            sha256=self.info.sha256,
            sheet=self.raw.sheet,
            layout=self.mapping.signature,
            mapping=dict(self.mapping.fields),
            total_rows=self.report.total,
            rejected_rows=self.report.rejected,
            duplicate_rows=self.report.duplicates,
            source=source,
        )


def check_file(
    path: Path,
    *,
    dataset: str,
    sql: SqlStore,
    limits: ParseLimits,
    sheet: str | None = None,
    file_name: str | None = None,
    assignments: Mapping[str, str | None] | None = None,
    info: WorkbookInfo | None = None,
) -> FileCheck:
    """Read the sheet (the first one unless named), map its columns (the user's choice, else
    the mapping saved for this layout, else suggested by name) and validate it.
    Raises `FileRejected` when the file cannot be read at all, `MappingIncomplete` when
    required fields have no column."""
    spec = DATASETS[dataset]
    info = info or inspect_file(path, file_name=file_name, limits=limits)
    raw = read_sheet(
        path, sheet=sheet or info.sheet_names[0], limits=limits, file_name=info.file_name
    )
    source: MappingSource
    if assignments is not None:
        mapping, source = make_mapping(spec, raw.headers, assignments), "chosen"
    else:
        saved = sql.load_mapping(dataset, suggest_mapping(spec, raw.headers).signature)
        if saved:
            mapping, source = apply_saved_mapping(spec, raw.headers, saved), "saved"
        else:
            mapping, source = suggest_mapping(spec, raw.headers), "suggested"
    if mapping.missing_required:
        raise MappingIncomplete(mapping.missing_required, raw.headers)
    report = validate(spec, raw, mapping, file_name=info.file_name)
    return FileCheck(
        info=info,
        raw=raw,
        mapping=mapping,
        mapping_source=source,
        report=report,
        already_loaded=sql.find_loaded(dataset, info.sha256),
    )


def commit_check(
    check: FileCheck,
    services: Services,
    *,
    source: str,
    progress: Any = None,
    force: bool = False,
) -> CommitResult:
    """Publish the valid rows of a checked file and remember its mapping for the layout."""
    dataset = check.report.dataset
    result = commit_upload(
        check.facts(source=source),
        check.report.valid_rows,
        sql=services.sql,
        bus=services.bus,
        topic=services.settings.topic(dataset),
        progress=progress,
        force=force,
    )
    services.sql.save_mapping(
        dataset, check.mapping.signature, dict(check.mapping.fields), sheet=check.raw.sheet
    )
    return result


def report_summary(check: FileCheck, *, max_issues: int | None = None) -> dict[str, Any]:
    """The validation report as plain JSON: counts and every problem with its place."""
    report = check.report
    issues = report.issues if max_issues is None else report.issues.head(max_issues)
    return {
        "file": check.info.file_name,
        "sha256": check.info.sha256,
        "format": check.info.format,
        "dataset": report.dataset,
        "sheet": report.sheet,
        "sheets": [{"name": s.name, "rows": s.rows} for s in check.info.sheets],
        "header_row": check.raw.header_row,
        "mapping": dict(check.mapping.fields),
        "mapping_source": check.mapping_source,
        "missing_required": list(check.mapping.missing_required),
        "unexpected_columns": list(check.mapping.unexpected),
        "header_problems": [p.message for p in check.raw.problems],
        "counts": {
            "total": report.total,
            "valid": report.valid,
            "rejected": report.rejected,
            "duplicates": report.duplicates,
        },
        "errors": [
            {k: (None if _missing(v) else v) for k, v in row.items()}
            for row in issues.to_dict("records")
        ],
        "already_loaded": (
            {"upload_id": check.already_loaded["id"], "on": str(check.already_loaded["created_at"])}
            if check.already_loaded
            else None
        ),
    }


def _missing(value: Any) -> bool:
    try:
        return value != value  # NaN
    except Exception:
        return False
