"""Which source column feeds which dataset field.

Headers match a field by its name, its label or one of its aliases, compared through
`normalize_header` (case, accents, spaces and punctuation folded; aliases carry the French and
English names). Names and labels win over aliases; among aliases the earlier one wins.

A layout signature (a hash of the normalized header list) lets the caller store a mapping the
user confirmed and apply it again to the next file of the same layout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.domain.schemas import Dataset, Field, normalize_header

# Mapped instead of a header: the value is the row's Excel row number, as text.
ROW_NUMBER = "<row number>"
SIGNATURE_LENGTH = 16
_SIGNATURE_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class ColumnMapping:
    """Dataset field -> source header (or `ROW_NUMBER`), with what is still missing.

    `missing_required` lists required fields without a source; `unexpected` lists source
    headers no field uses (kept as extra attributes when the dataset keeps extra columns).
    """

    dataset: str
    fields: Mapping[str, str]
    missing_required: tuple[str, ...]
    unexpected: tuple[str, ...]
    signature: str

    @property
    def complete(self) -> bool:
        return not self.missing_required

    def source_of(self, field_name: str) -> str | None:
        return self.fields.get(field_name)


def layout_signature(headers: Sequence[str]) -> str:
    """A stable short hash of the normalized, ordered header list."""
    text = _SIGNATURE_SEPARATOR.join(normalize_header(h) for h in headers)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SIGNATURE_LENGTH]


def row_number_fields(dataset: Dataset) -> tuple[str, ...]:
    """Fields that may take the row number when no column holds them (a one-field key)."""
    if len(dataset.key) == 1 and dataset.field(dataset.key[0]).kind in ("code", "integer"):
        return dataset.key
    return ()


def make_mapping(
    dataset: Dataset, headers: Sequence[str], assignments: Mapping[str, str | None]
) -> ColumnMapping:
    """A mapping from explicit choices (field -> header, `ROW_NUMBER` or None).

    Raises ValueError for an unknown field or header, a header used twice, or `ROW_NUMBER`
    on a field that cannot take it.
    """
    known = set(headers)
    fields: dict[str, str] = {}
    used: dict[str, str] = {}
    for field_name, source in assignments.items():
        dataset.field(field_name)  # KeyError -> unknown field
        if source is None:
            continue
        if source == ROW_NUMBER:
            if field_name not in row_number_fields(dataset):
                raise ValueError(f"{field_name} cannot be generated from the row number")
        elif source not in known:
            raise ValueError(f"no column named {source!r} in this file")
        elif source in used:
            raise ValueError(f"column {source!r} is mapped to both {used[source]} and {field_name}")
        else:
            used[source] = field_name
        fields[field_name] = source
    ordered = {f.name: fields[f.name] for f in dataset.fields if f.name in fields}
    return ColumnMapping(
        dataset=dataset.name,
        fields=ordered,
        missing_required=tuple(f for f in dataset.required if f not in ordered),
        unexpected=tuple(h for h in headers if h not in used),
        signature=layout_signature(headers),
    )


def suggest_mapping(dataset: Dataset, headers: Sequence[str]) -> ColumnMapping:
    """The best guess from names and aliases; never maps one header to two fields."""
    by_key: dict[str, list[str]] = {}
    for header in headers:
        by_key.setdefault(_key(header), []).append(header)
    taken: set[str] = set()
    chosen: dict[str, str] = {}
    # 1. exact names and labels first, so an alias never steals another field's own column
    # 2. then aliases, in each field's order of preference
    for candidates in (_own_names, _aliases):
        for f in dataset.fields:
            if f.name in chosen:
                continue
            for candidate in candidates(f):
                free = [h for h in by_key.get(_key(candidate), []) if h not in taken]
                if free:
                    chosen[f.name] = free[0]
                    taken.add(free[0])
                    break
    return make_mapping(dataset, headers, chosen)


def apply_saved_mapping(
    dataset: Dataset, headers: Sequence[str], saved: Mapping[str, str]
) -> ColumnMapping:
    """A mapping confirmed earlier (field -> header), applied to a file's headers.

    Headers are matched through their normalized form, so a re-saved file whose headers
    differ only in case or spacing still maps; fields whose header is gone are left out.
    """
    present = {normalize_header(h): h for h in reversed(headers)}
    assignments: dict[str, str | None] = {}
    for field_name, header in saved.items():
        if field_name not in dataset.field_names:
            continue
        if header == ROW_NUMBER:
            assignments[field_name] = header
        else:
            assignments[field_name] = present.get(normalize_header(header))
    return make_mapping(dataset, headers, assignments)


def _key(text: str) -> str:
    return normalize_header(text).replace(" ", "")


def _own_names(f: Field) -> tuple[str, ...]:
    return (f.name, f.label) if f.label else (f.name,)


def _aliases(f: Field) -> tuple[str, ...]:
    return f.aliases
