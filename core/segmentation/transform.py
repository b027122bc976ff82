"""The fitted preprocessing state: turns a customer table into the matrix the clusters live in.

`prepare` fits it; a saved run keeps it (`to_dict`) so that new or changed customers are
transformed exactly like the ones the segments were built on:

    numeric   missing -> fitted median; optional log1p (negatives clipped to 0 first);
              then (value - center) / scale
    category  text tidied (country names normalised); missing -> fitted most frequent value;
              one 0/1 column per fitted level, in the fitted order; a level never seen when
              fitting gives 0 in every column of its category
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.domain.countries import normalize_country
from core.segmentation.columns import as_numbers, customer_key, customer_keys, tidy
from core.segmentation.errors import SegmentationError

Scaling = Literal["standard", "robust"]
SCALINGS: tuple[Scaling, ...] = ("standard", "robust")
LEVEL_SEPARATOR = " = "


@dataclass(frozen=True)
class NumericStep:
    """How one numeric column is filled, logged and scaled."""

    column: str
    fill: float
    log: bool
    center: float
    scale: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "fill": self.fill,
            "log": self.log,
            "center": self.center,
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericStep:
        return cls(
            column=str(data["column"]),
            fill=float(data["fill"]),
            log=bool(data["log"]),
            center=float(data["center"]),
            scale=float(data["scale"]),
        )


@dataclass(frozen=True)
class CategoryStep:
    """How one category column is tidied, filled and one-hot encoded."""

    column: str
    fill: str
    levels: tuple[str, ...]
    countries: bool = False

    @property
    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{self.column}{LEVEL_SEPARATOR}{level}" for level in self.levels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "fill": self.fill,
            "levels": list(self.levels),
            "countries": self.countries,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryStep:
        return cls(
            column=str(data["column"]),
            fill=str(data["fill"]),
            levels=tuple(str(v) for v in data["levels"]),
            countries=bool(data["countries"]),
        )


@dataclass(frozen=True, eq=False)
class Transformed:
    """Customer IDs (rows without one are left out) and their feature matrix, row for row."""

    ids: tuple[str, ...]
    matrix: np.ndarray


@dataclass(frozen=True)
class PreprocessingState:
    """Everything needed to transform customers the way a run's customers were.

    `id_column` None means customers were numbered by row (1, 2, ...).
    """

    id_column: str | None
    scaling: Scaling
    numeric: tuple[NumericStep, ...]
    categories: tuple[CategoryStep, ...]

    @property
    def features(self) -> tuple[str, ...]:
        """The input columns used, numeric first."""
        return tuple(s.column for s in self.numeric) + tuple(s.column for s in self.categories)

    @property
    def columns(self) -> tuple[str, ...]:
        """The matrix columns: one per numeric feature, then one per category level."""
        encoded = tuple(c for s in self.categories for c in s.output_columns)
        return tuple(s.column for s in self.numeric) + encoded

    def ids(self, df: pd.DataFrame) -> pd.Series:
        """Customer keys of `df`'s rows (None where missing), indexed like `df`."""
        if self.id_column is None:
            return pd.Series([str(i) for i in range(1, len(df) + 1)], index=df.index)
        if self.id_column not in df.columns:
            raise SegmentationError(f"The customer ID column '{self.id_column}' is missing")
        return customer_keys(df[self.id_column])

    def transform(self, df: pd.DataFrame) -> Transformed:
        """The matrix of `df`'s customers; raises SegmentationError if a feature is missing."""
        missing = [c for c in self.features if c not in df.columns]
        if missing:
            raise SegmentationError(f"Columns missing from the customers: {', '.join(missing)}")
        keys = self.ids(df)
        rows = df.loc[keys.notna().to_numpy()]
        blocks: list[np.ndarray] = []
        for step in self.numeric:
            values = numeric_values(rows[step.column]).fillna(step.fill).to_numpy(float)
            if step.log:
                values = np.log1p(np.clip(values, 0.0, None))
            blocks.append(((values - step.center) / step.scale).reshape(-1, 1))
        for step in self.categories:
            text = category_values(rows[step.column], countries=step.countries)
            text = text.fillna(step.fill).to_numpy(object)
            blocks.append(np.column_stack([(text == level) for level in step.levels]))
        matrix = (
            np.hstack(blocks).astype(np.float64)
            if blocks
            else np.empty((len(rows), 0), dtype=np.float64)
        )
        return Transformed(ids=tuple(keys[keys.notna()].tolist()), matrix=matrix)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id_column": self.id_column,
            "scaling": self.scaling,
            "numeric": [s.to_dict() for s in self.numeric],
            "categories": [s.to_dict() for s in self.categories],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessingState:
        scaling = data["scaling"]
        if scaling not in SCALINGS:
            raise SegmentationError(f"Unknown scaling '{scaling}'")
        return cls(
            id_column=None if data["id_column"] is None else str(data["id_column"]),
            scaling=scaling,
            numeric=tuple(NumericStep.from_dict(s) for s in data["numeric"]),
            categories=tuple(CategoryStep.from_dict(s) for s in data["categories"]),
        )


def numeric_values(values: pd.Series) -> pd.Series:
    """A column as floats; text that is not a number becomes missing."""
    numbers = as_numbers(tidy(values))
    if numbers is not None:
        return numbers
    return pd.to_numeric(tidy(values), errors="coerce").astype(float)


def category_values(values: pd.Series, *, countries: bool) -> pd.Series:
    """A column as tidy text (numbers without a trailing .0), country names normalised."""
    cleaned = tidy(values)
    text = cleaned.map(customer_key).astype(object)
    if countries:
        text = text.map(lambda v: None if v is None else normalize_country(v))
    return text.where(text.notna(), None)
