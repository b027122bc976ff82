"""The two reports: what they select (including the case the old unparenthesised filter got
wrong), how they are laid out, and how runs are recorded, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, not_, select

from core import reports
from core.adapters import sql_schema as s
from core.adapters.sql_store import SqlStore
from core.bootstrap import build_services
from core.queries.periods import Period
from core.settings import load_settings
from tests import seeding

MAY = Period(dt.date(2024, 5, 1), dt.date(2024, 5, 31))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.servers)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pipeworks.db'}"
    else:
        with seeding.postgres_database(request.getfixturevalue("postgres_url")) as url:
            yield url


@pytest.fixture
def sql(database_url: str) -> Iterator[SqlStore]:
    store = SqlStore(database_url)
    yield store
    store.close()


def _movement(piece: str, **values: Any) -> dict[str, Any]:
    row = seeding.movement_rows(1, seed=hash(piece) % 1000)[0]
    row.update(
        piece=piece,
        no_ligne=1,
        article="C0500-10-5OB",
        designation_1="C/500/10/5/O/B",
        lot="A124050011",
        type_mouvement=seeding.DELIVERY,
        emplacement="EXP01",
        tiers="C0001",
        quantite=-3.0,
        date_creation=dt.date(2024, 5, 10),
        family="Conduit",
        dn=500,
    )
    row.update(values)
    return row


def _rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    sheets = {}
    for name in book.sheetnames:
        values = list(book[name].iter_rows(values_only=True))
        header = values[0] if values else ()
        sheets[name] = [dict(zip(header, row, strict=True)) for row in values[1:]]
    return sheets


def _pieces(path: Path) -> set[str]:
    return {r["Piece"] for rows in _rows(path).values() for r in rows}


def test_deliveries_report_leaves_out_raw_materials_with_explicit_parentheses(sql, tmp_path):
    movements = [
        _movement("KEEP"),
        _movement("KEEP-CASE", type_mouvement=" livraison CLIENT "),
        _movement("MP-ARTICLE", article="MP-RES-ORTHO", family="Matières premières"),
        _movement("MP-LOCATION", emplacement="MP01"),
        _movement("NOT-DELIVERY", type_mouvement=seeding.PRODUCTION, quantite=5.0),
        _movement("NO-LOCATION", emplacement=None),
        _movement("OUT-OF-PERIOD", date_creation=dt.date(2024, 6, 1)),
    ]
    seeding.write_rows(sql, movements=movements)
    run = reports.write_report(reports.DELIVERIES_BY_FAMILY, MAY, sql, tmp_path)
    assert _pieces(run.file) == {"KEEP", "KEEP-CASE", "NO-LOCATION"}
    assert run.rows == 3


def test_the_old_unparenthesised_filter_would_have_let_other_movements_in(sql):
    # `delivery AND article NOT LIKE 'MP%' OR location NOT LIKE 'MP%'` read as
    # `(delivery AND article) OR location`: a production entry in A01 slipped through.
    seeding.write_rows(
        sql,
        movements=[
            _movement("KEEP"),
            _movement("NOT-DELIVERY", type_mouvement=seeding.PRODUCTION, emplacement="A01"),
        ],
    )
    m = s.stock_movements.c
    old = (reports.is_customer_delivery() & not_(m.article.like("MP%"))) | not_(
        func.coalesce(m.emplacement, "").like("MP%")
    )
    with sql.begin() as conn:
        old_rows = set(conn.scalars(select(m.piece).where(old)))
        new_rows = {r.piece for r in conn.execute(reports.deliveries_statement(MAY))}
    assert old_rows == {"KEEP", "NOT-DELIVERY"}
    assert new_rows == {"KEEP"}


def test_deliveries_report_has_one_sheet_per_family_and_one_for_the_unclassified(sql, tmp_path):
    movements = [
        _movement("PIPE", family="Conduit"),
        _movement("ELBOW", family="Pièces spéciales", designation_1="Coude 30°/500/10/5/O"),
        _movement("KIT", family="Materiele", designation_1="Kit lubrifiant 1 kg"),
        _movement("ODD", family=None, designation_1="Something else"),
    ]
    seeding.write_rows(sql, movements=movements)
    run = reports.write_report(reports.DELIVERIES_BY_FAMILY, MAY, sql, tmp_path)
    sheets = _rows(run.file)
    assert list(sheets) == [*reports.DELIVERY_FAMILIES, reports.OTHER_SHEET]
    assert [r["Piece"] for r in sheets["Conduit"]] == ["PIPE"]
    assert [r["Piece"] for r in sheets["Pièces spéciales"]] == ["ELBOW"]
    assert [r["Piece"] for r in sheets["Matériel"]] == ["KIT"]
    assert [r["Piece"] for r in sheets[reports.OTHER_SHEET]] == ["ODD"]
    assert sheets["Joints"] == [] and sheets["Stoppeurs"] == []
    pipe = sheets["Conduit"][0]
    assert pipe["Quantite"] == -3 and pipe["DN (mm)"] == 500 and pipe["Tiers"] == "C0001"


def test_stock_status_lists_pipe_movements_other_than_deliveries_with_their_attributes(
    sql, tmp_path
):
    seeded = seeding.seed(sql, movements=400)
    spring = Period(dt.date(2024, 3, 1), dt.date(2024, 6, 30))
    run = reports.write_report(reports.STOCK_STATUS, spring, sql, tmp_path, chunk_size=4)
    (sheet,) = _rows(run.file).values()
    expected = [
        m
        for m in seeded.movements
        if m["family"] == "Conduit"
        and m["type_mouvement"] != seeding.DELIVERY
        and spring.start <= m["date_creation"] <= spring.end
    ]
    assert len(sheet) == run.rows == len(expected) > 5
    assert {(r["Piece"], r["No_ligne"]) for r in sheet} == {
        (m["piece"], m["no_ligne"]) for m in expected
    }
    assert all(r["Type_mouvement"] != seeding.DELIVERY for r in sheet)
    assert all(r["DN (mm)"] and r["PN (bar)"] and r["Resin"] for r in sheet)
    dates = [r["Date_creation"] for r in sheet]
    assert dates == sorted(dates)


def test_each_run_is_recorded_and_listed_newest_first(sql, tmp_path):
    seeding.write_rows(sql, movements=[_movement("KEEP")])
    first = reports.write_report(reports.STOCK_STATUS, MAY, sql, tmp_path)
    second = reports.write_report(reports.DELIVERIES_BY_FAMILY, MAY, sql, tmp_path)
    runs = reports.list_runs(sql)
    assert [r.id for r in runs] == [second.id, first.id]
    assert runs[0].file.is_file() and runs[0].file.parent == tmp_path.resolve()
    assert runs[0].rows == 1 and runs[0].period == MAY and runs[0].trigger == "manual"
    assert runs[0].created_at.tzinfo is not None
    assert [r.id for r in reports.list_runs(sql, report=reports.STOCK_STATUS)] == [first.id]
    assert not list(tmp_path.glob(".*.part"))


def test_an_unknown_report_writes_and_records_nothing(sql, tmp_path):
    out = tmp_path / "reports"
    with pytest.raises(ValueError):
        reports.write_report("sales", MAY, sql, out)
    with pytest.raises(ValueError):
        reports.write_report(reports.STOCK_STATUS, MAY, sql, out, trigger="cron")
    assert reports.list_runs(sql) == []
    assert not out.exists()


def test_the_daily_job_writes_both_reports_for_the_month_to_date_once(database_url, tmp_path):
    env = {"PIPEWORKS_DATA_DIR": str(tmp_path / "data"), "PIPEWORKS_DATABASE_URL": database_url}
    services = build_services(load_settings(env, secrets_file=None))
    try:
        seeding.write_rows(
            services.sql, movements=[_movement("KEEP", date_creation=dt.date(2024, 5, 2))]
        )
        runs = reports.daily_reports(services, today=dt.date(2024, 5, 3))
        assert sorted(r.report for r in runs) == sorted(reports.REPORTS)
        assert {r.period for r in runs} == {Period(dt.date(2024, 5, 1), dt.date(2024, 5, 2))}
        assert {r.trigger for r in runs} == {"daily"}
        assert all(r.file.parent == services.settings.reports_dir.resolve() for r in runs)
        assert reports.daily_reports(services, today=dt.date(2024, 5, 3)) == []
        assert len(reports.daily_reports(services, today=dt.date(2024, 5, 4))) == 2
    finally:
        services.close()
