"""Steps of the upload screen, cached per session so reruns do not parse the file again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from core.bootstrap import Services
from core.domain.schemas import DATASETS
from core.ingest import reader
from core.ingest.limits import ParseLimits
from core.ingest.mapping import ROW_NUMBER, ColumnMapping, row_number_fields, suggest_mapping
from core.ingest.reader import inspect_file, read_sheet
from core.ingest.tables import RawTable, WorkbookInfo

NOT_MAPPED = "— not in this file —"
_CACHE = "upload.cache"


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    name: str
    sha256: str


def save_upload(svc: Services, name: str, data: bytes) -> StoredUpload:
    """Keep the uploaded bytes on disk (the parser reads them in a child process)."""
    sha = hashlib.sha256(data).hexdigest()
    folder = svc.settings.uploads_dir / sha[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(name).name
    if not path.exists():
        path.write_bytes(data)
    return StoredUpload(path=path, name=Path(name).name, sha256=sha)


def prepare_reader(svc: Services) -> None:
    """Have the parsing child ready before a file arrives."""
    reader.prepare_reader(ParseLimits.from_settings(svc.settings))


def _cache() -> dict:  # type: ignore[type-arg]
    return st.session_state.setdefault(_CACHE, {})


def inspect(svc: Services, upload: StoredUpload) -> WorkbookInfo:
    key = ("info", upload.sha256)
    cache = _cache()
    if key not in cache:
        cache.clear()  # a new file: forget the previous one's sheets
        limits = ParseLimits.from_settings(svc.settings)
        cache[key] = inspect_file(upload.path, file_name=upload.name, limits=limits)
    return cache[key]


def sheet(svc: Services, upload: StoredUpload, name: str) -> RawTable:
    key = ("sheet", upload.sha256, name)
    cache = _cache()
    if key not in cache:
        limits = ParseLimits.from_settings(svc.settings)
        cache[key] = read_sheet(upload.path, sheet=name, limits=limits, file_name=upload.name)
    return cache[key]


def starting_mapping(svc: Services, dataset: str, raw: RawTable) -> tuple[ColumnMapping, str]:
    """The saved mapping for this layout when there is one, else the suggestion by name."""
    from core.ingest.mapping import apply_saved_mapping

    spec = DATASETS[dataset]
    suggested = suggest_mapping(spec, raw.headers)
    saved = svc.sql.load_mapping(dataset, suggested.signature)
    if saved:
        return apply_saved_mapping(spec, raw.headers, saved), "saved"
    return suggested, "suggested"


def mapping_table(dataset: str, mapping: ColumnMapping) -> pd.DataFrame:
    spec = DATASETS[dataset]
    return pd.DataFrame(
        {
            "Field": [f.title for f in spec.fields],
            "Required": [f.required for f in spec.fields],
            "Type": [f.kind for f in spec.fields],
            "Column in the file": [mapping.fields.get(f.name, NOT_MAPPED) for f in spec.fields],
        }
    )


def column_choices(dataset: str, raw: RawTable) -> list[str]:
    extra = [ROW_NUMBER] if row_number_fields(DATASETS[dataset]) else []
    return [NOT_MAPPED, *raw.headers, *extra]


def assignments_from(dataset: str, edited: pd.DataFrame) -> dict[str, str | None]:
    spec = DATASETS[dataset]
    chosen = edited["Column in the file"].tolist()
    return {
        f.name: (None if c in (None, NOT_MAPPED) else c)
        for f, c in zip(spec.fields, chosen, strict=True)
    }


def guess_dataset(headers: tuple[str, ...]) -> str:
    """The dataset whose fields the headers match best."""
    scores = {
        name: len(suggest_mapping(spec, headers).fields) / max(len(spec.required), 1)
        - len(suggest_mapping(spec, headers).missing_required)
        for name, spec in DATASETS.items()
    }
    return max(scores, key=scores.__getitem__)
