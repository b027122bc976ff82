"""Pages of delivery documents, their lines and chunked line exports, on the embedded
document store and on FerretDB."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.queries import deliveries
from core.queries.filters import Between, Contains, OneOf

from .conftest import DocumentCase


def _headers(case: DocumentCase) -> pd.DataFrame:
    return pd.DataFrame(case.seeded.deliveries)


def test_a_page_of_delivery_notes_is_filtered_sorted_and_carries_their_lines(document_case):
    headers = _headers(document_case)
    customer = headers.customer.value_counts().index[0]
    filters = (
        OneOf("customer", (customer,)),
        Between("delivery_date", dt.date(2024, 1, 1), dt.date(2024, 9, 30)),
    )
    page = deliveries.fetch_deliveries(
        document_case.documents, filters=filters, sort=[("delivery_date", -1)], page_size=3
    )
    expected = headers[
        (headers.customer == customer) & headers.delivery_date.between("2024-01-01", "2024-09-30")
    ]
    assert page.headers.total == len(expected) > 0
    dates = list(page.headers.rows["delivery_date"])
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == expected.delivery_date.max()
    for _, header in page.headers.rows.iterrows():
        lines = page.lines[header["_id"]]
        assert len(lines) == header["line_count"]
        assert lines["quantity"].sum() == pytest.approx(header["total_quantity"])


def test_the_last_day_of_a_date_range_is_included(document_case):
    headers = _headers(document_case)
    day = dt.date.fromisoformat(headers.delivery_date.iloc[0])
    page = deliveries.fetch_deliveries(
        document_case.documents, filters=(Between("delivery_date", day, day),), page_size=100
    )
    assert page.headers.total == (headers.delivery_date == day.isoformat()).sum() > 0


def test_a_delivery_note_is_found_by_part_of_its_number(document_case):
    number = document_case.seeded.deliveries[0]["_id"]
    page = deliveries.fetch_deliveries(
        document_case.documents, filters=(Contains("_id", number[-5:].lower()),), page_size=100
    )
    assert number in set(page.headers.rows["_id"])


def test_line_export_streams_every_line_once_with_its_header(document_case):
    chunks = list(deliveries.iter_line_frames(document_case.documents, chunk_size=7))
    assert len(chunks) > 2
    lines = pd.concat(chunks)
    expected = sum(d["line_count"] for d in document_case.seeded.deliveries)
    assert len(lines) == expected
    assert lines.groupby(["delivery_no", "line_no"]).size().max() == 1
    first = document_case.seeded.deliveries[0]
    own = lines[lines.delivery_no == first["_id"]]
    assert set(own.customer) == {first["customer"]}


def test_line_export_applies_the_filters(document_case):
    headers = _headers(document_case)
    customer = headers.customer.iloc[0]
    lines = pd.concat(
        deliveries.iter_line_frames(
            document_case.documents, filters=(OneOf("customer", (customer,)),), chunk_size=5
        )
    )
    assert set(lines.customer) == {customer}
    assert len(lines) == headers[headers.customer == customer].line_count.sum()


def test_customer_pick_list_has_each_customer_once(document_case):
    values = deliveries.distinct_values(document_case.documents, "customer")
    assert values == sorted(set(_headers(document_case).customer))
