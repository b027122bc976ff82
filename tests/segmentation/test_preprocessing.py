from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.segmentation import Prepared, PreprocessingReport, SegmentationError, prepare
from core.segmentation.transform import PreprocessingState

from .samples import WHOLESALE_SPENDING


def test_seed_customers_keep_every_row_and_leave_the_id_out(seed_prepared: Prepared) -> None:
    report = seed_prepared.report
    assert seed_prepared.n == 2000
    assert seed_prepared.ids[:3] == ("1", "2", "3")
    assert "CustomerID" in report.excluded
    assert "CustomerID" not in seed_prepared.state.features
    assert "customer ID" in report.excluded["CustomerID"]


def test_country_spellings_are_merged_before_one_hot_encoding(seed_prepared: Prepared) -> None:
    levels = seed_prepared.report.encoded["Country"]
    assert len(levels) == 11
    assert "Germany" in levels and "Allemagne" not in levels
    assert any("14 spellings normalised to 11 countries" in s for s in seed_prepared.report.steps)
    assert (seed_prepared.described["Country"] == "Germany").sum() == 267


def test_the_matrix_is_standardised_numbers_and_zero_one_levels(seed_prepared: Prepared) -> None:
    x = seed_prepared.matrix
    numeric = len(seed_prepared.state.numeric)
    assert numeric == 6
    assert x.shape == (2000, numeric + 2 + 11)
    np.testing.assert_allclose(x[:, :numeric].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(x[:, :numeric].std(axis=0), 1, atol=1e-9)
    assert set(np.unique(x[:, numeric:])) == {0.0, 1.0}
    np.testing.assert_allclose(x[:, numeric + 2 :].sum(axis=1), 1)


def test_wholesale_spending_gets_log_suggested_and_applied_on_request(
    wholesale: pd.DataFrame,
) -> None:
    features = [*WHOLESALE_SPENDING, "Channel", "Region"]
    plain = prepare(wholesale, id_column=None, features=features, categorical=["Channel"])
    assert set(plain.report.suggested_log) == set(WHOLESALE_SPENDING)
    assert plain.report.log_applied == ()
    assert any("suggested" in s and "not applied" in s for s in plain.report.steps)

    logged = prepare(
        wholesale, id_column=None, features=features, log_features="suggested", scaling="robust"
    )
    assert set(logged.report.log_applied) == set(WHOLESALE_SPENDING)
    fresh = logged.state.numeric[0]
    assert fresh.column == "Fresh" and fresh.log
    expected = (np.log1p(wholesale["Fresh"]) - fresh.center) / fresh.scale
    np.testing.assert_allclose(logged.matrix[:, 0], expected)
    assert np.median(logged.matrix[:, 0]) == pytest.approx(0)


def test_customers_without_an_id_column_are_numbered_by_row(wholesale: pd.DataFrame) -> None:
    prepared = prepare(wholesale, id_column=None, features=WHOLESALE_SPENDING)
    assert prepared.ids[0] == "1" and prepared.ids[-1] == "440"
    assert "numbered by row" in prepared.report.steps[0]


def test_the_trailing_note_column_is_dropped_as_mostly_empty(wholesale: pd.DataFrame) -> None:
    notes = [c for c in wholesale.columns if c.startswith("Unnamed")]
    prepared = prepare(wholesale, id_column=None, features=["Milk", *notes])
    assert set(prepared.report.dropped) == set(notes)
    assert "missing for 98%" in prepared.report.dropped[notes[0]]


def _messy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["A1", "A2", "A3", "A4", "A5", "A6", None],
            "spend": [10.0, None, 30.0, None, 50.0, 60.0, 70.0],
            "kind": ["x", "y", None, "x", " ", "x", "y"],
            "same": [5, 5, 5, 5, 5, 5, 5],
            "city": ["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
            "joined": pd.to_datetime(["2024-01-01"] * 7),
        }
    )


def test_missing_values_are_filled_and_counted_per_column() -> None:
    prepared = prepare(
        _messy(), id_column="code", features=["spend", "kind", "same", "joined"], max_levels=12
    )
    report = prepared.report
    assert report.rows_without_id == 1
    assert prepared.n == 6
    assert report.imputed == {"spend": 2, "kind": 2}
    assert prepared.state.numeric[0].fill == 40.0
    assert prepared.state.categories[0].fill == "x"
    assert list(prepared.values["spend"]) == [10.0, 40.0, 30.0, 40.0, 50.0, 60.0]
    assert any("2 missing values filled with the median (40)" in s for s in report.steps)
    assert "same value" in report.dropped["same"]
    assert "dates" in report.dropped["joined"]


def test_a_category_with_too_many_levels_is_dropped_with_the_reason() -> None:
    frame = pd.DataFrame({"code": range(40), "size": [1, 2] * 20, "city": ["c1", "c2"] * 20})
    frame["city"] = [f"city {i % 13}" for i in range(40)]
    prepared = prepare(frame, id_column="code", features=["size", "city"])
    assert "13 distinct values (more than 12)" in prepared.report.dropped["city"]
    assert prepared.state.features == ("size",)


def test_no_usable_feature_left_is_a_clear_error() -> None:
    with pytest.raises(SegmentationError, match="No usable feature remains") as raised:
        prepare(_messy(), id_column="code", features=["code", "same", "joined"])
    assert "customer ID" in str(raised.value) and "dates" in str(raised.value)


def test_duplicate_customer_ids_are_refused() -> None:
    frame = pd.DataFrame({"id": [1.0, 2.0, 1.0], "x": [1, 2, 3]})
    with pytest.raises(SegmentationError, match="more than once"):
        prepare(frame, id_column="id", features=["x"])


def test_unknown_columns_are_named_in_the_error() -> None:
    with pytest.raises(SegmentationError, match="nope"):
        prepare(_messy(), id_column="code", features=["spend", "nope"])


def test_the_saved_state_transforms_new_customers_like_the_fitted_ones(
    seed_customers: pd.DataFrame, seed_prepared: Prepared
) -> None:
    state = PreprocessingState.from_dict(seed_prepared.state.to_dict())
    again = state.transform(seed_customers.iloc[::-1])
    np.testing.assert_array_equal(again.matrix, seed_prepared.matrix[::-1])
    assert again.ids == seed_prepared.ids[::-1]


def test_a_new_customer_with_an_unseen_country_and_gaps_is_still_transformed(
    seed_prepared: Prepared,
) -> None:
    newcomer = pd.DataFrame(
        {"CustomerID": ["9001"], "Status": [None], "Country": ["Atlantis"]}
        | {c: [None] for c in seed_prepared.state.features if c not in ("Status", "Country")}
    )
    row = seed_prepared.state.transform(newcomer).matrix[0]
    columns = seed_prepared.report.columns
    country = [i for i, c in enumerate(columns) if c.startswith("Country = ")]
    assert row[country].sum() == 0
    assert row[columns.index("Status = Public")] == 1  # the most frequent status


def test_the_report_survives_a_round_trip_through_plain_types(seed_prepared: Prepared) -> None:
    data = seed_prepared.report.to_dict()
    assert PreprocessingReport.from_dict(data) == seed_prepared.report


def test_the_data_hash_ignores_row_and_column_order_but_not_values(
    seed_customers: pd.DataFrame, seed_prepared: Prepared
) -> None:
    features = ["Country", "Annual Income ($)", "Status"]
    base = prepare(seed_customers, id_column="CustomerID", features=features)
    shuffled = seed_customers.sample(frac=1, random_state=1)[list(reversed(seed_customers.columns))]
    again = prepare(shuffled, id_column="CustomerID", features=list(reversed(features)))
    assert again.data_hash == base.data_hash
    changed = seed_customers.copy()
    changed.loc[5, "Annual Income ($)"] += 1
    assert prepare(changed, id_column="CustomerID", features=features).data_hash != base.data_hash
    assert len(base.data_hash) == 64 and base.data_hash != seed_prepared.data_hash


def test_the_data_hash_reads_whole_numbers_the_same_as_floats() -> None:
    as_int = pd.DataFrame({"id": [1, 2, 3], "x": [1, 2, 3]})
    as_float = pd.DataFrame({"id": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 3.0]})
    a = prepare(as_int, id_column="id", features=["x"])
    b = prepare(as_float, id_column="id", features=["x"])
    assert a.data_hash == b.data_hash
