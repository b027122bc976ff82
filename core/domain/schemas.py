"""The three datasets a user can load: their fields, types, natural keys and name aliases.

A `Field` is one column of a dataset after mapping. `kind` drives coercion and storage:

    code     text that must keep leading zeros ('0001' stays '0001')
    text     free text
    integer  whole number
    decimal  number with decimals (decimal commas accepted on input)
    date     calendar date (Excel serial, ISO or dd/mm/yyyy on input)
    time     time of day, stored as 'HH:MM:SS' text

`name` is the storage name (snake_case); `label` is what the source system calls it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Kind = Literal["code", "text", "integer", "decimal", "date", "time"]

STOCK_MOVEMENTS = "stock_movements"
DELIVERIES = "deliveries"
CUSTOMERS = "customers"
DATASET_NAMES = (STOCK_MOVEMENTS, DELIVERIES, CUSTOMERS)


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    label: str = ""
    required: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # Customers keep unmapped columns as typed attributes instead of rejecting them.
    keeps_extra_columns: bool = False

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


# The ERP export's 58 columns in order, with their kinds (see the replaced system's loader).
# fmt: off
_ERP_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("Site", "code"), ("Depot", "code"), ("Article", "code"), ("Designation_1", "text"),
    ("Imputation", "code"), ("Lot", "code"), ("Slot", "code"), ("Version_majeure", "code"),
    ("Version_mineure", "code"), ("Serie_debut", "code"), ("Serie_fin", "code"),
    ("Quantite", "decimal"), ("UC", "code"), ("Quantite_US", "decimal"), ("US", "code"),
    ("Statut", "code"), ("Emplacement", "code"), ("Identifiant_1", "code"),
    ("Identifiant_2", "code"), ("Dem_analyse", "code"), ("Type_mouvement", "text"),
    ("Designation_mvt", "text"), ("Affaire", "code"), ("Tiers", "code"), ("Type_piece", "code"),
    ("Piece", "code"), ("No_ligne", "integer"), ("Type_piece_origine", "code"),
    ("Piece_origine", "code"), ("No_ligne_piece_orig", "integer"), ("Lot_fourn", "code"),
    ("Peremption", "date"), ("DLU", "date"), ("Recontrole", "date"), ("Titre", "decimal"),
    ("Quantite_active", "decimal"), ("UC_origine", "code"), ("Coeff_origine", "decimal"),
    ("Devise", "code"), ("Montant_ordre", "decimal"), ("Montant_mouvement", "decimal"),
    ("Prix_valorise", "decimal"), ("Variation_ordre", "decimal"), ("Nature_prix_origine", "code"),
    ("Variation_mouvement", "decimal"), ("Ecart_non_absorbe", "decimal"), ("Prix_ordre", "decimal"),
    ("Affaires", "code"), ("Budget", "code"), ("Produits", "code"),
    ("Famille_mouvement_stock", "code"), ("Piece_comptable", "code"), ("Type_de_piece", "code"),
    ("Proprietaire", "code"), ("Inter_societes", "code"), ("Operateur_creation", "code"),
    ("Date_creation", "date"), ("Heure", "time"),
)
# fmt: on
ERP_COLUMN_LABELS: tuple[str, ...] = tuple(label for label, _ in _ERP_COLUMNS)

_ERP_REQUIRED = {"Article", "Quantite", "Type_mouvement", "Piece", "No_ligne", "Date_creation"}
_ERP_ALIASES: dict[str, tuple[str, ...]] = {
    "Article": ("item", "item code", "code article", "sku"),
    "Designation_1": ("designation", "description", "libelle", "item description"),
    "Quantite": ("quantity", "qty", "qte"),
    "Type_mouvement": ("movement type", "type de mouvement"),
    "Piece": ("document", "document number", "numero piece", "no piece"),
    "No_ligne": ("line", "line number", "ligne", "numero ligne"),
    "Tiers": ("third party", "customer", "client"),
    "Date_creation": ("date", "creation date", "date de creation"),
    "Heure": ("time", "hour"),
    "Devise": ("currency",),
    "Montant_mouvement": ("movement amount", "amount", "montant"),
    "Emplacement": ("location", "storage location"),
}

STOCK_MOVEMENT_FIELDS = tuple(
    Field(
        name=label.lower(),
        kind=kind,
        label=label,
        required=label in _ERP_REQUIRED,
        aliases=_ERP_ALIASES.get(label, ()),
    )
    for label, kind in _ERP_COLUMNS
)

# Product attributes parsed from the designation and the lot, stored beside each movement.
PRODUCT_ATTRIBUTE_FIELDS: tuple[Field, ...] = (
    Field("family", "text", "Family"),
    Field("product_type", "text", "Product type"),
    Field("dn", "integer", "DN (mm)"),
    Field("dn2", "integer", "Second DN (mm)"),
    Field("pn", "decimal", "PN (bar)"),
    Field("sn", "integer", "SN (N/m²)"),
    Field("resin", "text", "Resin"),
    Field("reinforcement", "text", "Reinforcement"),
    Field("angle", "decimal", "Angle (°)"),
    Field("lot_machine", "code", "Machine"),
    Field("lot_year", "integer", "Lot year"),
    Field("lot_month", "integer", "Lot month"),
    Field("lot_serial", "code", "Pipe serial"),
)

STOCK_MOVEMENTS_DATASET = Dataset(
    name=STOCK_MOVEMENTS,
    title="Stock movements",
    fields=STOCK_MOVEMENT_FIELDS,
    key=("piece", "no_ligne", "article", "lot"),
)

DELIVERIES_DATASET = Dataset(
    name=DELIVERIES,
    title="Deliveries",
    fields=(
        Field(
            "delivery_no",
            "code",
            "Delivery note",
            True,
            (
                "piece",
                "asn/dn #",
                "delivery note",
                "bon de livraison",
                "bl",
                "order id",
                "delivery",
                "numero livraison",
                "invoice",
                "invoice no",
                "facture",
                "id",
            ),
        ),
        Field("line_no", "integer", "Line", False, ("no_ligne", "line", "line number", "ligne")),
        Field(
            "customer",
            "code",
            "Customer",
            False,
            ("tiers", "client", "customer id", "customer code", "consignee"),
        ),
        Field(
            "delivery_date",
            "date",
            "Delivery date",
            True,
            (
                "date",
                "date_creation",
                "delivered to client date",
                "order date",
                "date de livraison",
                "delivery recorded date",
                "invoice date",
                "date facture",
            ),
        ),
        Field(
            "article",
            "code",
            "Article",
            False,
            ("item", "product id", "sku", "code article", "product code", "stock code"),
        ),
        Field(
            "designation",
            "text",
            "Designation",
            False,
            ("designation_1", "item description", "description", "product", "libelle"),
        ),
        Field(
            "quantity",
            "decimal",
            "Quantity",
            False,
            ("quantite", "qty", "line item quantity", "unit quantity", "qte"),
        ),
        Field("unit", "code", "Unit", False, ("uc", "uom", "unit of measure")),
        Field(
            "amount",
            "decimal",
            "Amount",
            False,
            ("montant_mouvement", "line item value", "value", "montant"),
        ),
        Field("currency", "code", "Currency", False, ("devise",)),
        Field("weight_kg", "decimal", "Weight (kg)", False, ("weight", "weight (kilograms)")),
        Field("country", "text", "Country", False, ("pays", "destination port")),
        Field("carrier", "text", "Carrier", False, ("transporteur", "shipment mode")),
        Field("site", "code", "Site", False, ("plant code", "origin port")),
        Field("lot", "code", "Lot", False, ()),
    ),
    key=("delivery_no", "line_no"),
)

CUSTOMERS_DATASET = Dataset(
    name=CUSTOMERS,
    title="Customers",
    fields=(
        Field(
            "customer_id",
            "code",
            "Customer ID",
            True,
            (
                "customerid",
                "customer id",
                "id client",
                "client id",
                "code client",
                "tiers",
                "customer",
                "customer code",
            ),
        ),
        Field("name", "text", "Name", False, ("customer name", "nom", "raison sociale", "company")),
        Field("country", "text", "Country", False, ("pays",)),
        Field("city", "text", "City", False, ("ville",)),
        Field("status", "text", "Status", False, ("statut",)),
    ),
    key=("customer_id",),
    keeps_extra_columns=True,
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (STOCK_MOVEMENTS_DATASET, DELIVERIES_DATASET, CUSTOMERS_DATASET)
}


def normalize_header(text: object) -> str:
    """Comparable form of a column header: accents, case, spaces and punctuation folded.

    >>> normalize_header("  Désignation_1 ")
    'designation 1'
    """
    raw = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9#/%()$]+", " ", raw.lower()).strip()
