"""Browse and dashboard queries on PostgreSQL (stock movements) and on the delivery
projection in PostgreSQL and embedded SQLite.

Stock movements, for each --sizes: a dedicated database is filled directly on the server
(generate_series, with realistic shares of movement types, families, dates and customers),
then VACUUM ANALYZE. Deliveries, for each --notes: delivery documents (1-5 lines each, skewed
customers) are projected into `delivery_notes`/`delivery_lines` through the worker's own code
(`core.consume.project` and `SqlStore.write_batch`), into a PostgreSQL database and a SQLite
file. Each query then runs through the app's own functions; the table reports

    app ms     median wall time of the call in this process (driver and DataFrame included)
    server ms  median PostgreSQL execution time of the call's statements (EXPLAIN ANALYZE)
    rss MB     this process's resident memory after the call, and its growth during the call

Goal: every browse and dashboard call under 1 s, and memory flat. `BEFORE` holds the figures
the deliveries screens had when they read the document store (same 2-core machine), and the
results give the ratio to them.

    python benchmarks/browse.py [--sizes 100000 1000000] [--notes 100000 300000] [--url URL]

The URL defaults to PIPEWORKS_DATABASE_URL; databases named pipeworks_bench_<size> and
pipeworks_bench_notes_<notes> are created, and dropped at the end unless --keep.
Results: benchmarks/results/browse.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import exports
from core.adapters.sql_store import SqlStore, StoreBatch
from core.consume import project
from core.queries import dashboards, deliveries, tables
from core.queries.filters import Between, OneOf
from core.queries.periods import Period

DEFAULT_SIZES = (100_000, 1_000_000)
DEFAULT_NOTES = (100_000, 300_000)
REPEATS = 5
GOAL_MS = 1_000
RESULTS = Path(__file__).resolve().parent / "results" / "browse.json"
START = dt.date(2023, 1, 1)
DAYS = 730
CUSTOMERS = 2_000
DOCUMENT_BATCH = 5_000
# The deliveries screens on the document store, 100,213 delivery documents (1M-movement run
# of commit fd6dcb5, embedded store; FerretDB 1.24 with 517 documents): app ms.
BEFORE = {
    "deliveries_first_page": {"embedded": 1017.4, "ferretdb_517_documents": 822.0},
    "dash_deliveries_by_customer_month": {"embedded": 1363.7, "ferretdb_517_documents": 1155.8},
    "dash_deliveries_by_customer_month_family": {
        "embedded": 3946.4,
        "ferretdb_517_documents": 190298.4,
    },
    "dash_top_products": {"embedded": 3353.4, "ferretdb_517_documents": 965.3},
}

# Movement types with their shares (percent) and whether they concern raw materials.
_TYPES = (
    ("Livraison client", 30, False),
    ("Entrée production", 30, False),
    ("Consommation production", 15, True),
    ("Réception fournisseur", 10, True),
    ("Transfert", 10, False),
    ("Ajustement inventaire", 5, False),
)
# Finished products: (article, designation, family, product type, dn, pn, unit price)
_PRODUCTS = (
    ("C0500-10-5OB", "C/500/10/5/O/B", "Conduit", "Pipe", 500, 10, 95),
    ("C0600-10-5IB", "C/600/10/5/I/B", "Conduit", "Pipe", 600, 10, 120),
    ("C0800-16-10VU", "C/800/16/10/V/U", "Conduit", "Pipe", 800, 16, 210),
    ("C1000-6-5OB", "C/1000/6/5/O/B", "Conduit", "Pipe", 1000, 6, 260),
    ("C1200-10-5OB", "C/1200/10/5/O/B", "Conduit", "Pipe", 1200, 10, 330),
    ("CD30-0500", "Coude 30°/500/10/5/O", "Pièces spéciales", "Elbow", 500, 10, 340),
    ("CD90-0600", "Coude 90°/600/10/5/I", "Pièces spéciales", "Elbow", 600, 10, 520),
    ("TC0600-200", "Té Concentrique/600/200/10/5", "Pièces spéciales", "Tee", 600, 10, 610),
    ("CR0800-600", "Cone Réduction/800/600/6/5", "Pièces spéciales", "Reducer", 800, 6, 450),
    ("RA0500-10", "Raccord/500/10", "Raccords", "Coupling", 500, 10, 75),
    ("RA0800-16", "Raccord/800/16", "Raccords", "Coupling", 800, 16, 130),
    ("KIT-LUB-1", "Kit lubrifiant 1 kg", "Matériel", "Kit", None, None, 12),
    ("JT-REKA-500", "Joint REKA EPDM DN500", "Joints", "Gasket", 500, None, 22),
    ("ST-0500", "Stoppeur DN500", "Stoppeurs", "Stopper", 500, None, 40),
)
_RAW = (
    ("MP-RES-ORTHO", "Résine orthophtalique", 2.1),
    ("MP-FV-2400", "Fibre de verre roving 2400 tex", 1.4),
    ("MP-SABLE", "Sable silice", 0.1),
)


# ------------------------------------------------------------------------- generation
def _array(values: list[Any]) -> str:
    def literal(v: Any) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        return str(v)

    return "ARRAY[" + ", ".join(literal(v) for v in values) + "]"


def _fill_sql(size: int) -> str:
    """One INSERT ... SELECT over generate_series: each row draws a type, a product, a day and
    a customer; raw-material types draw from the raw materials instead."""
    thresholds, total = [], 0
    for name, share, _ in _TYPES:
        total += share
        thresholds.append((total / 100, name))
    type_case = " ".join(f"WHEN r_type < {t} THEN '{n}'" for t, n in thresholds[:-1])
    type_case = f"CASE {type_case} ELSE '{thresholds[-1][1]}' END"
    raw_types = ", ".join(f"'{n}'" for n, _, raw in _TYPES if raw)
    p = {k: _array([row[i] for row in _PRODUCTS]) for i, k in enumerate(
        ("article", "designation", "family", "type", "dn", "pn", "price"))}  # fmt: skip
    r = {
        k: _array([row[i] for row in _RAW])
        for i, k in enumerate(("article", "designation", "price"))
    }
    return f"""
    INSERT INTO stock_movements (
        site, depot, article, designation_1, lot, quantite, uc, statut, emplacement,
        type_mouvement, tiers, type_piece, piece, no_ligne, devise, montant_mouvement,
        operateur_creation, date_creation, heure, family, product_type, dn, pn,
        lot_machine, lot_year, lot_month, upload_id, stored_at)
    SELECT
        CASE WHEN g % 3 = 0 THEN 'S02' ELSE 'S01' END, 'D1',
        CASE WHEN raw THEN ({r["article"]})[rm] ELSE ({p["article"]})[pi] END,
        CASE WHEN raw THEN ({r["designation"]})[rm] ELSE ({p["designation"]})[pi] END,
        CASE WHEN raw THEN ''
             ELSE machine || to_char(day, 'YYMM') || lpad((g % 100000)::text, 5, '0') END,
        sign * qty,
        CASE WHEN raw THEN 'KG' WHEN ({p["family"]})[pi] = 'Conduit' THEN 'ML' ELSE 'PC' END,
        'A',
        CASE WHEN raw THEN 'MP0' || rm WHEN kind = 'Livraison client' THEN 'EXP01'
             ELSE 'A0' || (g % 4) END,
        kind,
        CASE WHEN kind = 'Livraison client' THEN 'C' || lpad(customer::text, 4, '0') END,
        'MV', 'MV' || g, 1, 'EUR',
        round((sign * qty
               * CASE WHEN raw THEN ({r["price"]})[rm] ELSE ({p["price"]})[pi] END)::numeric, 2),
        'BENCH', day,
        lpad((6 + g % 14)::text, 2, '0') || ':' || lpad((g % 60)::text, 2, '0') || ':00',
        CASE WHEN raw THEN 'Matières premières' ELSE ({p["family"]})[pi] END,
        CASE WHEN raw THEN NULL ELSE ({p["type"]})[pi] END,
        CASE WHEN raw THEN NULL ELSE ({p["dn"]})[pi] END,
        CASE WHEN raw THEN NULL ELSE ({p["pn"]})[pi] END,
        CASE WHEN raw THEN NULL ELSE machine END,
        CASE WHEN raw THEN NULL ELSE extract(year FROM day)::int END,
        CASE WHEN raw THEN NULL ELSE extract(month FROM day)::int END,
        'bench', now()
    FROM (
        SELECT g, kind, kind IN ({raw_types}) AS raw, pi, rm, day, qty, customer, machine,
               CASE WHEN kind IN ('Livraison client', 'Consommation production') THEN -1
                    WHEN kind = 'Entrée production' THEN 1
                    WHEN r_sign < 0.4 THEN -1 ELSE 1 END AS sign
        FROM (
            SELECT g, {type_case} AS kind,
                   1 + floor(random() * {len(_PRODUCTS)})::int AS pi,
                   1 + floor(random() * {len(_RAW)})::int AS rm,
                   DATE '{START}' + floor(random() * {DAYS})::int AS day,
                   (1 + floor(random() * 40))::float AS qty,
                   1 + floor(random() * random() * {CUSTOMERS})::int AS customer,
                   (ARRAY['A1', 'B2', 'C3'])[1 + floor(random() * 3)::int] AS machine,
                   random() AS r_sign
            FROM (SELECT g, random() AS r_type FROM generate_series(1, {size}) AS g) AS t
        ) AS drawn
    ) AS movement
    """


def fill_postgres(url: str, size: int) -> SqlStore:
    sql = SqlStore(url)
    sql.ensure_schema()
    with sql.engine.begin() as conn:
        conn.execute(text("TRUNCATE stock_movements, customers"))
        with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(_fill_sql(size))  # no parameters: the SQL is taken as written
        conn.execute(
            text(
                "INSERT INTO customers (customer_id, name, country, country_name, status,"
                " attributes, upload_id, stored_at)"
                " SELECT 'C' || lpad(g::text, 4, '0'), 'Client ' || g,"
                " (ARRAY['Allemagne','Germany','France','Maroc','Morocco','USA'])[1 + g % 6],"
                " (ARRAY['Germany','Germany','France','Morocco','Morocco','United States'])"
                "[1 + g % 6], CASE WHEN g % 2 = 0 THEN 'Public' ELSE 'Private' END,"
                " json_build_object('Annual Income ($)', 15000 + g * 7), 'bench', now()"
                f" FROM generate_series(1, {CUSTOMERS}) AS g"
            )
        )
    with sql.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE stock_movements"))
        conn.execute(text("VACUUM ANALYZE customers"))
    return sql


def delivery_documents(notes: int, *, seed: int = 11) -> Iterator[list[dict[str, Any]]]:
    """`notes` delivery documents as the worker stores them, in batches."""
    rng = random.Random(seed)
    batch: list[dict[str, Any]] = []
    for number in range(1, notes + 1):
        day = START + dt.timedelta(days=rng.randrange(DAYS))
        lines = []
        for line_no in range(1, rng.randint(1, 5) + 1):
            article, designation, family, kind, dn, pn, price = rng.choice(_PRODUCTS)
            quantity = float(rng.randint(1, 40))
            lines.append({
                "line_key": f"{line_no}|{article}|", "line_no": line_no, "article": article,
                "designation": designation, "lot": None, "quantity": quantity, "unit": "PC",
                "amount": quantity * price, "family": family, "product_type": kind, "dn": dn,
                "pn": pn, "source": "stock_movements",
            })  # fmt: skip
        batch.append({
            "_id": f"BL{number:08d}", "delivery_no": f"BL{number:08d}",
            "customer": f"C{1 + int(rng.random() * rng.random() * CUSTOMERS):04d}",
            "delivery_date": day.isoformat(), "month": day.isoformat()[:7], "site": "S01",
            "currency": "EUR", "country": None, "carrier": None, "lines": lines,
            "line_count": len(lines), "total_quantity": sum(x["quantity"] for x in lines),
            "total_amount": sum(x["amount"] for x in lines),
        })  # fmt: skip
        if len(batch) == DOCUMENT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fill_projection(sql: SqlStore, notes: int) -> tuple[int, int]:
    """The projection of `notes` delivery documents, written as the worker writes it;
    (notes, lines) written."""
    sql.ensure_schema()
    written = [0, 0]
    for docs in delivery_documents(notes):
        batch = StoreBatch()
        project(docs, batch)
        sql.write_batch("bench", batch)
        written[0] += len(batch.rows["delivery_notes"])
        written[1] += len(batch.rows["delivery_lines"])
    with sql.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("delivery_notes", "delivery_lines"):
            conn.execute(text(f"{'VACUUM ' if sql.is_postgres else ''}ANALYZE {table}"))
    return written[0], written[1]


# ------------------------------------------------------------------------ measurement
def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def captured(sql: SqlStore) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(sql.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(sql.engine, "before_cursor_execute", record)


def server_ms(sql: SqlStore, statements: list[tuple[str, Any]]) -> float:
    total = 0.0
    raw = sql.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            total += cursor.fetchone()[0][0]["Execution Time"]
        raw.rollback()
    finally:
        raw.close()
    return total


def measure(
    name: str,
    call: Callable[[], Any],
    *,
    sql: SqlStore | None,
    repeats: int = REPEATS,
    warm: bool = True,
) -> dict[str, Any]:
    gc.collect()
    if warm:
        call()  # warm the caches (as a user's second look would)
    walls, servers = [], []
    before = rss_mb()
    for _ in range(repeats):
        if sql is not None:
            with captured(sql) as statements:
                started = time.perf_counter()
                result = call()
                walls.append((time.perf_counter() - started) * 1000)
            servers.append(server_ms(sql, statements))
        else:
            started = time.perf_counter()
            result = call()
            walls.append((time.perf_counter() - started) * 1000)
    after = rss_mb()
    rows = len(result) if hasattr(result, "__len__") else None
    if isinstance(result, tables.Page):
        rows = len(result.rows)
    elif isinstance(result, deliveries.DeliveryPage):
        rows = len(result.headers.rows)
    return {
        "query": name,
        "app_ms": round(statistics.median(walls), 1),
        "server_ms": round(statistics.median(servers), 1) if servers else None,
        "rows": rows,
        "rss_mb": round(after, 1),
        "rss_growth_mb": round(after - before, 1),
    }


def measure_export(sql: SqlStore, name: str, frames: Callable[[], Iterator[Any]]) -> dict:
    """Stream an export to CSV: memory must not grow with the result."""
    gc.collect()
    before, peak_before = rss_mb(), peak_mb()
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile(suffix=".csv") as target:
        rows = exports.write_csv(frames(), target.name)
        size_mb = Path(target.name).stat().st_size / 2**20
    return {
        "query": f"export_csv_streamed[{name}, {sql.service}]",
        "app_ms": round((time.perf_counter() - started) * 1000, 1),
        "server_ms": None,
        "rows": rows,
        "rss_mb": round(rss_mb(), 1),
        "rss_growth_mb": round(rss_mb() - before, 1),
        "peak_growth_mb": round(max(0.0, peak_mb() - peak_before), 1),
        "file_mb": round(size_mb, 1),
    }


YEAR = Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def delivery_queries(sql: SqlStore) -> dict[str, Callable[[], Any]]:
    year = YEAR
    customer = (OneOf("customer", ("C0042",)),)
    return {
        "deliveries_first_page_year": lambda: deliveries.fetch_deliveries(
            sql, filters=(Between("delivery_date", year.start, year.end),), page_size=20
        ),
        "deliveries_first_page_customer": lambda: deliveries.fetch_deliveries(
            sql, filters=customer, page_size=20
        ),
        "deliveries_first_page_unfiltered": lambda: deliveries.fetch_deliveries(sql, page_size=20),
        "deliveries_page_50_by_amount": lambda: deliveries.fetch_deliveries(
            sql, sort=[("total_amount", -1)], page=50, page_size=20
        ),
        "deliveries_pick_list_customers": lambda: deliveries.distinct_values(sql, "customer"),
        "dash_deliveries_by_customer_month": lambda: dashboards.deliveries_by_customer_month(
            sql, period=year
        ),
        "dash_deliveries_by_customer_month_family": lambda: dashboards.deliveries_by_customer_month(
            sql, period=year, families=["Conduit"]
        ),
        "dash_top_products": lambda: dashboards.top_products(sql, period=year),
        "dash_top_products_family_amount": lambda: dashboards.top_products(
            sql, period=year, families=["Raccords", "Joints"], measure="amount"
        ),
        "dash_top_products_customers": lambda: dashboards.top_products(
            sql, period=year, customers=["C0001", "C0042", "C0300"]
        ),
    }


def run_deliveries(url: str, notes: int, *, keep: bool) -> dict[str, Any]:
    """The deliveries screens and dashboards on the projection of `notes` delivery notes,
    in PostgreSQL and in embedded SQLite."""
    name = f"pipeworks_bench_notes_{notes}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    workdir = Path(tempfile.mkdtemp(prefix="pipeworks-bench-"))
    stores = {
        "postgres": SqlStore(make_url(url).set(database=name).render_as_string(False)),
        "sqlite": SqlStore(f"sqlite:///{workdir / 'pipeworks.db'}"),
    }
    fill_s: dict[str, float] = {}
    written: dict[str, tuple[int, int]] = {}
    results = []
    for label, sql in stores.items():
        started = time.perf_counter()
        written[label] = fill_projection(sql, notes)
        fill_s[label] = round(time.perf_counter() - started, 1)
        for query, call in delivery_queries(sql).items():
            result = measure(f"{query}[{label}]", call, sql=sql if sql.is_postgres else None)
            before = BEFORE.get(query.removesuffix("_year"), {}).get("embedded")
            if before:
                result["before_embedded_documents_ms"] = before
                result["speedup"] = round(before / max(result["app_ms"], 0.1), 1)
            results.append(result)
        results.append(measure_export(sql, "delivery_lines", year_export(sql)))
        sql.close()
    if not keep:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    return {
        "notes": notes,
        "fill_s": fill_s,
        "rows": {k: {"notes": v[0], "lines": v[1]} for k, v in written.items()},
        "queries": results,
    }


def year_export(sql: SqlStore) -> Callable[[], Iterator[Any]]:
    year = (Between("delivery_date", YEAR.start, YEAR.end),)
    return lambda: deliveries.iter_line_frames(sql, filters=year)


def run_size(url: str, size: int, *, keep: bool) -> dict[str, Any]:
    name = f"pipeworks_bench_{size}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    bench_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    started = time.perf_counter()
    sql = fill_postgres(bench_url, size)
    fill_s = time.perf_counter() - started
    year = YEAR
    quarter = (
        OneOf("type_mouvement", ("Livraison client",)),
        Between("date_creation", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
    )
    sql_queries: dict[str, Callable[[], Any]] = {
        "browse_first_page_type_and_dates": lambda: tables.fetch_page(
            sql, "stock_movements", filters=quarter, sort=[("date_creation", -1)], page_size=50
        ),
        "browse_first_page_unfiltered": lambda: tables.fetch_page(
            sql, "stock_movements", sort=[("date_creation", -1)], page_size=50
        ),
        "browse_page_20_family": lambda: tables.fetch_page(
            sql,
            "stock_movements",
            filters=(OneOf("family", ("Raccords",)),),
            sort=[("date_creation", -1)],
            page=20,
            page_size=50,
        ),
        "pick_list_movement_types": lambda: tables.distinct_values(
            sql, "stock_movements", "type_mouvement"
        ),
        "pick_list_families": lambda: tables.distinct_values(sql, "stock_movements", "family"),
        "date_bounds": lambda: tables.value_range(sql, "stock_movements", "date_creation"),
        "dash_movements_over_time_12m": lambda: dashboards.movements_over_time(sql, period=year),
        "dash_movements_over_time_family": lambda: dashboards.movements_over_time(
            sql, period=year, families=["Conduit"]
        ),
        "dash_stock_on_hand": lambda: dashboards.stock_on_hand(sql, as_of=year.end),
        "dash_customers_by_country": lambda: dashboards.customers_by_country(sql),
    }
    results = [measure(n, q, sql=sql) for n, q in sql_queries.items()]
    results.append(
        measure_export(
            sql,
            "stock_movements",
            lambda: tables.iter_frames(
                sql, "stock_movements", filters=quarter, sort=[("date_creation", 1)]
            ),
        )
    )
    sql.close()
    if not keep:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    return {"size": size, "fill_s": round(fill_s, 1), "queries": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DEFAULT_SIZES))
    parser.add_argument("--url", default=os.environ.get("PIPEWORKS_DATABASE_URL"))
    parser.add_argument("--notes", type=int, nargs="*", default=list(DEFAULT_NOTES))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("a PostgreSQL URL is needed (--url or PIPEWORKS_DATABASE_URL)")
    load_at_start = list(os.getloadavg())
    runs = []
    plans: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (f"{size:,} stock movements", lambda size=size: run_size(args.url, size, keep=args.keep))
        for size in args.sizes
    ]
    plans += [
        (
            f"{notes:,} delivery notes (projection)",
            lambda notes=notes: run_deliveries(args.url, notes, keep=args.keep),
        )
        for notes in args.notes
    ]
    for title, plan in plans:
        print(f"== {title}", flush=True)
        run = plan()
        runs.append(run)
        print(f"filled in {run['fill_s']} s; rows {run.get('rows', run.get('size'))}")
        print(f"{'query':58} {'app ms':>9} {'server ms':>10} {'rows':>8} {'rss MB':>8} {'+MB':>6}")
        for q in run["queries"]:
            server = "" if q["server_ms"] is None else f"{q['server_ms']:.1f}"
            flag = "" if q["app_ms"] < GOAL_MS or q["query"].startswith("export") else "  > 1 s"
            print(
                f"{q['query']:58} {q['app_ms']:9.1f} {server:>10} {q['rows'] or 0:8,} "
                f"{q['rss_mb']:8.1f} {q['rss_growth_mb']:6.1f}{flag}"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "load_average_at_start": load_at_start,
                "load_average_at_end": list(os.getloadavg()),
                "goal_ms": GOAL_MS,
                "before_document_store_ms": BEFORE,
                "runs": runs,
            },
            indent=2,
        )
    )
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
