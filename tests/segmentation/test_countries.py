from __future__ import annotations

import pandas as pd
import pytest

from core.domain.countries import known_countries, normalize_country


@pytest.mark.parametrize(
    ("spelling", "english"),
    [
        ("Allemagne", "Germany"),
        ("États-Unis", "United States"),
        ("Etats Unis", "United States"),
        ("USA", "United States"),
        ("United States", "United States"),
        ("Royaume-Uni", "United Kingdom"),
        ("UK", "United Kingdom"),
        ("Maroc", "Morocco"),
        ("Espagne", "Spain"),
        ("Chine", "China"),
        ("Japon", "Japan"),
        ("Inde", "India"),
        ("Italie", "Italy"),
        ("Brésil", "Brazil"),
        ("Mexique", "Mexico"),
        ("Russie", "Russia"),
        ("Pays-Bas", "Netherlands"),
        ("the Netherlands", "Netherlands"),
        ("Belgique", "Belgium"),
        ("Suisse", "Switzerland"),
        ("Égypte", "Egypt"),
        ("Algérie", "Algeria"),
        ("Tunisie", "Tunisia"),
        ("Arabie saoudite", "Saudi Arabia"),
        ("Émirats arabes unis", "United Arab Emirates"),
        ("Corée du Sud", "South Korea"),
        ("Australie", "Australia"),
        ("Suède", "Sweden"),
        ("Norvège", "Norway"),
        ("Pologne", "Poland"),
        ("Turquie", "Turkey"),
        ("Irlande", "Ireland"),
        ("EIRE", "Ireland"),
        ("Grèce", "Greece"),
        ("Autriche", "Austria"),
        ("Danemark", "Denmark"),
        ("Finlande", "Finland"),
        ("Canada", "Canada"),
        ("  la   France ", "France"),
        ("PORTUGAL", "Portugal"),
    ],
)
def test_maps_each_spelling_to_the_english_name(spelling: str, english: str) -> None:
    assert normalize_country(spelling) == english


def test_keeps_an_unknown_name_as_written_with_spaces_tidied() -> None:
    assert normalize_country("  Grand   Fenwick ") == "Grand Fenwick"


def test_every_english_name_maps_to_itself() -> None:
    assert all(normalize_country(name) == name for name in known_countries())


def test_merges_the_seed_customers_fourteen_spellings_into_eleven_countries(
    seed_customers: pd.DataFrame,
) -> None:
    countries = seed_customers["Country"]
    assert countries.nunique() == 14
    normalised = countries.map(normalize_country)
    assert sorted(normalised.unique()) == [
        "Canada",
        "China",
        "Finland",
        "France",
        "Germany",
        "India",
        "Netherlands",
        "Norway",
        "Sweden",
        "United Kingdom",
        "United States",
    ]
    assert int((normalised == "Germany").sum()) == 134 + 133
