from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.segmentation import customer_key, describe_columns
from core.segmentation.columns import id_reason


@pytest.mark.parametrize(
    ("value", "key"),
    [(1.0, "1"), (42, "42"), (np.int64(7), "7"), (" C042 ", "C042"), ("0001", "0001")],
)
def test_customer_key_reads_an_excel_float_and_text_alike(value: object, key: str) -> None:
    assert customer_key(value) == key


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA, "   "])
def test_customer_key_is_none_for_a_missing_id(value: object) -> None:
    assert customer_key(value) is None


@pytest.mark.parametrize(
    "name", ["id", "CustomerID", "customerid", "Customer ID", "client_no", "Code client", "uuid"]
)
def test_a_column_named_like_an_identifier_is_one(name: str) -> None:
    assert id_reason(name, pd.Series([1, 1, 2])) is not None


@pytest.mark.parametrize("name", ["Paid", "Width", "Valid", "Idle time", "Region"])
def test_a_name_merely_containing_id_letters_is_not_an_identifier(name: str) -> None:
    assert id_reason(name, pd.Series([1, 1, 2])) is None


def test_distinct_consecutive_whole_numbers_are_an_identifier() -> None:
    codes = pd.Series(np.arange(12346, 12446, dtype=float))
    assert "distinct whole number" in (id_reason("Account", codes) or "")


def test_distinct_spending_amounts_spread_wide_are_not_an_identifier() -> None:
    spending = pd.Series(np.random.default_rng(0).choice(100_000, size=100, replace=False))
    assert id_reason("Fresh", spending) is None


def test_distinct_text_is_an_identifier_but_repeated_text_is_not() -> None:
    assert id_reason("Company", pd.Series([f"Firm {i}" for i in range(30)])) is not None
    assert id_reason("Status", pd.Series(["Public", "Private"] * 15)) is None


def test_describe_columns_tells_how_each_seed_column_would_be_used(
    seed_customers: pd.DataFrame,
) -> None:
    kinds = {c.name: c.kind for c in describe_columns(seed_customers, id_column="CustomerID")}
    assert kinds["CustomerID"] == "id"
    assert kinds["Status"] == kinds["Country"] == "category"
    assert kinds["Annual Income ($)"] == kinds["Number of employees"] == "numeric"


def test_describe_columns_suggests_log_for_skewed_spending_only(wholesale: pd.DataFrame) -> None:
    infos = {c.name: c for c in describe_columns(wholesale)}
    for column in ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]:
        assert infos[column].suggest_log
        assert (infos[column].skewness or 0) > 1
    # Region is skewed the other way (-1.3): log1p would make it worse.
    assert not infos["Region"].suggest_log
    assert not infos["Channel"].suggest_log


def test_describe_columns_marks_the_wholesale_note_columns_empty(wholesale: pd.DataFrame) -> None:
    infos = {c.name: c for c in describe_columns(wholesale)}
    assert infos["Unnamed: 11"].kind == "empty"
    assert "missing for 98%" in infos["Unnamed: 11"].reason
