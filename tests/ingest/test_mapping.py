"""Mapping source headers to dataset fields, layout signatures and saved mappings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from core.domain.schemas import (
    CUSTOMERS_DATASET,
    DELIVERIES_DATASET,
    ERP_COLUMN_LABELS,
    STOCK_MOVEMENTS_DATASET,
)
from core.ingest.limits import ParseLimits
from core.ingest.mapping import (
    ROW_NUMBER,
    apply_saved_mapping,
    layout_signature,
    make_mapping,
    suggest_mapping,
)
from core.ingest.reader import read_sheet
from core.ingest.validate import validate


def erp_workbook(path: Path) -> Path:
    """A 58-column ERP export (labels as the ERP writes them), one title row above them."""
    workbook = xlsxwriter.Workbook(path, {"strings_to_numbers": False})
    sheet = workbook.add_worksheet("Mouvements")
    dates = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write(0, 0, "Mouvements par date")
    for c, label in enumerate(ERP_COLUMN_LABELS):
        sheet.write_string(2, c, label)
    values = {
        "Article": "0001234",
        "Quantite": -12.5,
        "Type_mouvement": "Livraison client",
        "Piece": "BL24000001",
        "No_ligne": 1000,
        "Lot": "M12401506",
        "Date_creation": dt.datetime(2024, 1, 31),
        "Heure": "08:00:29",
    }
    for r in (3, 4):
        for c, label in enumerate(ERP_COLUMN_LABELS):
            value = values.get(label)
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, dates)
            elif value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


def test_the_58_erp_columns_map_one_to_one_onto_stock_movements(
    tmp_path: Path, limits: ParseLimits
) -> None:
    table = read_sheet(erp_workbook(tmp_path / "erp.xlsx"), sheet=None, limits=limits)
    mapping = suggest_mapping(STOCK_MOVEMENTS_DATASET, table.headers)
    assert len(mapping.fields) == 58
    assert mapping.fields["designation_1"] == "Designation_1"
    assert mapping.fields["date_creation"] == "Date_creation"
    assert mapping.complete and mapping.unexpected == ()
    report = validate(STOCK_MOVEMENTS_DATASET, table, mapping, file_name="erp.xlsx")
    assert (report.total, report.valid, report.rejected, report.duplicates) == (2, 1, 0, 1)
    row = next(report.records())
    assert row["article"] == "0001234" and row["quantite"] == -12.5 and row["no_ligne"] == 1000
    assert row["date_creation"] == dt.date(2024, 1, 31) and row["heure"] == "08:00:29"
    assert (row["sheet"], row["row"]) == ("Mouvements", 5)


def test_headers_match_whatever_their_case_accents_spacing_or_language() -> None:
    headers = ["  ARTICLE ", "Quantité", "Type de mouvement", "Numéro pièce", "Ligne", "Date"]
    mapping = suggest_mapping(STOCK_MOVEMENTS_DATASET, headers)
    assert mapping.fields == {
        "article": "  ARTICLE ",
        "quantite": "Quantité",
        "type_mouvement": "Type de mouvement",
        "piece": "Numéro pièce",
        "no_ligne": "Ligne",
        "date_creation": "Date",
    }
    assert mapping.missing_required == ()


def test_a_field_name_wins_over_another_fields_alias() -> None:
    # "customer" is an alias of customer_id, but "Customer ID" names it better.
    mapping = suggest_mapping(CUSTOMERS_DATASET, ["Customer", "Customer ID", "Nom"])
    assert mapping.fields["customer_id"] == "Customer ID"
    assert mapping.fields["name"] == "Nom"
    assert mapping.unexpected == ("Customer",)


def test_missing_required_fields_and_unexpected_columns_are_listed() -> None:
    mapping = suggest_mapping(DELIVERIES_DATASET, ["Delivery note", "Colour"])
    assert mapping.missing_required == ("delivery_date",)
    assert mapping.unexpected == ("Colour",)
    assert not mapping.complete


def test_the_layout_signature_ignores_cosmetics_but_not_order_or_names() -> None:
    signature = layout_signature(["Article", "Quantité"])
    assert signature == layout_signature([" article", "QUANTITE"])
    assert signature != layout_signature(["Quantité", "Article"])
    assert signature != layout_signature(["Article", "Quantité", "Lot"])
    assert len(signature) == 16 and signature == layout_signature(("Article", "Quantité"))


def test_a_saved_mapping_is_applied_to_the_next_file_of_the_same_layout() -> None:
    first = ["Code", "Qte", "Mvt", "Doc", "Ln", "Jour"]
    chosen = make_mapping(
        STOCK_MOVEMENTS_DATASET,
        first,
        {
            "article": "Code",
            "quantite": "Qte",
            "type_mouvement": "Mvt",
            "piece": "Doc",
            "no_ligne": "Ln",
            "date_creation": "Jour",
        },
    )
    saved = dict(chosen.fields)  # what the caller stores under chosen.signature
    again = apply_saved_mapping(STOCK_MOVEMENTS_DATASET, ["code", "QTE", *first[2:]], saved)
    assert again.signature == chosen.signature
    assert again.complete and again.fields["article"] == "code"


def test_customers_without_an_id_column_can_number_their_rows(
    tmp_path: Path, limits: ParseLimits
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("Channel,Region\n2,3\n1,3\n", encoding="utf-8")
    table = read_sheet(path, sheet=None, limits=limits)
    suggested = suggest_mapping(CUSTOMERS_DATASET, table.headers)
    assert suggested.missing_required == ("customer_id",)
    mapping = make_mapping(CUSTOMERS_DATASET, table.headers, {"customer_id": ROW_NUMBER})
    report = validate(CUSTOMERS_DATASET, table, mapping, file_name="clients.csv")
    assert report.valid_rows["customer_id"].tolist() == ["2", "3"]
    assert report.valid_rows["attributes"].tolist() == [
        {"Channel": 2, "Region": 3},
        {"Channel": 1, "Region": 3},
    ]


def test_mappings_refuse_unknown_headers_double_use_and_misplaced_row_numbers() -> None:
    headers = ["A", "B"]
    with pytest.raises(ValueError, match="no column named 'C'"):
        make_mapping(DELIVERIES_DATASET, headers, {"delivery_no": "C"})
    with pytest.raises(ValueError, match="mapped to both"):
        make_mapping(DELIVERIES_DATASET, headers, {"delivery_no": "A", "customer": "A"})
    with pytest.raises(ValueError, match="row number"):
        make_mapping(DELIVERIES_DATASET, headers, {"delivery_no": ROW_NUMBER})
    with pytest.raises(KeyError):
        make_mapping(DELIVERIES_DATASET, headers, {"colour": "A"})
