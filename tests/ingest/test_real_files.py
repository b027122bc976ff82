"""The public datasets in shared/data, read end to end (pinned by sha256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.domain.schemas import CUSTOMERS_DATASET, DELIVERIES_DATASET
from core.ingest.limits import ParseLimits
from core.ingest.mapping import ROW_NUMBER, make_mapping, suggest_mapping
from core.ingest.reader import inspect_file, read_sheet
from core.ingest.validate import validate

SHA256 = {  # from shared/data/README.md
    "seed_customers.csv": "1d46acecacece4e905b220143170d7f5f6bb3bd574c728e1d4584c9321a64cff",
    "wholesale_customers.csv": "3f0870127f523be113e254149ebcd746442c99fc768a8204e42b49b297247dbd",
    "supply_chain_logistics.xlsx": (
        "0956bb1bd55c5b95fd3943e796aca800c400bd14644f605468f35aae1f848c4d"
    ),
    "scms_delivery_history.csv": "918b992dd3e8d4b64d2a727b2c4ea607603d0c58f19484e73f7b78528c6a8673",
}


@pytest.fixture
def data(shared_data: Path) -> Path:
    for name, digest in SHA256.items():
        actual = hashlib.sha256((shared_data / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} changed: the counts below no longer hold"
    return shared_data


def test_seed_customers_ids_written_as_floats_become_plain_codes(
    data: Path, limits: ParseLimits
) -> None:
    path = data / "seed_customers.csv"
    info = inspect_file(path, limits=limits)
    assert info.sha256 == SHA256["seed_customers.csv"]
    assert [(s.name, s.rows) for s in info.sheets] == [("seed_customers", 2000)]
    table = read_sheet(path, sheet=None, limits=limits)
    mapping = suggest_mapping(CUSTOMERS_DATASET, table.headers)
    assert mapping.fields == {"customer_id": "CustomerID", "country": "Country", "status": "Status"}
    report = validate(CUSTOMERS_DATASET, table, mapping, file_name=path.name)
    assert (report.total, report.valid, report.rejected, report.duplicates) == (2000, 2000, 0, 0)
    assert report.valid_rows["customer_id"].tolist()[:3] == ["1", "2", "3"]
    first = next(report.records())
    assert first["country"] == "Allemagne"
    assert first["attributes"]["Annual Income ($)"] == 15000
    assert report.extra_columns["Founded"] == "integer"


def test_wholesale_customers_get_row_number_ids_and_survive_cp1252_notes(
    data: Path, limits: ParseLimits
) -> None:
    path = data / "wholesale_customers.csv"
    table = read_sheet(path, sheet=None, limits=limits)
    assert table.encoding == "cp1252"
    assert table.headers == (
        "Channel", "Region", "Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen",
    )  # fmt: skip
    [problem] = table.problems
    assert problem.kind == "empty" and problem.columns == ("L",)
    mapping = suggest_mapping(CUSTOMERS_DATASET, table.headers)
    assert mapping.missing_required == ("customer_id",)
    mapping = make_mapping(CUSTOMERS_DATASET, table.headers, {"customer_id": ROW_NUMBER})
    report = validate(CUSTOMERS_DATASET, table, mapping, file_name=path.name)
    assert (report.total, report.valid, report.rejected, report.duplicates) == (440, 440, 0, 0)
    assert report.valid_rows["customer_id"].tolist()[:2] == ["2", "3"]
    assert report.valid_rows["attributes"][0]["Fresh"] == 12669


def test_scms_deliveries_reject_text_in_number_columns_cell_by_cell(
    data: Path, limits: ParseLimits
) -> None:
    path = data / "scms_delivery_history.csv"
    table = read_sheet(path, sheet=None, limits=limits)
    assert (table.encoding, table.delimiter, table.row_count) == ("utf-8-sig", ",", 10324)
    assert table.headers[0] == "ID"  # the BOM is not part of the first header
    mapping = suggest_mapping(DELIVERIES_DATASET, table.headers)
    assert mapping.fields["weight_kg"] == "Weight (Kilograms)"
    assert mapping.fields["delivery_date"] == "Delivered to Client Date"
    report = validate(DELIVERIES_DATASET, table, mapping, file_name=path.name)
    assert report.total == 10324
    assert report.total == report.valid + report.rejected + report.duplicates
    weights = report.issues[report.issues["column"] == "Weight (Kilograms)"]
    assert set(weights["reason"]) == {"text in a number column"}
    assert set(weights["letter"]) == {"AE"}
    assert "Weight Captured Separately" in set(weights["value"])
    assert weights["value"].str.startswith("See ASN-").any()
    assert report.rejected == len(weights) > 0
    row = weights.iloc[0]
    assert table.frame.loc[row["row"], "AE"] == row["value"]


def test_the_supply_chain_workbook_lists_seven_sheets_and_reads_the_orders(
    data: Path, limits: ParseLimits
) -> None:
    path = data / "supply_chain_logistics.xlsx"
    info = inspect_file(path, limits=limits)
    assert info.format == "xlsx"
    assert [(s.name, s.rows) for s in info.sheets] == [
        ("OrderList", 9215),
        ("FreightRates", 1540),
        ("WhCosts", 19),
        ("WhCapacities", 19),
        ("ProductsPerPlant", 2036),
        ("VmiCustomers", 14),
        ("PlantPorts", 22),
    ]
    orders = read_sheet(path, sheet="OrderList", limits=limits)
    assert (orders.sheet, orders.row_count) == ("OrderList", 9215)
    capacities = read_sheet(path, sheet="WhCapacities", limits=limits)
    assert capacities.headers == ("Plant ID", "Daily Capacity")  # trailing space folded
    mapping = suggest_mapping(DELIVERIES_DATASET, orders.headers)
    report = validate(DELIVERIES_DATASET, orders, mapping, file_name=path.name)
    assert (report.total, report.rejected) == (9215, 0)
    first = next(report.records())
    assert first["article"] == "1700106" and first["sheet"] == "OrderList" and first["row"] == 2
