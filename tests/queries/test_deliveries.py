"""Pages of delivery notes, their lines, pick lists and chunked line exports, read from the
delivery projection on SQLite and PostgreSQL and checked against the seeded documents."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.queries import deliveries
from core.queries.filters import Between, Contains, OneOf

from .conftest import SqlCase


def _headers(case: SqlCase) -> pd.DataFrame:
    return pd.DataFrame(case.seeded.deliveries)


def test_a_page_of_delivery_notes_is_filtered_sorted_and_carries_their_lines(sql_case):
    headers = _headers(sql_case)
    customer = headers.customer.value_counts().index[0]
    filters = (
        OneOf("customer", (customer,)),
        Between("delivery_date", dt.date(2024, 1, 1), dt.date(2024, 9, 30)),
    )
    page = deliveries.fetch_deliveries(
        sql_case.sql, filters=filters, sort=[("delivery_date", -1)], page_size=3
    )
    expected = headers[
        (headers.customer == customer) & headers.delivery_date.between("2024-01-01", "2024-09-30")
    ]
    assert page.headers.total == len(expected) > 0
    dates = [d.isoformat() for d in page.headers.rows["delivery_date"]]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == expected.delivery_date.max()
    for _, header in page.headers.rows.iterrows():
        lines = page.lines[header["delivery_no"]]
        assert len(lines) == header["line_count"]
        assert lines["quantity"].sum() == pytest.approx(header["total_quantity"])


def test_each_note_and_its_lines_equal_its_document(sql_case):
    page = deliveries.fetch_deliveries(
        sql_case.sql, sort=[("delivery_no", 1)], page=2, page_size=25
    )
    documents = {d["_id"]: d for d in sql_case.seeded.deliveries}
    assert list(page.headers.rows["delivery_no"]) == sorted(documents)[25:50]
    for header in page.headers.rows.to_dict("records"):
        doc = documents[header["delivery_no"]]
        assert header["delivery_date"].isoformat() == doc["delivery_date"]
        for column in ("customer", "month", "site", "currency", "line_count"):
            assert header[column] == doc[column]
        assert header["total_amount"] == pytest.approx(doc["total_amount"])
        lines = page.lines[header["delivery_no"]]
        expected = [(x["line_no"], x["article"], x["quantity"]) for x in doc["lines"]]
        assert list(zip(lines.line_no, lines.article, lines.quantity, strict=True)) == expected


def test_sorting_by_a_total_pages_through_every_note_once(sql_case):
    seen: list[str] = []
    totals: list[float] = []
    page_size = 40
    for number in range(1, 100):
        page = deliveries.fetch_deliveries(
            sql_case.sql, sort=[("total_amount", -1)], page=number, page_size=page_size
        )
        if page.headers.rows.empty:
            break
        seen += list(page.headers.rows["delivery_no"])
        totals += list(page.headers.rows["total_amount"])
    assert sorted(seen) == sorted(d["_id"] for d in sql_case.seeded.deliveries)
    assert totals == sorted(totals, reverse=True)
    assert page.headers.pages == number - 1


def test_a_range_filter_on_line_counts_counts_the_matching_notes(sql_case):
    headers = _headers(sql_case)
    page = deliveries.fetch_deliveries(
        sql_case.sql, filters=(Between("line_count", 3, None),), page_size=5
    )
    assert page.headers.total == (headers.line_count >= 3).sum() > 0
    assert (page.headers.rows["line_count"] >= 3).all()


def test_the_last_day_of_a_date_range_is_included(sql_case):
    headers = _headers(sql_case)
    day = dt.date.fromisoformat(headers.delivery_date.iloc[0])
    page = deliveries.fetch_deliveries(
        sql_case.sql, filters=(Between("delivery_date", day, day),), page_size=100
    )
    assert page.headers.total == (headers.delivery_date == day.isoformat()).sum() > 0


def test_a_delivery_note_is_found_by_part_of_its_number(sql_case):
    number = sql_case.seeded.deliveries[0]["_id"]
    page = deliveries.fetch_deliveries(
        sql_case.sql, filters=(Contains("delivery_no", number[-5:].lower()),), page_size=100
    )
    assert number in set(page.headers.rows["delivery_no"])


def test_line_export_streams_every_line_once_with_its_header(sql_case):
    chunks = list(deliveries.iter_line_frames(sql_case.sql, chunk_size=7))
    assert len(chunks) > 2
    lines = pd.concat(chunks)
    expected = sum(d["line_count"] for d in sql_case.seeded.deliveries)
    assert len(lines) == expected
    assert lines.groupby(["delivery_no", "line_no"]).size().max() == 1
    first = sql_case.seeded.deliveries[0]
    own = lines[lines.delivery_no == first["_id"]]
    assert set(own.customer) == {first["customer"]}
    assert list(own.line_no) == [x["line_no"] for x in first["lines"]]


def test_line_export_applies_the_filters(sql_case):
    headers = _headers(sql_case)
    customer = headers.customer.iloc[0]
    lines = pd.concat(
        deliveries.iter_line_frames(
            sql_case.sql, filters=(OneOf("customer", (customer,)),), chunk_size=5
        )
    )
    assert set(lines.customer) == {customer}
    assert len(lines) == headers[headers.customer == customer].line_count.sum()


def test_customer_pick_list_has_each_customer_once(sql_case):
    values = deliveries.distinct_values(sql_case.sql, "customer")
    assert values == sorted(set(_headers(sql_case).customer))
