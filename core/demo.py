"""Demo workbooks of any size: ERP stock movements, delivery lists and customer master data.

Everything is drawn from `random.Random(seed)`, so a seed gives the same bytes every time.
Rows are generated one at a time and their sheet XML is streamed into the archive, so memory
stays flat whatever the size. Customer codes are `CL00001`, `CL00002`, ... in every
file: the `Tiers` of movements and the `Customer` of delivery lists are drawn from the first
`customers` of them, and a customer's country (hence currency) depends only on the seed and
its number, so a customer file of the same seed with at least that many rows matches.

    python -m core.demo stock_movements OUT.xlsx --rows 100000 [--seed 0] [--title-rows 2]
    python -m core.demo deliveries OUT.xlsx --rows 5000
    python -m core.demo customers OUT.csv --rows 500
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from core.domain.schemas import ERP_COLUMN_LABELS

DEFAULT_START = date(2024, 1, 1)
DEFAULT_DAYS = 90
DEFAULT_SHEET = "Mouvements"
DEFAULT_CUSTOMERS = 500
CUSTOMER_PREFIX = "CL"
DATASETS = ("stock_movements", "deliveries", "customers")

DELIVERY_COLUMNS = (
    "Delivery note", "Line", "Customer", "Date", "Item", "Description", "Lot", "Quantity",
    "Unit", "Amount", "Currency", "Weight (kg)", "Country", "Carrier", "Site",
)  # fmt: skip
CUSTOMER_COLUMNS = (
    "CustomerID", "Name", "Country", "City", "Status", "Annual Income ($)",
    "Spending Score (1-100)", "Work Experience", "Customer size", "Founded",
    "Number of employees",
)  # fmt: skip

_EXCEL_EPOCH = date(1899, 12, 30)
_FIXED_CREATED = datetime(2024, 1, 1)  # workbook metadata, so equal seeds give equal bytes
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ROWS_PER_WRITE = 1_000  # rows of sheet XML joined before each write to the archive
_STRING_CACHE = 50_000  # escaped texts kept for reuse: repeated codes are escaped once
_BOLD = ' s="1"'  # cell formats of _STYLES: 1 bold (titles, header), 2 date
_DATE = "2"
_SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_")
_ESCAPE_LITERAL = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # text that reads like an escape
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_MAD_TO_EUR = 0.092
_SALES_MARGIN = 1.35
_DN_STEPS = (
    100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1400,
    1600, 1800, 2000, 2200, 2400, 2600, 2800, 3000,
)  # fmt: skip
_PN = (1, 6, 10, 16, 25, 32)
_SN = ("2.5", "5", "10")
_RESINS = ("O", "O", "O", "I", "OI", "V", "VI")
_ANGLES = (11, 22, 30, 45, 90)
_BRANCHES = (("Té Concentrique", "TC"), ("Té Tangentiel", "TT"), ("Cone Réduction", "CR"),
             ("Reduction", "RD"))  # fmt: skip
_KITS = ("Kit de raccordement DN{dn}", "Kit de réparation DN{dn}", "Kit lubrifiant 1 kg",
         "Kit de montage joints DN{dn}", "Kit stratification")  # fmt: skip
_RAW_MATERIALS = (
    ("MP0001", "Résine polyester orthophtalique", "KG", 19.5),
    ("MP0002", "Résine polyester isophtalique", "KG", 24.0),
    ("MP0003", "Résine vinylester", "KG", 38.0),
    ("MP0010", "Fibre de verre roving 2400 tex", "KG", 14.2),
    ("MP0011", "Mat de verre 450 g/m²", "KG", 16.8),
    ("MP0012", "Voile de surface C 30 g/m²", "M2", 3.1),
    ("MP0020", "Sable de silice 0,1-0,6 mm", "KG", 0.45),
    ("MP0030", "Catalyseur MEKP", "KG", 42.0),
    ("MP0031", "Accélérateur cobalt 1%", "KG", 55.0),
    ("MP0040", "Styrène monomère", "KG", 17.0),
)
_PERISHABLE = ("Résine", "Catalyseur", "Accélérateur", "Styrène")
_MACHINES = {"pipe": ("CW", "FW", "F2"), "fitting": ("HL", "M1", "M2")}
_PRODUCT_LINES = {"pipe": "CON", "fitting": "PSP", "coupling": "RAC", "gasket": "JNT",
                  "stopper": "STP", "kit": "MAT", "raw": "MP"}  # fmt: skip
_FINISHED = ("pipe", "fitting", "coupling", "gasket", "stopper", "kit")
_SITES = {"001": ("010", "011"), "002": ("020",)}
_OPERATORS = ("ADMIN", "MBENNANI", "SALAOUI", "KIDRISSI", "YELAMRANI", "NCHRAIBI", "BATCH")
_CARRIERS = ("CTM Messagerie", "SDTM", "Transport interne", "Maersk", "CMA CGM", "Enlèvement")
# French name, English name, cities, legal form, share of customers
_COUNTRIES = (
    ("Maroc", "Morocco", ("Casablanca", "Rabat", "Tanger", "Agadir", "Fès"), "SARL", 40),
    ("France", "France", ("Paris", "Lyon", "Marseille", "Toulouse"), "SAS", 8),
    ("Espagne", "Spain", ("Madrid", "Séville", "Valence"), "SL", 6),
    ("Allemagne", "Germany", ("Hambourg", "Munich", "Cologne"), "GmbH", 5),
    ("Sénégal", "Senegal", ("Dakar", "Thiès"), "SA", 6),
    ("Côte d'Ivoire", "Ivory Coast", ("Abidjan", "Bouaké"), "SA", 5),
    ("Mauritanie", "Mauritania", ("Nouakchott", "Nouadhibou"), "SA", 4),
    ("Algérie", "Algeria", ("Alger", "Oran"), "SPA", 4),
    ("Tunisie", "Tunisia", ("Tunis", "Sfax"), "SA", 4),
    ("Égypte", "Egypt", ("Le Caire", "Alexandrie"), "SAE", 3),
    ("Arabie saoudite", "Saudi Arabia", ("Riyad", "Djeddah"), "LLC", 4),
    ("États-Unis", "USA", ("Houston", "Chicago"), "Inc.", 3),
    ("Royaume-Uni", "United Kingdom", ("Londres", "Manchester"), "Ltd", 3),
    ("Pays-Bas", "Netherlands", ("Rotterdam", "Amsterdam"), "BV", 3),
    ("Suède", "Sweden", ("Stockholm", "Göteborg"), "AB", 2),
)
_NAME_STEMS = ("Atlas", "Sahara", "Oasis", "Rif", "Souss", "Tensift", "Sebou", "Moulouya",
               "Draa", "Nordic", "Iberia", "Rhin", "Delta", "Horizon", "Medjerda")  # fmt: skip
_NAME_TRADES = ("Hydraulique", "Irrigation", "Travaux", "Water", "Pipelines", "Énergie",
                "Assainissement", "Aménagement", "Construction", "Infrastructures")  # fmt: skip


@dataclass(frozen=True, slots=True)
class _MovementType:
    prefix: str  # document type and number prefix
    share: int  # relative frequency of documents
    family: str  # Famille_mouvement_stock
    wording: str  # Designation_mvt
    sign: int  # sign of quantities; 0 for inventory adjustments (either)
    pool: str  # which articles move
    imputation: str
    max_lines: int = 4


_MOVEMENTS = {
    "Livraison client": _MovementType("BL", 30, "LIV", "Expédition client", -1, "finished",
                                      "0700", max_lines=8),
    "Production": _MovementType("OF", 24, "PRO", "Déclaration de production", 1, "produced",
                                "0410"),
    "Consommation": _MovementType("CO", 18, "CON", "Consommation OF", -1, "raw", "0420"),
    "Réception achat": _MovementType("BR", 10, "REC", "Réception fournisseur", 1, "bought",
                                     "0310"),
    "Transfert": _MovementType("TR", 9, "TRF", "Transfert interne", 1, "any", "0500"),
    "Ajustement inventaire": _MovementType("INV", 5, "INV", "Régularisation inventaire", 0,
                                           "any", "0500"),
    "Retour client": _MovementType("RC", 3, "RET", "Retour client", 1, "finished", "0700"),
    "Rebut": _MovementType("RB", 1, "REB", "Mise au rebut", -1, "produced", "0490"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Product:
    article: str
    designation: str
    kind: str  # pipe, fitting, coupling, gasket, stopper, kit, raw
    unit: str
    price: float  # MAD per unit
    length_m: int = 1  # pipes: metres per piece (the stock unit is ML)


def customer_id(number: int) -> str:
    """The code of the `number`-th customer (1-based), as used by every demo file."""
    return f"{CUSTOMER_PREFIX}{number:05d}"


def write_stock_movements(
    path: str | Path,
    *,
    rows: int,
    seed: int = 0,
    start: date = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    sheet: str = DEFAULT_SHEET,
    title_rows: int = 0,
    customers: int = DEFAULT_CUSTOMERS,
) -> Path:
    """Write an ERP stock-movement export: the 58 columns of `ERP_COLUMN_LABELS`, in order.

    `rows` movements spread over `days` days from `start`, grouped in documents (`Piece`)
    whose lines (`No_ligne`) make (Piece, No_ligne, Article, Lot) unique. Items that are not
    lot-managed (gaskets, stoppers, kits) have an empty `Lot`, as in the ERP. `title_rows`
    report-title rows go above the header, as some ERP exports do.
    """
    rng = random.Random(seed)
    movements = _movements(rng, seed, rows=rows, start=start, days=days, customers=customers)
    titles = _titles(title_rows, start, days)
    return _write_xlsx(Path(path), sheet, ERP_COLUMN_LABELS, movements, rows=rows, titles=titles)


def write_deliveries(
    path: str | Path,
    *,
    rows: int,
    seed: int = 0,
    start: date = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    customers: int = DEFAULT_CUSTOMERS,
) -> Path:
    """Write a standalone delivery list: one row per delivery-note line (`DELIVERY_COLUMNS`)."""
    rng = random.Random(seed)
    lines = _delivery_lines(rng, seed, rows=rows, start=start, days=days, customers=customers)
    return _write_xlsx(Path(path), "Deliveries", DELIVERY_COLUMNS, lines, rows=rows)


def write_customers(path: str | Path, *, rows: int, seed: int = 0) -> Path:
    """Write customer master data `CL00001`..: xlsx, or csv (UTF-8) when the suffix is `.csv`."""
    path = Path(path)
    records = (_customer(seed, number) for number in range(1, rows + 1))
    if path.suffix.lower() != ".csv":
        return _write_xlsx(path, "Customers", CUSTOMER_COLUMNS, records, rows=rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CUSTOMER_COLUMNS)
        writer.writeheader()
        writer.writerows(records)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m core.demo {stock_movements,deliveries,customers} OUT --rows N [--seed S]`."""
    parser = argparse.ArgumentParser(prog="python -m core.demo", description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=DATASETS)
    parser.add_argument("out", type=Path, help="file to write (.xlsx; customers also .csv)")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--title-rows", type=int, default=0, help="stock movements only")
    args = parser.parse_args(argv)
    if args.rows < 0 or args.days < 1 or args.customers < 1 or args.title_rows < 0:
        parser.error("--rows and --title-rows must be 0 or more, --days and --customers 1 or more")
    period = {"start": args.start, "days": args.days, "customers": args.customers}
    if args.dataset == "stock_movements":
        options = period | {"title_rows": args.title_rows}
        write_stock_movements(args.out, rows=args.rows, seed=args.seed, **options)
    elif args.dataset == "deliveries":
        write_deliveries(args.out, rows=args.rows, seed=args.seed, **period)
    else:
        write_customers(args.out, rows=args.rows, seed=args.seed)
    print(f"wrote {args.rows} {args.dataset} rows to {args.out}")
    return 0


# ----------------------------------------------------------------------------- writing
def _write_xlsx(
    path: Path,
    sheet: str,
    columns: Sequence[str],
    records: Iterable[dict[str, Any]],
    *,
    rows: int,
    titles: Sequence[str] = (),
) -> Path:
    """Stream `rows` records (column -> value; None means an empty cell) below a header row.

    The sheet's XML is written straight into the archive, cell by cell as xlsxwriter's
    constant-memory mode writes it (inline strings, numbers as `%.16G`, dates as day serials
    shown as dates), about four times faster. The used range goes at the top of the sheet,
    so the number of records is given beforehand; a different count is an error.
    """
    if _SHEET_NAME_FORBIDDEN.search(sheet) or not sheet.strip():
        raise ValueError(f"invalid sheet name {sheet!r}")
    name = _escape_attribute(sheet[:_SHEET_NAME_MAX])
    last_row = len(titles) + 1 + rows
    last_column = _column_letters(max(len(columns), 1))[-1]
    span = "A1" if (last_row, last_column) == (1, "A") else f"A1:{last_column}{last_row}"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part, text in _static_parts(name).items():
            archive.writestr(_zip_entry(part), text)
        with archive.open(_zip_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as out:
            out.write(_SHEET_START.format(span=span).encode())
            written = _write_rows(out, columns, records, titles=titles)
            out.write(_SHEET_END.encode())
    if written != rows:
        path.unlink()
        raise ValueError(f"expected {rows} records, got {written}")
    return path


def _write_rows(
    out: IO[bytes],
    columns: Sequence[str],
    records: Iterable[dict[str, Any]],
    *,
    titles: Sequence[str],
) -> int:
    """Write the title rows, the header and the records' rows; the number of records."""
    letters = _column_letters(len(columns))
    index = {name: col for col, name in enumerate(columns)}
    parts: list[str] = []
    append = parts.append
    for row, title in enumerate(titles, start=1):
        if title:
            append(f'<row r="{row}"><c r="A{row}"{_BOLD}{_string_tail(title)}</row>')
    row = len(titles) + 1
    header = (
        f'<c r="{letter}{row}"{_BOLD}{_string_tail(name)}'
        for letter, name in zip(letters, columns, strict=True)
    )
    append(f'<row r="{row}">{"".join(header)}</row>')
    header_row = row
    tails: dict[str, str] = {}  # the XML after a string cell's reference, by text
    for record in records:
        row += 1
        values: list[Any] = [None] * len(columns)
        for key, value in record.items():
            values[index[key]] = value
        cells = []
        for letter, value in zip(letters, values, strict=True):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                if value:
                    tail = tails.get(value)
                    if tail is None:
                        if len(tails) >= _STRING_CACHE:
                            tails.clear()
                        tail = tails[value] = _string_tail(value)
                    cells.append(f'<c r="{letter}{row}"{tail}')
            elif kind is date:  # a real Excel date: the day serial, shown as a date
                serial = (value - _EXCEL_EPOCH).days
                cells.append(f'<c r="{letter}{row}" s="{_DATE}"><v>{serial}</v></c>')
            else:
                number = f"{value:.16G}"
                if number[-1] in "FN":  # INF, NAN
                    raise TypeError(f"{value!r} cannot be written to a workbook")
                cells.append(f'<c r="{letter}{row}"><v>{number}</v></c>')
        if cells:
            append(f'<row r="{row}">{"".join(cells)}</row>')
        if len(parts) >= _ROWS_PER_WRITE:
            out.write("".join(parts).encode())
            parts.clear()
    out.write("".join(parts).encode())
    return row - header_row


def _string_tail(text: str) -> str:
    """What follows the reference of an inline-string cell, escaped as xlsxwriter does."""
    if _SPECIAL.search(text):
        text = _ESCAPE_LITERAL.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda found: f"_x{ord(found.group()):04X}_", text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _escape_attribute(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _column_letters(count: int) -> list[str]:
    letters = []
    for number in range(1, count + 1):
        name = ""
        while number:
            number, rest = divmod(number - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _zip_entry(part: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(part, date_time=_ZIP_TIME)  # fixed, so equal seeds give equal bytes
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _static_parts(sheet: str) -> dict[str, str]:
    """Every part of the workbook but its sheet: the package, the workbook and its styles."""
    return {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _PACKAGE_RELS,
        "docProps/app.xml": _APP.format(sheet=sheet),
        "docProps/core.xml": _CORE.format(created=f"{_FIXED_CREATED:%Y-%m-%dT%H:%M:%SZ}"),
        "xl/workbook.xml": _WORKBOOK.format(sheet=sheet),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
        "xl/styles.xml": _STYLES,
    }


def _titles(count: int, start: date, days: int) -> list[str]:
    end = start + timedelta(days=days - 1)
    lines = ["Mouvements de stock par date", f"Du {start:%d/%m/%Y} au {end:%d/%m/%Y}"]
    return (lines + [""] * count)[:count]


# ----------------------------------------------------------------------------- catalogue
def _catalogue(rng: random.Random) -> dict[str, list[_Product]]:
    """Articles by kind ('pipe', ..., 'raw'), with ERP-style codes and designations."""
    kinds: dict[str, list[_Product]] = {kind: [] for kind in (*_FINISHED, "raw")}
    seen: set[str] = set()

    def add(kind: str, stem: str, designation: str, price: float, length: int = 1) -> None:
        # code = stem + the first free variant digit ('C050010' -> 'C0500101')
        article = next((stem + d for d in "123456789" if stem + d not in seen), None)
        if article is not None:
            seen.add(article)
            kinds[kind].append(_Product(article, designation, kind, "U", round(price, 2), length))

    for _ in range(120):
        dn, pn, sn = rng.choice(_DN_STEPS), rng.choice(_PN), rng.choice(_SN)
        text = f"C/{dn}/{pn}/{sn}/{rng.choice(_RESINS)}/{rng.choice('BBU')}"
        length = rng.choice((6, 12, 12))
        add("pipe", f"C{dn:04d}{pn:02d}", text, dn * length * (0.9 + pn / 25), length)
    for _ in range(8):
        dn, pn, sn = rng.choice(_DN_STEPS[:12]), rng.choice(_PN), rng.choice(_SN)
        text = f"Short pipe {dn} {pn} {sn} {rng.choice(_RESINS)} {rng.choice('BU')}"
        add("pipe", f"SP{dn:04d}{pn:02d}", text, dn * 3 * (0.9 + pn / 25), 3)
    for number in range(60):
        dn, pn, sn, resin = (
            rng.choice(_DN_STEPS),
            rng.choice(_PN),
            rng.choice(_SN),
            "OOIV"[number % 4],
        )
        if number % 2:
            angle = rng.choice(_ANGLES)
            add("fitting", f"CD{angle:02d}{dn:04d}", f"Coude {angle}°/{dn}/{pn}/{sn}/{resin}",
                dn * (3 + pn / 10))  # fmt: skip
        else:
            dn = max(dn, 300)
            dn2 = rng.choice([d for d in _DN_STEPS if d < dn])
            name, code = rng.choice(_BRANCHES)
            add("fitting", f"{code}{dn:04d}{dn2:04d}", f"{name}/{dn}/{dn2}/{pn}/{sn}/{resin}",
                dn * (3.5 + pn / 10))  # fmt: skip
    for _ in range(25):
        dn, pn = rng.choice(_DN_STEPS), rng.choice(_PN)
        add("coupling", f"RC{dn:04d}{pn:02d}", f"Raccord/{dn}/{pn}", dn * 0.8 + pn * 4)
    for _ in range(20):
        dn = rng.choice(_DN_STEPS)
        text = rng.choice((f"Joint REKA EPDM {dn}", f"Joint EPDM DN{dn}", f"Joint/{dn}/10"))
        add("gasket", f"JT{dn:04d}", text, dn * 0.12)
    for _ in range(8):
        dn = rng.choice(_DN_STEPS)
        add("stopper", f"ST{dn:04d}", f"Stoppeur/{dn}", dn * 0.9)
    for number, template in enumerate(_KITS * 2, start=1):
        dn = rng.choice(_DN_STEPS)
        add("kit", f"KT{number:03d}", template.format(dn=dn), 150 + dn * 0.3)
    kinds["raw"] = [_Product(a, d, "raw", unit, price) for a, d, unit, price in _RAW_MATERIALS]
    return kinds


def _pools(kinds: dict[str, list[_Product]]) -> dict[str, list[_Product]]:
    finished = [p for kind in _FINISHED for p in kinds[kind]]
    return {
        "finished": finished,
        "produced": kinds["pipe"] + kinds["fitting"] + kinds["coupling"],
        "raw": kinds["raw"],
        "bought": kinds["raw"] + kinds["gasket"] + kinds["kit"],
        "any": finished + kinds["raw"],
    }


# ----------------------------------------------------------------------------- movements
def _movements(
    rng: random.Random, seed: int, *, rows: int, start: date, days: int, customers: int
) -> Iterator[dict[str, Any]]:
    """`rows` movement records in date order, grouped in documents of 1 to 8 lines."""
    pools = _pools(_catalogue(rng))
    names = list(_MOVEMENTS)
    shares = [_MOVEMENTS[name].share for name in names]
    counters = dict.fromkeys((m.prefix for m in _MOVEMENTS.values()), 0)
    currencies: dict[int, str] = {}
    emitted = 0
    while emitted < rows:
        name = rng.choices(names, shares)[0]
        kind = _MOVEMENTS[name]
        day = start + timedelta(days=int(days * emitted / rows))
        counters[kind.prefix] += 1
        site = rng.choice(tuple(_SITES))
        doc: dict[str, Any] = {
            "Site": site,
            "Depot": rng.choice(_SITES[site]),
            "Type_mouvement": name,
            "Designation_mvt": kind.wording,
            "Type_piece": kind.prefix,
            "Piece": f"{kind.prefix}{day:%y}{counters[kind.prefix]:06d}",
            "Famille_mouvement_stock": kind.family,
            "Operateur_creation": rng.choice(_OPERATORS),
            "Date_creation": day,
            "Heure": f"{rng.randint(6, 21):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            "Devise": "MAD",
        }
        if kind.pool == "finished":  # customer deliveries and returns
            number = int(customers * rng.random() ** 2) + 1  # a few customers buy most
            if number not in currencies:
                currencies[number] = _currency(_customer(seed, number)["Country"])
            doc |= {"Tiers": customer_id(number), "Devise": currencies[number]}
            doc |= {"Type_piece_origine": "CMD", "Piece_origine": f"CV{day:%y}{number:05d}"}
            if rng.random() < 0.6:
                doc["Affaire"] = f"AFF-{day:%Y}-{rng.randint(1, 80):03d}"
        elif kind.pool == "bought":
            doc |= {"Tiers": f"FR{rng.randint(1, 40):05d}", "Type_piece_origine": "CDA"}
            doc["Piece_origine"] = f"CA{day:%y}{rng.randint(1, 9999):05d}"
        elif kind.pool == "raw":
            doc |= {
                "Type_piece_origine": "OF",
                "Piece_origine": f"OF{day:%y}{rng.randint(1, 9999):06d}",
            }
        for line in range(1, rng.randint(1, kind.max_lines) + 1):
            for record in _lines(rng, doc, kind, rng.choice(pools[kind.pool]), line):
                if emitted == rows:
                    return
                emitted += 1
                yield record


def _lines(
    rng: random.Random, doc: dict[str, Any], kind: _MovementType, product: _Product, line: int
) -> Iterator[dict[str, Any]]:
    """One document line, or two for a transfer (out of one location, into another)."""
    day: date = doc["Date_creation"]
    raw = product.kind == "raw"
    quantity = _quantity(rng, product)
    sign = kind.sign or rng.choice((-1, 1))
    if kind.sign == 0 and not raw:
        quantity = max(1, round(quantity / 10))  # inventory differences are small
    price = product.price * rng.uniform(0.97, 1.03)
    order_price = price * (_SALES_MARGIN if kind.pool == "finished" else 1.0)
    draw = rng.random  # sparse columns: filled for a share of the rows only
    record = doc | {
        "Article": product.article,
        "Designation_1": product.designation,
        "Imputation": kind.imputation,
        "Lot": _lot(rng, product, day, made_today=kind.prefix == "OF"),
        "UC": product.unit,
        "US": "ML" if product.kind == "pipe" else product.unit,
        "Statut": rng.choices(("A", "Q", "R"), (94, 5, 1))[0],
        "Emplacement": _location(rng, product, shipping=kind.prefix == "BL"),
        "Identifiant_2": doc.get("Piece_origine") if draw() < 0.7 else None,
        "No_ligne_piece_orig": line * 1000 if doc.get("Piece_origine") else None,
        "Produits": _PRODUCT_LINES[product.kind],
        "Prix_valorise": round(price, 4),
        "Prix_ordre": round(order_price, 4),
        "Nature_prix_origine": rng.choice(("CMP", "CMP", "STD")),
        "Coeff_origine": product.length_m,
        "UC_origine": product.unit if draw() < 0.5 else None,
        "Type_de_piece": kind.prefix if draw() < 0.5 else None,
        "Piece_comptable": f"OD{day:%y}{rng.randint(1, 99999):06d}" if draw() < 0.4 else None,
        "Ecart_non_absorbe": 0 if draw() < 0.2 else None,
        "Variation_mouvement": round(rng.uniform(-5, 5), 2) if draw() < 0.1 else None,
        "Proprietaire": doc["Site"] if draw() < 0.1 else None,
    }
    if raw:
        record |= _raw_material_fields(rng, product, day, quantity)
    elif kind.prefix == "OF" and draw() < 0.3:
        first = rng.randint(1, 90_000)
        record |= {"Version_majeure": "A", "Version_mineure": "01", "Serie_debut": f"{first:06d}",
                   "Serie_fin": f"{first + quantity - 1:06d}"}  # fmt: skip
    if draw() < 0.05:
        record |= {"Identifiant_1": f"T{rng.randint(1, 99_999):05d}", "Slot": "01",
                   "Budget": f"BUD{day:%y}", "Variation_ordre": 0.0}  # fmt: skip
    if doc.get("Affaire") and draw() < 0.3:
        record["Affaires"] = doc["Affaire"]
    moves = [(sign, record["Emplacement"])]
    if kind.prefix == "TR":
        moves = [(-1, record["Emplacement"]), (1, _location(rng, product, shipping=False))]
        record["Inter_societes"] = "1" if draw() < 0.05 else None
    for offset, (move_sign, location) in enumerate(moves):
        signed = move_sign * quantity
        yield record | {
            "No_ligne": (len(moves) * (line - 1) + offset + 1) * 1000,
            "Quantite": signed,
            "Quantite_US": signed * product.length_m,
            "Emplacement": location,
            "Montant_mouvement": round(signed * price, 2),
            "Montant_ordre": round(quantity * order_price, 2),
        }


def _quantity(rng: random.Random, product: _Product) -> int | float:
    if product.kind == "raw":
        return round(rng.uniform(25, 2500), 1)
    if product.kind in ("gasket", "kit"):
        return rng.randint(1, 40)
    return rng.randint(1, 12)


def _lot(rng: random.Random, product: _Product, day: date, *, made_today: bool) -> str | None:
    """Made items: machine, YYMM, serial (`CW2403117`); raw materials: receipt lots; else none."""
    if product.kind in ("gasket", "stopper", "kit"):
        return None
    if product.kind == "raw":
        return f"L{day:%y%m%d}-{rng.randint(1, 99):02d}"
    made = day if made_today else day - timedelta(days=rng.randint(0, 240))
    machines = _MACHINES["pipe" if product.kind == "pipe" else "fitting"]
    return f"{rng.choice(machines)}{made:%y%m}{rng.randint(1, 999):03d}"


def _location(rng: random.Random, product: _Product, *, shipping: bool) -> str:
    if product.kind == "raw":
        return rng.choice(("MP01", "MP02", "MP-SILO1", "MP-SILO2"))
    if shipping:
        return f"QUAI-{rng.randint(1, 4):02d}"
    zone = "PARC" if product.kind == "pipe" else rng.choice("ABC")
    return f"{zone}{rng.randint(1, 20):02d}-{rng.randint(1, 5):02d}"


def _raw_material_fields(
    rng: random.Random, product: _Product, day: date, quantity: float
) -> dict[str, Any]:
    expiry = day + timedelta(days=rng.randint(90, 365))
    perishable = product.designation.startswith(_PERISHABLE)
    return {
        "Lot_fourn": f"S{day:%y%m}-{rng.randint(1, 99999):05d}",
        "Peremption": expiry if perishable else None,
        "DLU": expiry - timedelta(days=30) if perishable else None,
        "Recontrole": expiry - timedelta(days=60) if perishable and rng.random() < 0.3 else None,
        "Quantite_active": quantity,
        "Dem_analyse": rng.choice(("O", "N", "N")),
        "Titre": 1.0 if product.article == "MP0031" else None,
    }


# ----------------------------------------------------------------------------- deliveries
def _delivery_lines(
    rng: random.Random, seed: int, *, rows: int, start: date, days: int, customers: int
) -> Iterator[dict[str, Any]]:
    products = _pools(_catalogue(rng))["finished"]
    known: dict[int, dict[str, Any]] = {}
    emitted = note = 0
    while emitted < rows:
        note += 1
        day = start + timedelta(days=int(days * emitted / rows))
        number = int(customers * rng.random() ** 2) + 1
        if number not in known:
            known[number] = _customer(seed, number)
        customer = known[number]
        currency = _currency(customer["Country"])
        header = {
            "Delivery note": f"LIV{day:%y}{note:06d}",
            "Customer": customer["CustomerID"],
            "Date": day,
            "Currency": currency,
            "Country": customer["Country"],
            "Carrier": rng.choice(_CARRIERS),
            "Site": rng.choice(tuple(_SITES)),
        }
        for line in range(1, rng.randint(1, 8) + 1):
            if emitted == rows:
                return
            emitted += 1
            product = rng.choice(products)
            quantity = _quantity(rng, product)
            price = product.price * _SALES_MARGIN * (1 if currency == "MAD" else _MAD_TO_EUR)
            yield header | {
                "Line": line,
                "Item": product.article,
                "Description": product.designation,
                "Lot": _lot(rng, product, day, made_today=False),
                "Quantity": quantity,
                "Unit": product.unit,
                "Amount": round(quantity * price, 2),
                "Weight (kg)": round(quantity * product.price / 9.5, 1),
            }


# ----------------------------------------------------------------------------- customers
def _customer(seed: int, number: int) -> dict[str, Any]:
    """The `number`-th customer of `seed`, the same whichever file asks for it."""
    rng = random.Random(seed * 1_000_003 + number)
    french, english, cities, legal, _ = rng.choices(_COUNTRIES, [c[4] for c in _COUNTRIES])[0]
    return {
        "CustomerID": customer_id(number),
        "Name": f"{rng.choice(_NAME_STEMS)} {rng.choice(_NAME_TRADES)} {legal}",
        "Country": french if rng.random() < 0.55 else english,
        "City": rng.choice(cities),
        "Status": rng.choice(("Public", "Private", "Public")),
        "Annual Income ($)": rng.randrange(15_000, 190_000, 1_000),
        "Spending Score (1-100)": rng.randint(1, 100),
        "Work Experience": rng.randint(0, 17),
        "Customer size": rng.randint(1, 9),
        "Founded": rng.randint(1950, 2022),
        "Number of employees": rng.randint(5, 10_000),
    }


def _currency(country: str) -> str:
    return "MAD" if country in ("Maroc", "Morocco") else "EUR"


# ----------------------------------------------------------------------------- workbook parts
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "application/vnd.openxmlformats-"
_SHEET_START = (
    f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><dimension ref="{{span}}"/>'
    '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
)
_SHEET_END = (
    '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
    'footer="0.3"/></worksheet>'
)
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_TYPES}package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/docProps/app.xml" ContentType="{_TYPES}officedocument.'
    'extended-properties+xml"/>'
    f'<Override PartName="/docProps/core.xml" ContentType="{_TYPES}package.core-properties+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_TYPES}officedocument.spreadsheetml.'
    'styles+xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}officedocument.spreadsheetml.'
    'sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPES}officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_PACKAGE_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PKG_RELS}/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_DOC_RELS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
_APP = (
    f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>'
    '<ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="2" baseType="variant">'
    "<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4>"
    '</vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="1" '
    'baseType="lpstr"><vt:lpstr>{sheet}</vt:lpstr></vt:vector></TitlesOfParts>'
    "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
    "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>"
)
_CORE = (
    f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
    "</cp:coreProperties>"
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><bookViews><workbookView '
    'xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews><sheets>'
    '<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets>'
    '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/></Relationships>'
)
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}"><numFmts count="1"><numFmt numFmtId="164" '
    'formatCode="dd/mm/yyyy"/></numFmts><fonts count="2"><font><sz val="11"/>'
    '<name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/>'
    '<family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1">'
    "<border><left/><right/><top/><bottom/><diagonal/></border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


if __name__ == "__main__":
    raise SystemExit(main())
