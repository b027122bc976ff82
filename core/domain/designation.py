"""Product attributes read from an ERP designation (`Designation_1`) and a production lot.

Designation forms (case, accents, spaces and degree-sign variants are tolerated):

    C/<DN>/<PN>/<SN>/<resin>/<reinforcement>      pipe            C/500/10/5/O/B
    Short pipe <DN> <PN> <SN> [<resin>] [<reinf>]  short pipe      Short pipe 500 10 5 O B
    Coude <angle>°/<DN>/<PN>/<SN>[/…]              elbow           Coude 30°/500/10/5/O
    Té Concentrique/<DN>/<DN2>/<PN>/<SN>[/…]       tee (branch DN) Té Tangentiel/600/200/10/5
    Cone Réduction/<DN>/<DN2>/<PN>/<SN>[/…]        reducer         Reduction/800/600/6/5
    Raccord/<DN>/<PN>                              coupling        Raccord/500/10
    Kit …, Joint …, Stoppeur …                     accessories     Joint REKA EPDM DN500

Fields may carry their label (`DN500`, `PN 10`, `SN5000`). SN is written in thousands
(`5` is 5000 N/m², `2.5` or `2,5` is 2500); a value of 100 or more is taken as N/m² already.
Resin codes: O Ortho, I Iso, OI Ortho+Iso, V Vinylester, VI Vinylester+Iso; reinforcement
codes: B Biaxial, U Uniaxial. After the numeric fields, these codes are recognised in any order.

Space-separated forms (short pipes, or any type written without slashes): numbers labelled
`DN`/`PN`/`SN` are taken by label; bare numbers fill the type's slots in order (pipes and
elbows DN, PN, SN; tees and reducers DN, DN2, PN, SN; couplings DN, PN). An elbow's angle is
the number before a degree sign, or a leading bare number when there is one more than the
slots (`Coude 90 500 10 5`). Accessories (kits, gaskets, stoppers) take labelled values, else
their first bare number that is a plausible DN, so `Kit lubrifiant 1 kg` has no DN. A short
pipe without resin or reinforcement codes leaves them unknown rather than assuming a default.

Lot codes (production lots): characters 1-2 machine, 3-4 year (two digits, 20xx), 5-6 month
(1..12, else unknown), 5-9 pipe serial. A lot must start with two letters or digits and two
digits to be read at all. Raw materials (article or location starting with `MP`) are bought,
not produced on a machine: their lots are supplier lots and are not read.

Nothing here raises on bad input: what does not parse is None, and callers keep the raw text.
Values outside plausible ranges (DN 10..4000 mm, PN up to 100 bar, SN 500..200000 N/m²,
angle up to 180°) are treated as not parsed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

CONDUIT = "Conduit"
SPECIAL_FITTINGS = "Pièces spéciales"
COUPLINGS = "Raccords"
KITS = "Matériel"
GASKETS = "Joints"
STOPPERS = "Stoppeurs"
RAW_MATERIALS = "Matières premières"
FAMILIES: tuple[str, ...] = (
    CONDUIT,
    SPECIAL_FITTINGS,
    COUPLINGS,
    KITS,
    GASKETS,
    STOPPERS,
    RAW_MATERIALS,
)
RAW_MATERIAL_PREFIX = "MP"

RESINS: dict[str, str] = {
    "o": "Ortho",
    "i": "Iso",
    "oi": "Ortho+Iso",
    "v": "Vinylester",
    "vi": "Vinylester+Iso",
}
REINFORCEMENTS: dict[str, str] = {"b": "Biaxial", "u": "Uniaxial"}
# Codes and spelled-out names, folded, to the readable name.
_RESIN_NAMES = (
    RESINS
    | {name.lower(): name for name in RESINS.values()}
    | {
        "io": "Ortho+Iso",
        "iv": "Vinylester+Iso",
        "vinyl": "Vinylester",
    }
)
_REINFORCEMENT_NAMES = REINFORCEMENTS | {name.lower(): name for name in REINFORCEMENTS.values()}

DN_RANGE = (10, 4000)
PN_MAX = 100.0
SN_RANGE = (500, 200_000)
ANGLE_MAX = 180.0
SN_THOUSANDS_BELOW = 100  # SN values under this are written in thousands of N/m²

# Layouts: the slots a type's fields fill, in order, and whether resin codes follow.
_PIPE = "pipe"
_ELBOW = "elbow"
_BRANCH = "branch"
_COUPLING = "coupling"
_ACCESSORY = "accessory"
_SLOTS: dict[str, tuple[str, ...]] = {
    _PIPE: ("dn", "pn", "sn"),
    _ELBOW: ("dn", "pn", "sn"),
    _BRANCH: ("dn", "dn2", "pn", "sn"),
    _COUPLING: ("dn", "pn"),
    _ACCESSORY: ("dn", "pn", "sn"),
}
_WITH_CODES = frozenset({_PIPE, _ELBOW, _BRANCH})

# (prefix pattern on the folded designation, product type, family, layout); first match wins.
_TYPES: tuple[tuple[re.Pattern[str], str, str, str], ...] = tuple(
    (re.compile(pattern), product_type, family, layout)
    for pattern, product_type, family, layout in (
        (r"(?:c|conduit)\s*(?=/|$)", "Conduit", CONDUIT, _PIPE),
        (r"short[\s_-]*pipes?\b", "Short pipe", CONDUIT, _PIPE),
        (r"coudes?\b", "Coude", SPECIAL_FITTINGS, _ELBOW),
        (r"tee?s?\s*concentriques?\b", "Té Concentrique", SPECIAL_FITTINGS, _BRANCH),
        (r"tee?s?\s*tangentiel(?:le)?s?\b", "Té Tangentiel", SPECIAL_FITTINGS, _BRANCH),
        (r"tee?s?\b", "Té", SPECIAL_FITTINGS, _BRANCH),
        (r"cones?\s*(?:de\s*)?reductions?\b", "Cone Réduction", SPECIAL_FITTINGS, _BRANCH),
        (r"reductions?\b", "Reduction", SPECIAL_FITTINGS, _BRANCH),
        (r"raccords?\b", "Raccord", COUPLINGS, _COUPLING),
        (r"kits?\b", "Kit", KITS, _ACCESSORY),
        (r"materiele?s?\b", "Matériel", KITS, _ACCESSORY),
        (r"joints?\b", "Joint", GASKETS, _ACCESSORY),
        (r"stop+(?:eu|e)?rs?\b", "Stoppeur", STOPPERS, _ACCESSORY),
    )
)

_FAMILY_ALIASES: dict[str, str] = {
    "materiele": KITS,
    "materiels": KITS,
    "kits": KITS,
    "pipes": CONDUIT,
    "conduits": CONDUIT,
    "special fittings": SPECIAL_FITTINGS,
    "fittings": SPECIAL_FITTINGS,
    "piece speciale": SPECIAL_FITTINGS,
    "couplings": COUPLINGS,
    "raccord": COUPLINGS,
    "gaskets": GASKETS,
    "joint": GASKETS,
    "stoppers": STOPPERS,
    "stoppeur": STOPPERS,
    "raw materials": RAW_MATERIALS,
    "matiere premiere": RAW_MATERIALS,
}

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_LABELLED = re.compile(r"\b(dn|pn|sn)\s*[=:]?\s*" + _NUMBER + r"(?!\d)")
_BARE = re.compile(r"^" + _NUMBER + r"(?:mm)?$")
_FIELD = re.compile(r"^(?:dn|pn|sn)?\s*[=:]?\s*" + _NUMBER + r"\s*(?:mm|bar|n/m2|n/m²)?$")
_ANGLE = re.compile(_NUMBER + r"\s*(°|deg\b)?")
_DEGREE_VARIANTS = str.maketrans({"º": "°", "˚": "°", "ᵒ": "°", "\u00a0": " "})
_LOT = re.compile(r"^([A-Z0-9]{2})(\d{2})")


@dataclass(frozen=True, slots=True)
class LotCode:
    """The parts of a production lot code; None where a part does not parse."""

    machine: str | None = None
    year: int | None = None
    month: int | None = None
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class ProductAttributes:
    """One movement's product attributes, in the order of `PRODUCT_ATTRIBUTE_FIELDS`."""

    family: str | None = None
    product_type: str | None = None
    dn: int | None = None
    dn2: int | None = None
    pn: float | None = None
    sn: int | None = None
    resin: str | None = None
    reinforcement: str | None = None
    angle: float | None = None
    lot_machine: str | None = None
    lot_year: int | None = None
    lot_month: int | None = None
    lot_serial: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ATTRIBUTE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ProductAttributes))
_INTEGER_ATTRIBUTES = ("dn", "dn2", "sn", "lot_year", "lot_month")
_DECIMAL_ATTRIBUTES = ("pn", "angle")

# The designation part: family, product_type, dn, dn2, pn, sn, resin, reinforcement, angle.
_Parsed = tuple[Any, ...]
_UNPARSED: _Parsed = (None,) * 9
_NO_LOT = LotCode()


def is_raw_material(article: object = None, location: object = None) -> bool:
    """True when the article code or the storage location starts with `MP`."""
    return any(_starts_raw(v) for v in (article, location))


def _starts_raw(value: object) -> bool:
    if value.__class__ is str:  # the common case: `_text` trims the start, nothing else counts
        return value.lstrip()[:2].upper() == RAW_MATERIAL_PREFIX  # type: ignore[attr-defined]
    return (_text(value) or "").upper().startswith(RAW_MATERIAL_PREFIX)


def family_of(article: object, designation: object, location: object = None) -> str | None:
    """The report family of a movement: raw materials first, then by designation."""
    if is_raw_material(article, location):
        return RAW_MATERIALS
    return _parse_designation_text(_text(designation))[0]


def canonical_family(name: object) -> str | None:
    """A family name in its canonical spelling, accepting old and folded spellings.

    >>> canonical_family("Materiele"), canonical_family("pieces speciales")
    ('Matériel', 'Pièces spéciales')
    """
    folded = _fold(_text(name) or "")
    for family in FAMILIES:
        if _fold(family) == folded:
            return family
    return _FAMILY_ALIASES.get(folded)


def parse_lot(lot: object) -> LotCode:
    """Machine, year, month and pipe serial of a production lot code."""
    text = _text(lot)
    if text is None:
        return _NO_LOT
    code = "".join(text.split()).upper()
    match = _LOT.match(code)
    if match is None:
        return _NO_LOT
    month_text = code[4:6]
    month = int(month_text) if month_text.isdigit() and len(month_text) == 2 else None
    serial = code[4:9]
    return LotCode(
        machine=match.group(1),
        year=2000 + int(match.group(2)),
        month=month if month is not None and 1 <= month <= 12 else None,
        serial=serial if len(serial) == 5 and serial.isalnum() else None,
    )


def parse_designation(
    designation: object,
    *,
    lot: object = None,
    article: object = None,
    location: object = None,
) -> ProductAttributes:
    """All product attributes of one movement (see the module docstring for the forms)."""
    parsed = _parse_designation_text(_text(designation))
    raw = is_raw_material(article, location)
    return _combine(parsed, _NO_LOT if raw else parse_lot(lot), raw)


def parse_designations(
    designations: Sequence[object],
    lots: Sequence[object] | None = None,
    articles: Sequence[object] | None = None,
    locations: Sequence[object] | None = None,
) -> pd.DataFrame:
    """One row of attributes per designation, one column per attribute.

    Identical designations and lots are parsed once. Integer columns are `Int64`, decimal
    columns `Float64` and text columns `string`, with `<NA>` where nothing parsed.
    Raises ValueError when the optional sequences are not as long as `designations`.
    """
    n = len(designations)
    optional = {"lots": lots, "articles": articles, "locations": locations}
    for name, values in optional.items():
        if values is not None and len(values) != n:
            raise ValueError(f"{name} has {len(values)} values for {n} designations")
    empty = [None] * n
    columns = [_as_list(v) if v is not None else empty for v in (designations, *optional.values())]
    # Each row points into the list of distinct parses; columns are then gathered with `take`.
    designation_ids = np.empty(n, dtype=np.intp)
    lot_ids = np.zeros(n, dtype=np.intp)
    raw = np.zeros(n, dtype=bool)
    designation_cache: dict[object, int] = {}
    lot_cache: dict[object, int] = {None: 0}
    mp_cache: dict[object, bool] = {}
    parsed: list[_Parsed] = []
    codes: list[LotCode] = [_NO_LOT]
    for i, (designation, lot, article, location) in enumerate(zip(*columns, strict=True)):
        designation_ids[i] = _distinct(designation, designation_cache, parsed, _parse_key)
        if _starts_mp(article, mp_cache) or _starts_mp(location, mp_cache):
            raw[i] = True
        else:
            lot_ids[i] = _distinct(lot, lot_cache, codes, parse_lot)
    lot_rows = [(c.machine, c.year, c.month, c.serial) for c in codes]
    distinct = [*zip(*(parsed or [_UNPARSED]), strict=True), *zip(*lot_rows, strict=True)]
    frame = {
        name: pd.array(list(values), dtype=_dtype(name)).take(
            designation_ids if position < len(_UNPARSED) else lot_ids
        )
        for position, (name, values) in enumerate(zip(ATTRIBUTE_NAMES, distinct, strict=True))
    }
    frame["family"][raw] = RAW_MATERIALS
    return pd.DataFrame(frame)


def _as_list(values: Sequence[object]) -> list[object]:
    """A plain list; pandas and numpy containers convert far faster than they iterate."""
    to_list = getattr(values, "tolist", None)
    return to_list() if callable(to_list) else list(values)


def _distinct(value: object, cache: dict[object, int], results: list[Any], parse: Any) -> int:
    """Index in `results` of the parse of `value`, parsing each distinct value once."""
    index = cache.get(value)
    if index is None:
        key = _key(value)  # NaN and NA are not equal to themselves: look them up as None
        index = cache.get(key)
        if index is None:
            index = cache[key] = len(results)
            results.append(parse(key))
    return index


def _starts_mp(value: object, cache: dict[object, bool]) -> bool:
    found = cache.get(value)
    if found is None:
        if _key(value) is None:
            return False
        found = cache[value] = is_raw_material(value)
    return found


def _parse_key(key: object) -> _Parsed:
    return _parse_designation_text(_text(key))


def _dtype(name: str) -> str:
    if name in _INTEGER_ATTRIBUTES:
        return "Int64"
    if name in _DECIMAL_ATTRIBUTES:
        return "Float64"
    return "string"


def _combine(parsed: _Parsed, code: LotCode, raw: bool) -> ProductAttributes:
    return ProductAttributes(
        RAW_MATERIALS if raw else parsed[0],
        *parsed[1:],
        lot_machine=code.machine,
        lot_year=code.year,
        lot_month=code.month,
        lot_serial=code.serial,
    )


def _key(value: object) -> object:
    """A hashable cache key with every missing value (None, NaN, NA) as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value


def _text(value: object) -> str | None:
    """Trimmed text of a cell, None when empty; integral floats lose their '.0'."""
    value = _key(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).translate(_DEGREE_VARIANTS).split())
    return text or None


def _fold(text: str) -> str:
    """Lower case without accents, spaces collapsed; keeps '°'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_DEGREE_VARIANTS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())


def _parse_designation_text(text: str | None) -> _Parsed:
    if text is None:
        return _UNPARSED
    folded = _fold(text)
    for pattern, product_type, family, layout in _TYPES:
        match = pattern.match(folded)
        if match:
            v = _read_fields(folded[match.end() :], layout)
            return (
                family,
                product_type,
                *(v.get(name) for name in ("dn", "dn2", "pn", "sn", "resin", "reinforcement")),
                v.get("angle"),
            )
    return _UNPARSED


def _read_fields(rest: str, layout: str) -> dict[str, Any]:
    """Slash-separated fields by position when the text after the type allows, else tokens."""
    head, slash, tail = rest.partition("/")
    head = head.strip()
    if slash and layout == _ELBOW:
        return {"angle": _angle(head, need_sign=False)} | _read_slash_fields(tail, layout)
    if slash and (not head or _FIELD.match(head)):
        return _read_slash_fields(rest, layout)
    return _read_tokens(rest.replace("/", " "), layout)


def _read_slash_fields(text: str, layout: str) -> dict[str, Any]:
    fields = [part.strip() for part in text.split("/")]
    if fields and not fields[0]:
        fields.pop(0)
    slots = _SLOTS[layout]
    values: dict[str, Any] = {}
    for slot, field in zip(slots, fields, strict=False):
        match = _FIELD.match(field)
        values[slot] = _slot_value(slot, match.group(1)) if match else None
    if layout in _WITH_CODES:
        values |= _codes(fields[len(slots) :])
    return values


def _read_tokens(text: str, layout: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if layout == _ELBOW:
        match = re.search(_NUMBER + r"\s*°", text)
        if match:
            values["angle"] = _angle(match.group(0), need_sign=True)
            text = text[: match.start()] + " " + text[match.end() :]
    for label, number in _LABELLED.findall(text):
        values.setdefault(label, _slot_value(label, number))
    tokens = _LABELLED.sub(" ", text).split()
    bare = [m.group(1) for m in map(_BARE.match, tokens) if m]
    if layout == _ACCESSORY:
        # Free text around an accessory: only a plausible DN is taken from a bare number.
        if "dn" not in values:
            plausible = (_slot_value("dn", number) for number in bare)
            values["dn"] = next((v for v in plausible if v is not None), None)
    else:
        free = [slot for slot in _SLOTS[layout] if slot not in values]
        if layout == _ELBOW and "angle" not in values and len(bare) > len(free):
            values["angle"] = _angle(bare.pop(0), need_sign=False)  # 'Coude 90 500 10 5'
        values |= {slot: _slot_value(slot, b) for slot, b in zip(free, bare, strict=False)}
    if layout in _WITH_CODES:
        values |= _codes(tokens)
    return values


def _codes(tokens: list[str]) -> dict[str, str]:
    """Resin and reinforcement from the codes or names among `tokens`, first of each wins."""
    found: dict[str, str] = {}
    for token in tokens:
        key = token.strip(" .")
        if key in _RESIN_NAMES:
            found.setdefault("resin", _RESIN_NAMES[key])
        elif key in _REINFORCEMENT_NAMES:
            found.setdefault("reinforcement", _REINFORCEMENT_NAMES[key])
    return found


def _slot_value(slot: str, number: str) -> int | float | None:
    value = float(number.replace(",", "."))
    if slot in ("dn", "dn2"):
        ok = value.is_integer() and DN_RANGE[0] <= value <= DN_RANGE[1]
        return int(value) if ok else None
    if slot == "pn":
        return value if 0 < value <= PN_MAX else None
    sn = value * 1000 if value < SN_THOUSANDS_BELOW else value
    return round(sn) if SN_RANGE[0] <= sn <= SN_RANGE[1] else None


def _angle(text: str, *, need_sign: bool) -> float | None:
    match = _ANGLE.search(text)
    if match is None or (need_sign and not match.group(2)):
        return None
    value = float(match.group(1).replace(",", "."))
    return value if 0 < value <= ANGLE_MAX else None
