"""Trimming text cells the cheap way gives what trimming every cell gives."""

from __future__ import annotations

import random

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from core.ingest import textcells
from core.ingest.coerce import coerce

EDGES = ["", " ", "\t", "\n", "\x1f", "\u00a0", "\u2009", "\u3000", "é", "°"]


def by_every_cell(cells: pa.Array) -> list[str | None]:
    trimmed = pc.utf8_trim_whitespace(cells).to_pylist()
    return [None if cell is None or cell == "" else cell for cell in trimmed]


def random_cells(seed: int, count: int) -> list[str | None]:
    rng = random.Random(seed)
    cells: list[str | None] = []
    for _ in range(count):
        if rng.random() < 0.1:
            cells.append(None)
            continue
        middle = rng.choice(["", "Lot 7", "a  b", "Coude 45°", "漢字"])
        cells.append(rng.choice(EDGES) + middle + rng.choice(EDGES))
    return cells


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_trimmed_cells_are_those_trimmed_one_by_one(seed: int, large: bool) -> None:
    kind = pa.large_string() if large else pa.string()
    cells = pa.array(random_cells(seed, 500), type=kind)
    assert textcells.trimmed(cells).to_pylist() == by_every_cell(cells)
    part = cells.slice(37, 300)  # an array over part of its buffers
    assert textcells.trimmed(part).to_pylist() == by_every_cell(part)


@pytest.mark.parametrize("edge", EDGES[1:8])
def test_one_cell_with_whitespace_at_one_end_is_enough_to_trim(edge: str) -> None:
    cells = pa.array(["A1", "", "B2", f"C3{edge}", "D4"])
    assert textcells.trimmed(cells).to_pylist() == ["A1", None, "B2", "C3", "D4"]


def test_columns_without_whitespace_at_the_ends_are_kept_as_they_are() -> None:
    cells = pa.array(["A1", "Coude 45° coudé", "", None, "x y"])
    assert textcells.trimmed(cells).to_pylist() == ["A1", "Coude 45° coudé", None, None, "x y"]
    assert textcells.trimmed(pa.array([], type=pa.string())).to_pylist() == []


@pytest.mark.parametrize("dtype", ["str", object])
def test_codes_coerce_trimmed_from_text_and_mixed_columns(dtype: str | type) -> None:
    values = [" 007 ", "\u00a0A\u00a0", "", None, "12.0"]
    if dtype is object:
        values[3] = 5.0  # a number among text
    raw = pd.Series(values, dtype=dtype, index=range(2, 7), name="Lot")
    result = coerce(raw, "code").values
    expected = ["007", "A", None, "5" if dtype is object else None, "12"]
    assert [None if pd.isna(v) else v for v in result.tolist()] == expected
