"""AppTest page tests for the browse screens: stock movements, deliveries and customers, on
an embedded stack seeded through the real store adapters."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.bootstrap import build_services
from core.settings import load_settings
from tests import seeding

ROOT = Path(__file__).resolve().parents[2]


def _app(page: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)


@pytest.fixture
def seeded(app_env: Path) -> seeding.Seeded:
    services = build_services(load_settings(secrets_file=None))
    try:
        return seeding.seed(services.sql, services.documents, movements=300, customers=60)
    finally:
        services.close()


def _caption(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_movements_page_shows_the_latest_movements_first(seeded) -> None:
    at = _app("3_Stock_movements.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 50
    dates = list(table["Date_creation"])
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == max(m["date_creation"] for m in seeded.movements)
    assert "Rows 1–50 of 300" in _caption(at)
    assert [b.label for b in at.download_button] == ["Download CSV", "Download Excel"]


def test_picking_a_movement_type_filters_the_movements(seeded) -> None:
    at = _app("3_Stock_movements.py").run()
    at.multiselect(key="movements.filter.type_mouvement").select(seeding.DELIVERY).run()
    assert not at.exception
    table = at.dataframe[0].value
    deliveries = sum(m["type_mouvement"] == seeding.DELIVERY for m in seeded.movements)
    assert set(table["Type_mouvement"]) == {seeding.DELIVERY}
    assert f"of {deliveries}" in _caption(at)


def test_searching_a_designation_and_going_to_the_next_page(seeded) -> None:
    at = _app("3_Stock_movements.py").run()
    at.multiselect(key="movements.filter_on").select("Designation_1").run()
    at.text_input(key="movements.filter.designation_1").input("c/").run()
    at.selectbox(key="movements.size").select(25).run()
    at.number_input(key="movements.page").set_value(2).run()
    assert not at.exception
    pipes = sum(m["designation_1"].lower().startswith("c/") for m in seeded.movements)
    assert f"Rows 26–50 of {pipes}" in _caption(at)
    assert all("C/" in d for d in at.dataframe[0].value["Designation_1"])


def test_sorting_movements_by_quantity(seeded) -> None:
    at = _app("3_Stock_movements.py").run()
    at.selectbox(key="movements.sort").select("quantite").run()
    at.toggle(key="movements.desc").set_value(False).run()
    assert not at.exception
    quantities = list(at.dataframe[0].value["Quantite"])
    assert quantities == sorted(quantities)
    assert quantities[0] == min(m["quantite"] for m in seeded.movements)


def test_movements_page_on_an_empty_store_says_nothing_matches(app_env: Path) -> None:
    at = _app("3_Stock_movements.py").run()
    assert not at.exception
    assert "No rows match." in _caption(at)
    assert all(b.proto.disabled for b in at.download_button)


def test_each_delivery_note_expands_to_its_lines(seeded) -> None:
    at = _app("4_Deliveries.py").run()
    assert not at.exception
    assert len(at.expander) == min(len(seeded.deliveries), 50)
    first = at.expander[0]
    number = first.label.split("**")[1]
    document = next(d for d in seeded.deliveries if d["_id"] == number)
    assert document["delivery_date"] == max(d["delivery_date"] for d in seeded.deliveries)
    lines = first.dataframe[0].value
    assert list(lines["article"]) == [x["article"] for x in document["lines"]]


def test_filtering_deliveries_by_customer(seeded) -> None:
    customer = pd.Series([d["customer"] for d in seeded.deliveries]).value_counts().index[0]
    at = _app("4_Deliveries.py").run()
    at.multiselect(key="deliveries.filter.customer").select(customer).run()
    assert not at.exception
    expected = sum(d["customer"] == customer for d in seeded.deliveries)
    assert len(at.expander) == expected
    assert all(customer in e.label for e in at.expander)


def test_customers_page_shows_extra_columns_and_one_country_under_both_spellings(seeded) -> None:
    at = _app("5_Customers.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert {"Annual Income ($)", "Founded", "Country (normalised)"} <= set(table.columns)
    at.multiselect(key="customers.filter.country_name").select("Germany").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Country"]) == {"Allemagne", "Germany"}
    german = sum(c["country"] in ("Allemagne", "Germany") for c in seeded.customers)
    assert len(table) == german


def test_filtering_customers_by_a_numeric_extra_column(seeded) -> None:
    at = _app("5_Customers.py").run()
    at.multiselect(key="customers.filter_on").select("Annual Income ($)").run()
    at.number_input(key="customers.filter.attributes.Annual Income ($).low").set_value(
        100_000.0
    ).run()
    assert not at.exception
    table = at.dataframe[0].value
    expected = sum(c["attributes"]["Annual Income ($)"] >= 100_000 for c in seeded.customers)
    assert f"of {expected}" in _caption(at)
    assert (table["Annual Income ($)"] >= 100_000).all()
