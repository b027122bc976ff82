"""From a customer table and the columns a user picked to the matrix the clusters are built on.

Every decision is stated in the `PreprocessingReport` as a sentence, in the order taken:
rows without a customer ID dropped; identifier columns left out; country spellings merged;
columns dropped (empty, mostly empty, dates, constant, too many categories); missing values
filled (median for numbers, most frequent value for categories) with counts; log1p applied or
suggested (skewness above 1, never negative); categories one-hot encoded (0/1, unscaled);
numbers scaled (standard: mean 0, sd 1; robust: median 0, interquartile range 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.segmentation.columns import (
    MAX_MISSING_SHARE,
    as_numbers,
    customer_keys,
    id_reason,
    is_country_column,
    skewness,
    suggests_log,
    tidy,
)
from core.segmentation.datahash import data_hash
from core.segmentation.errors import SegmentationError
from core.segmentation.report import PreprocessingReport
from core.segmentation.transform import (
    SCALINGS,
    CategoryStep,
    NumericStep,
    PreprocessingState,
    Scaling,
    category_values,
)

DEFAULT_MAX_LEVELS = 12
SUGGESTED: Literal["suggested"] = "suggested"


@dataclass(frozen=True, eq=False)
class Prepared:
    """Customers ready to cluster.

    `matrix` rows follow `ids`; its columns are `report.columns`. `values` holds the features
    in their own units (missing values filled, before log and scaling) and `described` the
    descriptive columns asked for (not features; countries normalised), both indexed by ID.
    """

    ids: tuple[str, ...]
    matrix: np.ndarray
    values: pd.DataFrame
    described: pd.DataFrame
    report: PreprocessingReport
    state: PreprocessingState
    data_hash: str

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def dims(self) -> int:
        return int(self.matrix.shape[1])


@dataclass
class _Plan:
    steps: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    skew: dict[str, float | None] = field(default_factory=dict)
    suggested: list[str] = field(default_factory=list)
    numbers: dict[str, pd.Series] = field(default_factory=dict)
    texts: dict[str, pd.Series] = field(default_factory=dict)
    hashed: dict[str, pd.Series] = field(default_factory=dict)


def prepare(
    df: pd.DataFrame,
    *,
    id_column: str | None,
    features: Sequence[str],
    categorical: Sequence[str] = (),
    scaling: Scaling = "standard",
    log_features: Sequence[str] | Literal["suggested"] | None = None,
    describe: Sequence[str] = (),
    max_levels: int = DEFAULT_MAX_LEVELS,
) -> Prepared:
    """Fit preprocessing on `df` and return the customers ready to cluster.

    `features` are the columns the user picked; numeric columns are numeric features unless
    listed in `categorical` (codes such as a region number). `log_features` is None (no
    log), `"suggested"` (every suggested one) or a list. `describe` names extra columns shown
    per segment (e.g. a country) without being features. With `id_column` None customers are
    numbered by row. Raises SegmentationError for unknown columns, duplicate customer IDs or
    when no usable feature remains.
    """
    if scaling not in SCALINGS:
        raise SegmentationError(f"Unknown scaling '{scaling}': use one of {', '.join(SCALINGS)}")
    wanted = list(dict.fromkeys(features))
    unknown = [c for c in (*wanted, *categorical, *describe) if c not in df.columns]
    if id_column is not None and id_column not in df.columns:
        unknown.insert(0, id_column)
    if unknown:
        raise SegmentationError(f"Unknown columns: {', '.join(map(str, unknown))}")
    if not wanted:
        raise SegmentationError("Pick at least one feature column")

    plan = _Plan()
    frame, ids, without_id = _customers(df, id_column=id_column, plan=plan)
    for column in wanted:
        _classify(frame, column, id_column=id_column, categorical=categorical, plan=plan)
    numeric = _numeric_steps(plan, scaling=scaling, log_features=log_features)
    categories = _category_steps(plan, max_levels=max_levels)
    state = PreprocessingState(id_column, scaling, tuple(numeric), tuple(categories))
    if not state.columns:
        reasons = "; ".join([*plan.excluded.values(), *plan.dropped.values()])
        raise SegmentationError(f"No usable feature remains ({reasons})")
    transformed = state.transform(frame)
    plan.steps.append(
        f"Result: {len(ids):,} customers × {len(state.columns)} columns "
        f"({len(numeric)} numeric, {len(state.columns) - len(numeric)} category levels)."
    )
    report = PreprocessingReport(
        steps=tuple(plan.steps),
        rows_read=len(df),
        customers=len(ids),
        rows_without_id=without_id,
        excluded=plan.excluded,
        dropped=plan.dropped,
        imputed=plan.imputed,
        skewness=plan.skew,
        suggested_log=tuple(plan.suggested),
        log_applied=tuple(s.column for s in numeric if s.log),
        scaling=scaling,
        encoded={s.column: s.levels for s in categories},
        columns=state.columns,
    )
    return Prepared(
        ids=transformed.ids,
        matrix=transformed.matrix,
        values=_values(plan, numeric, categories, ids),
        described=_described(frame, describe, ids),
        report=report,
        state=state,
        data_hash=data_hash(ids, plan.hashed),
    )


def _customers(
    df: pd.DataFrame, *, id_column: str | None, plan: _Plan
) -> tuple[pd.DataFrame, tuple[str, ...], int]:
    if id_column is None:
        plan.steps.append(
            f"{len(df):,} customers read; no customer ID column, so they are numbered by row."
        )
        return df, tuple(str(i) for i in range(1, len(df) + 1)), 0
    keys = customer_keys(df[id_column])
    present = keys.notna().to_numpy()
    frame = df.loc[present]
    keys = keys[present]
    repeated = keys[keys.duplicated(keep=False)]
    if not repeated.empty:
        sample = ", ".join(repr(k) for k in list(dict.fromkeys(repeated))[:5])
        raise SegmentationError(
            f"Customer IDs appear more than once in '{id_column}' ({repeated.nunique()} IDs, "
            f"e.g. {sample}): keep one row per customer first"
        )
    without = int((~present).sum())
    plan.steps.append(
        f"{len(df):,} rows read: {len(frame):,} customers"
        + (f"; {without:,} rows without a customer ID dropped." if without else ".")
    )
    return frame, tuple(keys.tolist()), without


def _classify(
    frame: pd.DataFrame,
    column: str,
    *,
    id_column: str | None,
    categorical: Sequence[str],
    plan: _Plan,
) -> None:
    values = tidy(frame[column])
    if column == id_column:
        plan.excluded[column] = f"'{column}' is the customer ID"
    elif (reason := id_reason(column, values)) is not None:
        plan.excluded[column] = reason
    if column in plan.excluded:
        plan.steps.append(f"Left out: {plan.excluded[column]}.")
        return
    numbers = None if column in categorical else as_numbers(values)
    plan.hashed[column] = values if numbers is None else numbers
    missing = int(values.isna().sum())
    reason = None
    if missing == len(values):
        reason = f"'{column}' is empty"
    elif pd.api.types.is_datetime64_any_dtype(values):
        reason = f"'{column}' holds dates: derive a number from it (e.g. days since) first"
    elif missing > MAX_MISSING_SHARE * len(values):
        reason = f"'{column}' is missing for {missing / len(values):.0%} of customers"
    if reason:
        plan.dropped[column] = reason
        plan.steps.append(f"Dropped: {reason}.")
        return
    if numbers is not None:
        plan.numbers[column] = numbers
        return
    countries = is_country_column(column)
    text = category_values(values, countries=countries)
    if countries:
        _report_countries(column, values, text, plan)
    plan.texts[column] = text


def _report_countries(column: str, raw: pd.Series, text: pd.Series, plan: _Plan) -> None:
    spellings = raw.dropna().astype(str).nunique()
    countries = text.dropna().nunique()
    if spellings == countries:
        return
    changed = raw.astype(str) != text.astype(str)
    examples = list(dict.fromkeys(zip(raw[changed & raw.notna()], text[changed], strict=True)))
    shown = ", ".join(f"'{a}' → '{b}'" for a, b in examples[:3])
    plan.steps.append(
        f"{column}: {spellings} spellings normalised to {countries} countries (e.g. {shown})."
    )


def _numeric_steps(
    plan: _Plan,
    *,
    scaling: Scaling,
    log_features: Sequence[str] | Literal["suggested"] | None,
) -> list[NumericStep]:
    kept: dict[str, pd.Series] = {}
    fills: dict[str, float] = {}
    for column, numbers in plan.numbers.items():
        missing = int(numbers.isna().sum())
        fill = float(numbers.median())
        filled = numbers.fillna(fill)
        if filled.nunique() <= 1:
            plan.dropped[column] = f"'{column}' has the same value ({fill:g}) for every customer"
            plan.steps.append(f"Dropped: {plan.dropped[column]}.")
            continue
        if missing:
            plan.imputed[column] = missing
            plan.steps.append(
                f"{column}: {missing:,} missing values filled with the median ({fill:,.4g})."
            )
        plan.skew[column] = skewness(numbers)
        if suggests_log(numbers):
            plan.suggested.append(column)
        kept[column] = filled
        fills[column] = fill
    logged = _log_choice(plan, kept, log_features)

    steps: list[NumericStep] = []
    for column, filled in kept.items():
        values = np.log1p(filled.to_numpy(float)) if column in logged else filled.to_numpy(float)
        center, scale = _center_scale(column, values, scaling=scaling, plan=plan)
        steps.append(NumericStep(column, fills[column], column in logged, center, scale))
    if steps:
        how = (
            "standardised (mean 0, standard deviation 1)"
            if scaling == "standard"
            else "robust-scaled (median 0, interquartile range 1)"
        )
        plan.steps.append(f"Numeric features {how}.")
    return steps


def _log_choice(
    plan: _Plan,
    kept: dict[str, pd.Series],
    log_features: Sequence[str] | Literal["suggested"] | None,
) -> list[str]:
    if log_features is None:
        chosen: list[str] = []
    elif isinstance(log_features, str):
        if log_features != SUGGESTED:
            raise SegmentationError(f"log_features must be a list of columns or '{SUGGESTED}'")
        chosen = list(plan.suggested)
    else:
        chosen = []
        for column in log_features:
            if column not in kept:
                plan.steps.append(f"log1p not applied to '{column}': it is not a numeric feature.")
            elif bool((kept[column] < 0).any()):
                plan.steps.append(f"log1p not applied to '{column}': it has negative values.")
            else:
                chosen.append(column)
    if chosen:
        described = ", ".join(f"{c} (skewness {_fmt(plan.skew.get(c))})" for c in chosen)
        plan.steps.append(f"log1p applied to {described} to even out long right tails.")
    rest = [c for c in plan.suggested if c not in chosen]
    if rest:
        plan.steps.append(
            "log1p suggested (skewness above 1, never negative) but not applied for: "
            + ", ".join(f"{c} ({_fmt(plan.skew.get(c))})" for c in rest)
            + "."
        )
    return chosen


def _center_scale(
    column: str, values: np.ndarray, *, scaling: Scaling, plan: _Plan
) -> tuple[float, float]:
    if scaling == "robust":
        q25, median, q75 = np.percentile(values, [25, 50, 75])
        if q75 > q25:
            return float(median), float(q75 - q25)
        plan.steps.append(
            f"{column}: interquartile range is 0, so it is scaled by its standard deviation."
        )
        return float(median), float(values.std())
    return float(values.mean()), float(values.std())


def _category_steps(plan: _Plan, *, max_levels: int) -> list[CategoryStep]:
    steps: list[CategoryStep] = []
    for column, text in plan.texts.items():
        counts = text.value_counts()
        fill = str(sorted(counts[counts == counts.max()].index)[0])
        levels = sorted(str(v) for v in counts.index)
        if len(levels) <= 1:
            plan.dropped[column] = f"'{column}' has the same value ('{fill}') for every customer"
        elif len(levels) > max_levels:
            plan.dropped[column] = (
                f"'{column}' has {len(levels)} distinct values (more than {max_levels}): "
                "too many to one-hot encode; group them first"
            )
        if column in plan.dropped:
            plan.steps.append(f"Dropped: {plan.dropped[column]}.")
            continue
        missing = int(text.isna().sum())
        if missing:
            plan.imputed[column] = missing
            plan.steps.append(
                f"{column}: {missing:,} missing values filled with the most frequent value "
                f"('{fill}')."
            )
        plan.texts[column] = text.fillna(fill)
        plan.steps.append(
            f"{column} one-hot encoded into {len(levels)} columns ({', '.join(levels)}); "
            "these stay 0/1, unscaled."
        )
        steps.append(CategoryStep(column, fill, tuple(levels), is_country_column(column)))
    return steps


def _values(
    plan: _Plan,
    numeric: Sequence[NumericStep],
    categories: Sequence[CategoryStep],
    ids: tuple[str, ...],
) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for step in numeric:
        columns[step.column] = plan.numbers[step.column].fillna(step.fill).to_numpy(float)
    for category in categories:
        columns[category.column] = plan.texts[category.column].to_numpy(object)
    return pd.DataFrame(columns, index=pd.Index(ids, name="customer_id"))


def _described(frame: pd.DataFrame, describe: Sequence[str], ids: tuple[str, ...]) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for column in dict.fromkeys(describe):
        values = tidy(frame[column])
        numbers = as_numbers(values)
        if numbers is not None:
            columns[column] = numbers.to_numpy(float)
        else:
            text = category_values(values, countries=is_country_column(column))
            columns[column] = text.to_numpy(object)
    return pd.DataFrame(columns, index=pd.Index(ids, name="customer_id"))


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
