"""Dashboard aggregations computed in the relational store (SQLite and PostgreSQL), checked
against pandas on the seeded rows and delivery documents."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.queries import dashboards
from core.queries.periods import Period
from tests import seeding

from .conftest import SqlCase

SPRING = Period(dt.date(2024, 3, 1), dt.date(2024, 6, 30))


def _movements(case: SqlCase) -> pd.DataFrame:
    rows = pd.DataFrame(case.seeded.movements)
    rows["family"] = rows["family"].fillna(dashboards.UNCLASSIFIED)
    return rows


def _lines(case: SqlCase) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"customer": d["customer"], "month": d["month"], "date": d["delivery_date"], **line}
            for d in case.seeded.deliveries
            for line in d["lines"]
        ]
    )


def test_movements_over_time_sum_signed_quantities_per_month_type_and_family(sql_case):
    result = dashboards.movements_over_time(
        sql_case.sql, period=SPRING, families=["Conduit", "Raccords"]
    )
    rows = _movements(sql_case)
    rows = rows[
        rows.date_creation.between(SPRING.start, SPRING.end)
        & rows.family.isin(["Conduit", "Raccords"])
    ]
    rows["month"] = rows.date_creation.map(lambda d: d.strftime("%Y-%m"))
    expected = rows.groupby(["month", "type_mouvement", "family"], as_index=False).agg(
        quantity=("quantite", "sum"), movements=("quantite", "size")
    )
    assert list(result.columns) == ["month", "type_mouvement", "family", "quantity", "movements"]
    assert set(result.month) == {"2024-03", "2024-04", "2024-05", "2024-06"}
    merged = result.merge(expected, on=["month", "type_mouvement", "family"], how="outer")
    assert len(merged) == len(expected) == len(result)
    assert merged.quantity_x.tolist() == pytest.approx(merged.quantity_y.tolist())
    assert (merged.movements_x == merged.movements_y).all()


def test_movements_over_time_filter_by_movement_type_and_customer(sql_case):
    rows = _movements(sql_case)
    customer = rows.tiers.dropna().iloc[0]
    result = dashboards.movements_over_time(
        sql_case.sql,
        period=Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        movement_types=[seeding.DELIVERY],
        customers=[customer],
    )
    assert set(result.type_mouvement) == {seeding.DELIVERY}
    assert result.movements.sum() == (rows.tiers == customer).sum()


def test_stock_on_hand_is_the_sum_of_signed_quantities_per_family_and_dn(sql_case):
    as_of = dt.date(2024, 8, 31)
    result = dashboards.stock_on_hand(sql_case.sql, as_of=as_of)
    rows = _movements(sql_case)
    rows = rows[rows.date_creation <= as_of]
    expected = rows.groupby(["family", "dn"], dropna=False, as_index=False).quantite.sum()
    assert len(result) == len(expected)
    got = {
        (r.family, None if pd.isna(r.dn) else int(r.dn)): r.quantity for r in result.itertuples()
    }
    for r in expected.itertuples():
        assert got[(r.family, None if pd.isna(r.dn) else int(r.dn))] == pytest.approx(r.quantite)
    assert "Matières premières" in set(result.family)


def test_stock_on_hand_of_chosen_families_only(sql_case):
    result = dashboards.stock_on_hand(sql_case.sql, families=["Joints", "Stoppeurs"])
    assert set(result.family) == {"Joints", "Stoppeurs"}


def test_customers_by_country_counts_one_country_under_its_french_and_english_names(sql_case):
    result = dashboards.customers_by_country(sql_case.sql)
    people = pd.DataFrame(sql_case.seeded.customers)
    counts = dict(zip(result.country, result.customers, strict=True))
    assert "Allemagne" not in counts
    german = people.country.isin(["Allemagne", "Germany"]).sum()
    assert counts["Germany"] == german > people[people.country == "Germany"].shape[0]
    assert sum(counts.values()) == len(people)
    public = dashboards.customers_by_country(sql_case.sql, statuses=["Public"])
    assert public.customers.sum() == (people.status == "Public").sum()


def test_deliveries_per_customer_and_month_sum_the_documents(sql_case):
    result = dashboards.deliveries_by_customer_month(sql_case.sql, period=SPRING)
    docs = pd.DataFrame(sql_case.seeded.deliveries)
    docs = docs[docs.delivery_date.between("2024-03-01", "2024-06-30")]
    expected = docs.groupby(["customer", "month"], as_index=False)[
        ["total_quantity", "total_amount"]
    ].sum()
    merged = result.merge(expected, on=["customer", "month"], how="outer")
    assert len(merged) == len(result) == len(expected) > 0
    assert merged.quantity.tolist() == pytest.approx(merged.total_quantity.tolist())
    assert merged.amount.tolist() == pytest.approx(merged.total_amount.tolist())


def test_deliveries_per_customer_and_month_of_chosen_families_count_only_their_lines(
    sql_case,
):
    customers = sorted({d["customer"] for d in sql_case.seeded.deliveries})[:10]
    result = dashboards.deliveries_by_customer_month(
        sql_case.sql, period=SPRING, customers=customers, families=["Conduit"]
    )
    lines = _lines(sql_case)
    lines = lines[
        lines.date.between("2024-03-01", "2024-06-30")
        & (lines.family == "Conduit")
        & lines.customer.isin(customers)
    ]
    expected = lines.groupby(["customer", "month"], as_index=False).quantity.sum()
    merged = result.merge(expected, on=["customer", "month"], how="outer")
    assert len(merged) == len(expected) == len(result) > 0
    assert merged.quantity_x.tolist() == pytest.approx(merged.quantity_y.tolist())


@pytest.mark.parametrize("measure", ["quantity", "amount"])
def test_top_products_are_the_articles_delivered_most(sql_case, measure):
    year = Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    result = dashboards.top_products(sql_case.sql, period=year, measure=measure, limit=5)
    lines = _lines(sql_case)
    expected = (
        lines.groupby("article", as_index=False)[measure]
        .sum()
        .sort_values([measure, "article"], ascending=[False, True])
        .head(5)
    )
    assert list(result[measure]) == pytest.approx(list(expected[measure]))
    assert list(result.article) == list(expected.article)
    assert result.designation.notna().all()


def test_a_period_without_deliveries_gives_empty_frames_with_their_columns(sql_case):
    empty = Period(dt.date(2030, 1, 1), dt.date(2030, 1, 31))
    by_month = dashboards.deliveries_by_customer_month(sql_case.sql, period=empty)
    top = dashboards.top_products(sql_case.sql, period=empty, families=["Conduit"])
    assert by_month.empty and list(by_month.columns) == ["customer", "month", "quantity", "amount"]
    assert top.empty and "article" in top.columns
