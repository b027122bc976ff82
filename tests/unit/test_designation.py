from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.domain.designation import (
    ATTRIBUTE_NAMES,
    CONDUIT,
    COUPLINGS,
    FAMILIES,
    GASKETS,
    KITS,
    RAW_MATERIALS,
    SPECIAL_FITTINGS,
    STOPPERS,
    LotCode,
    ProductAttributes,
    canonical_family,
    family_of,
    is_raw_material,
    parse_designation,
    parse_designations,
    parse_lot,
)
from core.domain.schemas import PRODUCT_ATTRIBUTE_FIELDS

PIPES = [
    ("C/500/10/5/O/B", 500, 10.0, 5000, "Ortho", "Biaxial"),
    ("C/2400/6/2.5/OI/U", 2400, 6.0, 2500, "Ortho+Iso", "Uniaxial"),
    ("C/300/16/10/I/B", 300, 16.0, 10000, "Iso", "Biaxial"),
    ("C/1200/1/2,5/V/U", 1200, 1.0, 2500, "Vinylester", "Uniaxial"),
    ("C/800/32/10/VI/B", 800, 32.0, 10000, "Vinylester+Iso", "Biaxial"),
    ("c / 600 / 2,5 / 5 / oi / b ", 600, 2.5, 5000, "Ortho+Iso", "Biaxial"),
    ("C/DN700/PN10/SN5000/O/B", 700, 10.0, 5000, "Ortho", "Biaxial"),
    ("C/3000/25/5000/O/U", 3000, 25.0, 5000, "Ortho", "Uniaxial"),
    ("  C/100/6/5/O/B", 100, 6.0, 5000, "Ortho", "Biaxial"),
]


@pytest.mark.parametrize(("text", "dn", "pn", "sn", "resin", "reinforcement"), PIPES)
def test_reads_every_field_of_a_pipe_designation(text, dn, pn, sn, resin, reinforcement):
    a = parse_designation(text)
    assert (a.family, a.product_type) == (CONDUIT, "Conduit")
    assert (a.dn, a.pn, a.sn, a.resin, a.reinforcement) == (dn, pn, sn, resin, reinforcement)
    assert (a.dn2, a.angle) == (None, None)


SHORT_PIPES = [
    ("Short pipe 500 10 5 O B", 500, 10.0, 5000, "Ortho", "Biaxial"),
    ("short  pipe 1000 16 10 VI U", 1000, 16.0, 10000, "Vinylester+Iso", "Uniaxial"),
    ("Short pipe DN500 PN10 SN5000", 500, 10.0, 5000, None, None),
    ("Short pipe SN 2,5 DN 800 PN 6", 800, 6.0, 2500, None, None),
    ("Short pipe 600/10/5/I/B", 600, 10.0, 5000, "Iso", "Biaxial"),
    ("Short pipe/400/6/5/O/U", 400, 6.0, 5000, "Ortho", "Uniaxial"),
    ("SHORT-PIPE 300 6 5 ortho biaxial", 300, 6.0, 5000, "Ortho", "Biaxial"),
]


@pytest.mark.parametrize(("text", "dn", "pn", "sn", "resin", "reinforcement"), SHORT_PIPES)
def test_reads_short_pipes_in_the_space_separated_form(text, dn, pn, sn, resin, reinforcement):
    a = parse_designation(text)
    assert (a.family, a.product_type) == (CONDUIT, "Short pipe")
    assert (a.dn, a.pn, a.sn, a.resin, a.reinforcement) == (dn, pn, sn, resin, reinforcement)


FITTINGS = [
    # text, product type, dn, dn2, pn, sn, angle, resin
    ("Coude 30°/500/10/5/O", "Coude", 500, None, 10.0, 5000, 30.0, "Ortho"),
    ("Coude 11°/300/6/2.5", "Coude", 300, None, 6.0, 2500, 11.0, None),
    ("Coude 22,5º/300/16/10", "Coude", 300, None, 16.0, 10000, 22.5, None),
    ("COUDE 90 °/1200/1/2.5/VI/B", "Coude", 1200, None, 1.0, 2500, 90.0, "Vinylester+Iso"),
    ("Coude 45˚/800/10/5", "Coude", 800, None, 10.0, 5000, 45.0, None),
    ("Coude à 45°/800/10/5", "Coude", 800, None, 10.0, 5000, 45.0, None),
    ("Coude/500/10/5", "Coude", 500, None, 10.0, 5000, None, None),
    ("Coude 45° DN 600 PN 10 SN 5000", "Coude", 600, None, 10.0, 5000, 45.0, None),
    ("Té Concentrique/600/200/10/5/O", "Té Concentrique", 600, 200, 10.0, 5000, None, "Ortho"),
    ("TE CONCENTRIQUE/1000/400/6/2,5", "Té Concentrique", 1000, 400, 6.0, 2500, None, None),
    ("Té Tangentiel/800/300/16/10", "Té Tangentiel", 800, 300, 16.0, 10000, None, None),
    ("Te tangentiel / 500 / 150 / 10 / 5 / I", "Té Tangentiel", 500, 150, 10.0, 5000, None, "Iso"),
    ("Cone Réduction/800/600/10/5", "Cone Réduction", 800, 600, 10.0, 5000, None, None),
    ("Cône de réduction 700 500 10 5", "Cone Réduction", 700, 500, 10.0, 5000, None, None),
    ("CONE REDUCTION/1200/1000/6/5/V", "Cone Réduction", 1200, 1000, 6.0, 5000, None, "Vinylester"),
    ("Reduction/800/600/6/5", "Reduction", 800, 600, 6.0, 5000, None, None),
    ("Réduction/400/300/16/10/O", "Reduction", 400, 300, 16.0, 10000, None, "Ortho"),
]


@pytest.mark.parametrize(("text", "kind", "dn", "dn2", "pn", "sn", "angle", "resin"), FITTINGS)
def test_reads_special_fittings_with_their_angle_or_second_diameter(
    text, kind, dn, dn2, pn, sn, angle, resin
):
    a = parse_designation(text)
    assert (a.family, a.product_type) == (SPECIAL_FITTINGS, kind)
    assert (a.dn, a.dn2, a.pn, a.sn, a.angle, a.resin) == (dn, dn2, pn, sn, angle, resin)


ACCESSORIES = [
    # text, family, product type, dn, pn
    ("Raccord/500/10", COUPLINGS, "Raccord", 500, 10.0),
    ("RACCORD / 1400 / 2,5", COUPLINGS, "Raccord", 1400, 2.5),
    ("Raccords/DN300/PN16", COUPLINGS, "Raccord", 300, 16.0),
    ("Kit de raccordement DN500", KITS, "Kit", 500, None),
    ("Kit lubrifiant 1 kg", KITS, "Kit", None, None),
    ("Kit 2 composants DN 800 PN 10", KITS, "Kit", 800, 10.0),
    ("Kit de raccordement DN500, PN10.", KITS, "Kit", 500, 10.0),
    ("Materiele de pose", KITS, "Matériel", None, None),
    ("Joint REKA EPDM 500", GASKETS, "Joint", 500, None),
    ("Joint/600/10", GASKETS, "Joint", 600, 10.0),
    ("joint epdm dn1200", GASKETS, "Joint", 1200, None),
    ("Stoppeur/500", STOPPERS, "Stoppeur", 500, None),
    ("Stoppeur DN 300", STOPPERS, "Stoppeur", 300, None),
    ("stoppers 400", STOPPERS, "Stoppeur", 400, None),
    ("STOPPER/700/6", STOPPERS, "Stoppeur", 700, 6.0),
]


@pytest.mark.parametrize(("text", "family", "kind", "dn", "pn"), ACCESSORIES)
def test_reads_couplings_kits_gaskets_and_stoppers(text, family, kind, dn, pn):
    a = parse_designation(text)
    assert (a.family, a.product_type, a.dn, a.pn) == (family, kind, dn, pn)
    assert (a.resin, a.reinforcement, a.angle) == (None, None, None)


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", float("nan"), pd.NA, "Résine polyester", "Palette bois", "Test", "CX/500/10",
     "Cable 500/10", 12345, "C-500-10-5", "T/500/10"],
)  # fmt: skip
def test_leaves_unknown_designations_entirely_unparsed(text):
    assert parse_designation(text) == ProductAttributes()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C/abc/10/5/O/B", {"dn": None, "pn": 10.0, "sn": 5000, "resin": "Ortho"}),
        ("C/500/10", {"dn": 500, "pn": 10.0, "sn": None, "resin": None}),
        ("C/500/10/5/X/Z", {"dn": 500, "sn": 5000, "resin": None, "reinforcement": None}),
        ("C/99999/10/5/O/B", {"dn": None, "pn": 10.0}),
        ("C/500/0/5/O/B", {"dn": 500, "pn": None}),
        ("C/500/10/0.1/O/B", {"sn": None}),
        ("Coude 400°/500/10/5", {"angle": None, "dn": 500}),
        ("Raccord/2,5/10", {"dn": None, "pn": 10.0}),
    ],
)
def test_keeps_the_fields_that_parse_and_nulls_the_others(text, expected):
    a = parse_designation(text).as_dict()
    assert a["family"] is not None
    assert {k: a[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "angle", "dn", "pn", "sn"),
    [
        ("Coude 90 500 10 5", 90.0, 500, 10.0, 5000),
        ("Coude 500 10 5", None, 500, 10.0, 5000),
        ("Coude 30 DN500 PN10 SN5", 30.0, 500, 10.0, 5000),
    ],
)
def test_a_space_separated_elbow_takes_a_leading_extra_number_as_its_angle(text, angle, dn, pn, sn):
    a = parse_designation(text)
    assert (a.angle, a.dn, a.pn, a.sn) == (angle, dn, pn, sn)


@pytest.mark.parametrize(
    ("lot", "expected"),
    [
        ("FW2403123", LotCode("FW", 2024, 3, "03123")),
        ("cw2312045", LotCode("CW", 2023, 12, "12045")),
        (" M1 24 07 999 ", LotCode("M1", 2024, 7, "07999")),
        ("M12413999", LotCode("M1", 2024, None, "13999")),
        ("M12400999", LotCode("M1", 2024, None, "00999")),
        ("FW24031234567", LotCode("FW", 2024, 3, "03123")),
        ("FW2403", LotCode("FW", 2024, 3, None)),
        ("FW24", LotCode("FW", 2024, None, None)),
        (1224031234, LotCode("12", 2024, 3, "03123")),
        (1224031234.0, LotCode("12", 2024, 3, "03123")),
        ("FW-2403-123", LotCode()),
        ("ABCD", LotCode()),
        ("F", LotCode()),
        ("", LotCode()),
        (None, LotCode()),
        (float("nan"), LotCode()),
    ],
)
def test_reads_machine_year_month_and_serial_from_a_lot_code(lot, expected):
    assert parse_lot(lot) == expected


def test_the_designation_and_the_lot_give_one_complete_record():
    a = parse_designation("C/500/10/5/O/B", lot="FW2403123", article="C0500101", location="A01")
    assert a.as_dict() == {
        "family": CONDUIT, "product_type": "Conduit", "dn": 500, "dn2": None, "pn": 10.0,
        "sn": 5000, "resin": "Ortho", "reinforcement": "Biaxial", "angle": None,
        "lot_machine": "FW", "lot_year": 2024, "lot_month": 3, "lot_serial": "03123",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("article", "designation", "location"),
    [
        ("MP0001", "Résine polyester orthophtalique", "MP01"),
        ("MP0102", "Fibre de verre roving 2400 tex", None),
        ("mp0003", "Sable de silice", "A01"),
        ("  MP0004", None, None),
        ("R0001", "Résine", "MP-SILO1"),
        ("X1", "C/500/10/5/O/B", "MP02"),
    ],
)
def test_articles_or_locations_starting_with_mp_are_raw_materials(article, designation, location):
    assert family_of(article, designation, location) == RAW_MATERIALS
    a = parse_designation(designation, lot="FW2403123", article=article, location=location)
    assert a.family == RAW_MATERIALS
    assert (a.lot_machine, a.lot_year, a.lot_month, a.lot_serial) == (None, None, None, None)


@pytest.mark.parametrize(
    ("article", "designation", "location", "family"),
    [
        ("C0500101", "C/500/10/5/O/B", "A01", CONDUIT),
        ("SP0500", "Short pipe 500 10 5 O B", None, CONDUIT),
        ("CD000123", "Coude 30°/500/10/5", "B02", SPECIAL_FITTINGS),
        ("RC050010", "Raccord/500/10", None, COUPLINGS),
        ("KT0001", "Kit de raccordement DN500", None, KITS),
        ("JT0500", "Joint REKA EPDM 500", None, GASKETS),
        ("ST0500", "Stoppeur/500", None, STOPPERS),
        ("AMPOULE", "Palette bois", "EMP01", None),
        (None, None, None, None),
    ],
)
def test_family_follows_the_designation_when_not_a_raw_material(
    article, designation, location, family
):
    assert family_of(article, designation, location) == family


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Materiele", KITS),
        ("Matériel", KITS),
        ("MATERIEL", KITS),
        ("Pièces spéciales", SPECIAL_FITTINGS),
        ("pieces  speciales", SPECIAL_FITTINGS),
        ("Conduit", CONDUIT),
        ("Matieres premieres", RAW_MATERIALS),
        ("Stoppeurs", STOPPERS),
        ("Raccords", COUPLINGS),
        ("Joints", GASKETS),
        ("Inconnu", None),
        (None, None),
    ],
)
def test_family_names_are_accepted_in_old_and_folded_spellings(name, family):
    assert canonical_family(name) == family


def test_every_family_maps_to_itself():
    assert [canonical_family(f) for f in FAMILIES] == list(FAMILIES)


def test_attribute_fields_follow_the_shared_schema_in_order():
    assert tuple(f.name for f in PRODUCT_ATTRIBUTE_FIELDS) == ATTRIBUTE_NAMES


def test_the_vectorised_parser_agrees_with_the_single_row_parser():
    designations = [text for text, *_ in PIPES + SHORT_PIPES + FITTINGS + ACCESSORIES]
    designations += [None, "Résine polyester", "Fibre de verre"]
    n = len(designations)
    lots = ["FW2403123", None, "M12413999", "bad lot", float("nan")] * n
    articles = ["C0500101", "MP0001", None] * n
    locations = [None, None, None, "MP01"] * n
    frame = parse_designations(designations, lots[:n], articles[:n], locations[:n])
    assert list(frame.columns) == list(ATTRIBUTE_NAMES)
    assert len(frame) == n
    for i in range(n):
        expected = parse_designation(
            designations[i], lot=lots[i], article=articles[i], location=locations[i]
        ).as_dict()
        got = {k: (None if pd.isna(v) else v) for k, v in frame.iloc[i].to_dict().items()}
        assert got == expected, designations[i]


def test_the_vectorised_parser_types_its_columns_and_accepts_pandas_and_numpy_inputs():
    designations = pd.Series(["C/500/10/5/O/B", None, "Coude 30°/500/10/5"] * 1000)
    lots = np.array(["FW2403123", None, "XX"] * 1000, dtype=object)
    frame = parse_designations(designations, lots, pd.Series([None] * 3000), None)
    assert str(frame["dn"].dtype) == "Int64"
    assert str(frame["pn"].dtype) == "Float64"
    assert str(frame["angle"].dtype) == "Float64"
    assert isinstance(frame["family"].dtype, pd.StringDtype)
    assert frame["family"].value_counts().to_dict() == {CONDUIT: 1000, SPECIAL_FITTINGS: 1000}
    assert frame["angle"].sum() == 30.0 * 1000
    assert frame["lot_year"].isna().sum() == 2000
    assert math.isclose(frame["pn"].mean(), 10.0)


def test_the_vectorised_parser_handles_empty_input():
    frame = parse_designations([])
    assert frame.shape == (0, len(ATTRIBUTE_NAMES))


def test_the_vectorised_parser_rejects_sequences_of_different_lengths():
    with pytest.raises(ValueError, match="lots"):
        parse_designations(["C/500/10/5/O/B"], lots=[])


@pytest.mark.parametrize(
    ("article", "location", "raw"),
    [
        ("MP-RESINE-01", None, True),
        ("  mp-fibre", "", True),  # trimmed, any case
        ("PF-TUBE-600", "MP-STOCK", True),  # stored among raw materials
        ("PF-TUBE-600", "A1", False),
        ("M P-01", None, False),
        ("", "", False),
        (None, None, False),
        (float("nan"), 12.0, False),
        (np.str_("MP-9"), None, True),  # not a plain str: the general path
    ],
)
def test_raw_materials_are_told_by_the_start_of_article_or_location(
    article: object, location: object, raw: bool
) -> None:
    assert is_raw_material(article, location) is raw
