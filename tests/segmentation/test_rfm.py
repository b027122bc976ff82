from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core.segmentation import SegmentationError, prepare, rfm_features


@pytest.fixture(scope="module")
def retail(retail_lines: pd.DataFrame):
    return rfm_features(
        retail_lines,
        customer="Customer ID",
        date="InvoiceDate",
        amount="Amount",
        quantity="Quantity",
        invoice="Invoice",
    )


def test_duplicates_and_lines_without_customer_are_dropped_and_counted(retail) -> None:
    assert retail.dropped["exact duplicate lines"] == 72
    # 1,871 lines have no customer; 4 of them were among the duplicates.
    assert retail.dropped["lines without a customer"] == 1867
    assert "72 exact duplicate lines dropped." in retail.steps


def test_cancellations_are_counted_as_returns_not_visits(retail) -> None:
    assert any("126 return lines (126 on cancellation invoices" in s for s in retail.steps)
    frame = retail.frame.set_index("customer_id")
    # 17592 bought 38 items for 148.30 on 489462, then cancelled all of it on C489459.
    assert frame.loc["17592", "frequency"] == 1
    assert frame.loc["17592", "monetary"] == pytest.approx(0.0)
    assert frame.loc["17592", "quantity"] == pytest.approx(0.0)


def test_a_plain_customer_gets_recency_frequency_money_and_quantity(retail) -> None:
    frame = retail.frame.set_index("customer_id")
    # 13085: invoices 489434 (505.30, 166 items) and 489435 (145.80, 60 items) on 1 Dec 2009.
    assert retail.as_of == date(2009, 12, 2)
    assert frame.loc["13085"].to_dict() == {
        "recency_days": 1,
        "frequency": 2,
        "monetary": pytest.approx(651.10),
        "quantity": 226.0,
    }


def test_every_customer_has_one_row_with_sane_values(retail, retail_lines) -> None:
    frame = retail.frame
    assert frame["customer_id"].is_unique
    assert list(frame.columns) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "quantity",
    ]
    assert not frame.isna().any().any()
    assert (frame["recency_days"] >= 0).all() and (frame["frequency"] >= 1).all()
    buyers = retail_lines.loc[
        ~retail_lines["Invoice"].str.startswith("C") & retail_lines["Customer ID"].notna(),
        "Customer ID",
    ].nunique()
    assert len(frame) == buyers
    assert retail.dropped["customers with returns only"] == 31


def test_the_features_feed_straight_into_prepare(retail) -> None:
    prepared = prepare(
        retail.frame,
        id_column="customer_id",
        features=list(retail.features),
        log_features="suggested",
    )
    assert prepared.n == len(retail.frame)
    assert "monetary" in prepared.report.log_applied


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client": ["A", "A", "A", "B", "B", "B"],
            "day": [
                "2024-03-01",
                "2024-03-01",
                "2024-03-10",
                "2024-02-01",
                "2024-02-20",
                "2024-04-01",
            ],
            "value": [100.0, 300.0, 100.0, 50.0, -20.0, 70.0],
            "family": ["Conduit", "Raccords", "Conduit", "Joints", "Joints", None],
        }
    )


def test_family_shares_split_each_customers_purchases() -> None:
    result = rfm_features(
        _lines(),
        customer="client",
        date="day",
        amount="value",
        family="family",
        as_of=date(2024, 3, 31),
    )
    frame = result.frame.set_index("customer_id")
    assert result.dropped["lines dated after the reference day"] == 1
    assert frame.loc["A", "share_Conduit"] == pytest.approx(0.4)
    assert frame.loc["A", "share_Raccords"] == pytest.approx(0.6)
    assert frame.loc["B", "share_Joints"] == pytest.approx(1.0)
    # Without an invoice column, visits are distinct purchase days; the -20 is a refund.
    assert frame.loc["A", "frequency"] == 2 and frame.loc["B", "frequency"] == 1
    assert frame.loc["B", "monetary"] == pytest.approx(30.0)
    assert frame.loc["A", "recency_days"] == 21 and frame.loc["B", "recency_days"] == 59


def test_missing_columns_are_named() -> None:
    with pytest.raises(SegmentationError, match="Quantité"):
        rfm_features(_lines(), customer="client", date="day", amount="value", quantity="Quantité")
