"""Country names: one English name for each country, whatever the spelling in the source.

Customer files mix languages ('Allemagne' and 'Germany', 'États-Unis' and 'USA'), so counts
per country must go through `normalize_country`. Matching ignores case, accents, punctuation
and a leading article ('la France', 'the Netherlands'). A name that is not recognised is kept
as written (with its spaces tidied), so nothing is silently merged or lost.
"""

from __future__ import annotations

import re
import unicodedata

# English name -> other spellings (French, native, English variants, common abbreviations).
# The English name itself always matches and need not be repeated.
_ALIASES: dict[str, tuple[str, ...]] = {
    "Afghanistan": (),
    "Albania": ("albanie", "shqiperia"),
    "Algeria": ("algerie", "al jazair"),
    "Angola": (),
    "Argentina": ("argentine",),
    "Australia": ("australie",),
    "Austria": ("autriche", "osterreich", "oesterreich"),
    "Bahrain": ("bahrein",),
    "Bangladesh": (),
    "Belgium": ("belgique", "belgie", "belgien"),
    "Benin": (),
    "Botswana": (),
    "Brazil": ("bresil", "brasil"),
    "Bulgaria": ("bulgarie",),
    "Burkina Faso": (),
    "Burundi": (),
    "Cameroon": ("cameroun",),
    "Canada": (),
    "Chile": ("chili",),
    "China": ("chine", "prc", "people s republic of china", "zhongguo"),
    "Colombia": ("colombie",),
    "Côte d'Ivoire": ("ivory coast", "cote divoire"),
    "Croatia": ("croatie", "hrvatska"),
    "Cyprus": ("chypre",),
    "Czechia": ("czech republic", "tchequie", "republique tcheque", "cesko"),
    "Democratic Republic of the Congo": (
        "congo drc",
        "drc",
        "dr congo",
        "republique democratique du congo",
        "rdc",
        "congo kinshasa",
    ),
    "Denmark": ("danemark", "danmark"),
    "Dominican Republic": ("republique dominicaine",),
    "Egypt": ("egypte", "misr"),
    "Estonia": ("estonie",),
    "Eswatini": ("swaziland",),
    "Ethiopia": ("ethiopie",),
    "Finland": ("finlande", "suomi"),
    "France": (),
    "Germany": ("allemagne", "deutschland", "rfa"),
    "Ghana": (),
    "Greece": ("grece", "hellas", "ellada"),
    "Guatemala": (),
    "Guinea": ("guinee",),
    "Guyana": (),
    "Haiti": (),
    "Hong Kong": (),
    "Hungary": ("hongrie", "magyarorszag"),
    "Iceland": ("islande", "island"),
    "India": ("inde", "bharat"),
    "Indonesia": ("indonesie",),
    "Iran": (),
    "Iraq": ("irak",),
    "Ireland": ("irlande", "eire", "republic of ireland"),
    "Israel": (),
    "Italy": ("italie", "italia"),
    "Japan": ("japon", "nippon", "nihon"),
    "Jordan": ("jordanie",),
    "Kazakhstan": (),
    "Kenya": (),
    "Kuwait": ("koweit",),
    "Kyrgyzstan": ("kirghizistan",),
    "Latvia": ("lettonie",),
    "Lebanon": ("liban",),
    "Lesotho": (),
    "Liberia": (),
    "Libya": ("libye",),
    "Lithuania": ("lituanie",),
    "Luxembourg": (),
    "Malawi": (),
    "Malaysia": ("malaisie",),
    "Mali": (),
    "Malta": ("malte",),
    "Mauritania": ("mauritanie",),
    "Mexico": ("mexique",),
    "Morocco": ("maroc", "al maghrib"),
    "Mozambique": (),
    "Namibia": ("namibie",),
    "Netherlands": ("pays bas", "nederland", "holland", "hollande"),
    "New Zealand": ("nouvelle zelande",),
    "Nigeria": (),
    "Norway": ("norvege", "norge"),
    "Oman": (),
    "Pakistan": (),
    "Peru": ("perou",),
    "Philippines": (),
    "Poland": ("pologne", "polska"),
    "Portugal": (),
    "Qatar": (),
    "Romania": ("roumanie",),
    "Russia": ("russie", "russian federation", "federation de russie", "rossiya"),
    "Rwanda": (),
    "Saudi Arabia": ("arabie saoudite", "ksa", "kingdom of saudi arabia"),
    "Senegal": (),
    "Serbia": ("serbie",),
    "Sierra Leone": (),
    "Singapore": ("singapour",),
    "Slovakia": ("slovaquie",),
    "Slovenia": ("slovenie",),
    "South Africa": ("afrique du sud", "rsa"),
    "South Korea": ("coree du sud", "korea", "republic of korea", "korea republic of"),
    "South Sudan": ("soudan du sud",),
    "Spain": ("espagne", "espana"),
    "Sudan": ("soudan",),
    "Sweden": ("suede", "sverige"),
    "Switzerland": ("suisse", "schweiz", "svizzera"),
    "Syria": ("syrie",),
    "Taiwan": (),
    "Tanzania": ("tanzanie",),
    "Thailand": ("thailande",),
    "Togo": (),
    "Tunisia": ("tunisie",),
    "Turkey": ("turquie", "turkiye"),
    "Uganda": ("ouganda",),
    "Ukraine": (),
    "United Arab Emirates": ("emirats arabes unis", "uae", "eau", "emirates"),
    "United Kingdom": (
        "royaume uni",
        "uk",
        "u k",
        "gb",
        "great britain",
        "grande bretagne",
        "britain",
        "england",
        "angleterre",
    ),
    "United States": (
        "etats unis",
        "etats unis d amerique",
        "usa",
        "u s a",
        "us",
        "u s",
        "united states of america",
        "america",
        "amerique",
    ),
    "Vietnam": ("viet nam",),
    "Yemen": (),
    "Zambia": ("zambie",),
    "Zimbabwe": (),
}

_LEADING_ARTICLES = ("the ", "le ", "la ", "les ", "l ")


def _fold(text: str) -> str:
    raw = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"[^a-z0-9]+", " ", raw.lower()).strip()
    for article in _LEADING_ARTICLES:
        if folded.startswith(article) and len(folded) > len(article):
            return folded[len(article) :]
    return folded


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for english, aliases in _ALIASES.items():
        for spelling in (english, *aliases):
            index[_fold(spelling)] = english
    return index


_INDEX = _build_index()


def normalize_country(name: str) -> str:
    """The English name of the country `name` spells, or `name` tidied when not recognised.

    >>> normalize_country("Allemagne"), normalize_country(" états-unis "), normalize_country("UK")
    ('Germany', 'United States', 'United Kingdom')
    >>> normalize_country("Atlantis")
    'Atlantis'
    """
    tidy = " ".join(str(name).split())
    return _INDEX.get(_fold(tidy), tidy)


def known_countries() -> tuple[str, ...]:
    """Every English name `normalize_country` can return for a recognised spelling."""
    return tuple(sorted(_ALIASES))
