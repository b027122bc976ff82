"""Pages, filters, sorts, pick lists and chunked reads of the relational tables, checked
against expectations computed from the seeded rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.queries import tables
from core.queries.customers import attribute_columns
from core.queries.filters import Between, Contains, OneOf
from tests import seeding

from .conftest import SqlCase

KEY = ["piece", "no_ligne", "article", "lot"]


def _movements(case: SqlCase) -> pd.DataFrame:
    return pd.DataFrame(case.seeded.movements)


def _keys(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in frame[KEY].itertuples(index=False, name=None)]


def test_first_page_holds_the_latest_deliveries_of_the_period_with_their_total(sql_case):
    start, end = dt.date(2024, 3, 1), dt.date(2024, 6, 30)
    filters = (OneOf("type_mouvement", (seeding.DELIVERY,)), Between("date_creation", start, end))
    page = tables.fetch_page(
        sql_case.sql, "stock_movements", filters=filters, sort=[("date_creation", -1)], page_size=25
    )
    rows = _movements(sql_case)
    expected = rows[
        (rows.type_mouvement == seeding.DELIVERY)
        & (rows.date_creation >= start)
        & (rows.date_creation <= end)
    ]
    assert page.total == len(expected) > 25
    assert len(page.rows) == 25
    dates = list(page.rows["date_creation"])
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == expected.date_creation.max()
    assert set(page.rows["type_mouvement"]) == {seeding.DELIVERY}
    assert set(_keys(page.rows)) <= set(_keys(expected))


def test_pages_cover_every_matching_row_exactly_once(sql_case):
    filters = (OneOf("family", ("Conduit", "Raccords")),)
    seen: list[tuple] = []
    page_number = 1
    while True:
        page = tables.fetch_page(
            sql_case.sql,
            "stock_movements",
            filters=filters,
            sort=[("quantite", 1)],
            page=page_number,
            page_size=37,
        )
        if page.rows.empty:
            break
        seen += _keys(page.rows)
        page_number += 1
    rows = _movements(sql_case)
    expected = rows[rows.family.isin(["Conduit", "Raccords"])]
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == set(_keys(expected))


def test_a_page_past_the_end_is_empty_but_keeps_the_total(sql_case):
    page = tables.fetch_page(sql_case.sql, "stock_movements", page=1_000, page_size=50)
    assert page.rows.empty
    assert page.total == len(sql_case.seeded.movements)
    assert page.first_row == page.last_row == 0


def test_contains_is_case_insensitive_and_takes_wildcards_literally(sql_case):
    hits = tables.count(
        sql_case.sql, "stock_movements", filters=(Contains("designation_1", "COUDE"),)
    )
    rows = _movements(sql_case)
    assert hits == rows.designation_1.str.lower().str.contains("coude").sum() > 0
    for wildcard in ("%", "_", "C%0"):
        assert (
            tables.count(
                sql_case.sql, "stock_movements", filters=(Contains("designation_1", wildcard),)
            )
            == rows.designation_1.str.contains(wildcard, regex=False).sum()
        )


def test_a_range_includes_both_bounds_and_an_open_bound_is_ignored(sql_case):
    rows = _movements(sql_case)
    closed = tables.count(sql_case.sql, "stock_movements", filters=(Between("dn", 500, 800),))
    assert closed == rows.dn.between(500, 800).sum()
    assert (rows.dn == 500).any() and (rows.dn == 800).any()
    opened = tables.count(sql_case.sql, "stock_movements", filters=(Between("dn", low=800),))
    assert opened == (rows.dn >= 800).sum()


def test_picking_none_matches_the_empty_cells(sql_case):
    rows = _movements(sql_case)
    empty = tables.count(sql_case.sql, "stock_movements", filters=(OneOf("tiers", (None,)),))
    assert empty == rows.tiers.isna().sum() > 0
    both = tables.count(sql_case.sql, "stock_movements", filters=(OneOf("tiers", (None, "C0005")),))
    assert both == (rows.tiers.isna() | (rows.tiers == "C0005")).sum()


def test_empty_cells_sort_after_values_ascending_and_before_them_descending(sql_case):
    total = len(sql_case.seeded.movements)
    ascending = tables.fetch_page(
        sql_case.sql, "stock_movements", sort=[("tiers", 1)], page_size=total, columns=["tiers"]
    ).rows["tiers"]
    descending = tables.fetch_page(
        sql_case.sql, "stock_movements", sort=[("tiers", -1)], page_size=total, columns=["tiers"]
    ).rows["tiers"]
    assert pd.notna(ascending.iloc[0]) and pd.isna(ascending.iloc[-1])
    assert pd.isna(descending.iloc[0]) and pd.notna(descending.iloc[-1])


def test_pick_list_has_each_value_once_in_order(sql_case):
    values = tables.distinct_values(sql_case.sql, "stock_movements", "type_mouvement")
    assert values == sorted(set(_movements(sql_case).type_mouvement))
    limited = tables.distinct_values(sql_case.sql, "stock_movements", "article", limit=3)
    assert limited == sorted(set(_movements(sql_case).article))[:3]
    # an indexed column (read by walking its index on PostgreSQL), empty cells left out
    customers = tables.distinct_values(sql_case.sql, "stock_movements", "tiers", limit=5)
    assert customers == sorted(set(_movements(sql_case).tiers.dropna()))[:5]


def test_chunked_reads_stream_every_matching_row_in_bounded_chunks(sql_case):
    filters = (Between("date_creation", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),)
    chunks = list(
        tables.iter_frames(
            sql_case.sql, "stock_movements", filters=filters, sort=[("piece", 1)], chunk_size=64
        )
    )
    assert len(chunks) > 2
    assert all(len(c) <= 64 for c in chunks)
    streamed = pd.concat(chunks)
    assert sorted(_keys(streamed)) == sorted(_keys(_movements(sql_case)))
    assert list(streamed.piece) == sorted(streamed.piece)


def test_customer_attributes_are_listed_filtered_and_returned_as_columns(sql_case):
    columns = attribute_columns(sql_case.sql)
    kinds = {c.label: c.kind for c in columns}
    assert kinds == {
        "Annual Income ($)": "decimal",
        "Spending Score (1-100)": "decimal",
        "Customer size": "decimal",
        "Founded": "decimal",
        "Note": "text",
    }
    assert [c.label for c in columns] == list(kinds)  # in the order of the source columns
    income = "attributes.Annual Income ($)"
    page = tables.fetch_page(
        sql_case.sql,
        "customers",
        filters=(Between(income, 100_000, 140_000), Contains("attributes.Note", "discount")),
        attributes=["Annual Income ($)", "Note"],
        page_size=100,
    )
    people = pd.DataFrame(sql_case.seeded.customers)
    income_of = people.attributes.map(lambda a: a["Annual Income ($)"])
    note_of = people.attributes.map(lambda a: a.get("Note") or "")
    expected = people[income_of.between(100_000, 140_000) & note_of.str.contains("discount")]
    assert page.total == len(expected) > 0
    assert set(page.rows.customer_id) == set(expected.customer_id)
    assert set(page.rows["Note"]) == {"-discount"}
    assert page.rows["Annual Income ($)"].between(100_000, 140_000).all()


def test_a_number_filter_on_an_attribute_skips_rows_holding_text_there(sql_case):
    # 'Note' holds text; a numeric range on it must match nothing rather than fail.
    assert (
        tables.count(sql_case.sql, "customers", filters=(Between("attributes.Note", 0, 10),)) == 0
    )


@pytest.mark.parametrize(
    "bad",
    [
        OneOf("no_such_column", ("x",)),
        Contains("quantite", "1"),
        Between("designation_1", "a", "b"),
    ],
)
def test_a_filter_on_an_unknown_column_or_of_the_wrong_kind_is_refused(sql_case, bad):
    with pytest.raises(ValueError):
        tables.count(sql_case.sql, "stock_movements", filters=(bad,))


def test_sorting_by_an_unknown_column_is_refused(sql_case):
    with pytest.raises(ValueError):
        tables.fetch_page(sql_case.sql, "stock_movements", sort=[("1; DROP TABLE x", 1)])
