"""The wire format: the column-at-a-time encoder gives exactly the row encoder's messages;
sparse messages; what `decode` reads and refuses."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from core.adapters.queue_bus import encode_value
from core.codec import from_json_value, to_json_value
from core.domain.schemas import CUSTOMERS, STOCK_MOVEMENTS
from core.errors import PoisonMessage
from core.messages import decode, encode, encode_frame, upload_of
from core.ports import Record


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": [2, 3, 4, 5],
            "sheet": ["Mouvements"] * 4,
            "piece": ["BL-001", "BL-001", "00042", "BL-003"],
            "no_ligne": [1, 2, 1, 1],
            "article": ["0101", "A-2", None, "=cmd"],
            "lot": ["L1", None, "L3", "L4"],
            "quantite": [1.5, -0.0, np.nan, 3.0],
            "date": pd.to_datetime(
                ["2024-01-31", None, "2024-02-01 13:45", "2024-02-02"], format="ISO8601"
            ),
            "type_mouvement": pd.Categorical(["Livraison client", None, "Entrée", "Entrée"]),
            "attributes": [{"a": 1}, {}, {"b": None}, {"c": "x"}],
        }
    )


def _as_list(messages):
    """(key, value, headers) of each message, values read back from JSON when encoded."""
    return [
        (m.key, json.loads(m.value) if isinstance(m.value, bytes) else m.value, m.headers)
        for m in messages
    ]


def test_encode_frame_gives_the_row_encoders_messages() -> None:
    frame = _frame()
    rows = frame.to_dict("records")
    by_row = _as_list(encode(STOCK_MOVEMENTS, iter(rows), upload_id="u1", sheet="S"))
    by_column = _as_list(encode_frame(STOCK_MOVEMENTS, frame, upload_id="u1", sheet="S"))
    assert by_column == by_row
    assert [key for key, _, _ in by_column][:2] == ["BL-001|1|0101|L1", "BL-001|2|A-2|"]
    first, second = by_column[0][1]["data"], by_column[1][1]["data"]
    assert first["date"] == "2024-01-31" and first["article"] == "0101"
    assert "date" not in second and "type_mouvement" not in second  # missing: left out
    assert by_column[2][1]["data"]["date"] == "2024-02-01T13:45:00"
    assert "quantite" not in by_column[2][1]["data"] and "article" not in by_column[2][1]["data"]


def test_missing_dates_travel_as_null_not_text() -> None:
    assert to_json_value(pd.NaT) is None
    assert to_json_value(np.datetime64("NaT")) is None
    assert to_json_value(dt.datetime(2024, 5, 1)) == "2024-05-01"


def test_a_frame_without_source_columns_takes_the_given_sheet() -> None:
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["Ana", None]})
    messages = list(encode_frame(CUSTOMERS, frame, upload_id="u2", sheet="Clients"))
    assert [m.key for m in messages] == ["C1", "C2"]
    values = [json.loads(m.value) for m in messages]
    assert [v["sheet"] for v in values] == ["Clients", "Clients"]
    assert [v["seq"] for v in values] == [0, 1]
    decoded = decode(
        Record(
            topic="t",
            partition=0,
            offset=0,
            key=b"C2",
            value=messages[1].value,
        )
    )
    assert decoded.data["customer_id"] == "C2" and decoded.data["name"] is None


def _record(value: bytes) -> Record:
    return Record(topic="t", partition=0, offset=0, key="k", value=value)


def _envelope(data: dict) -> dict:
    return {"v": 1, "dataset": STOCK_MOVEMENTS, "upload_id": "u", "seq": 3, "row": 5, "data": data}


_ROW = b'{"v": 1, "dataset": "stock_movements", "upload_id": "u", "data": '
KEY = {"piece": "BL-1", "no_ligne": 1, "article": "A1", "lot": "L1"}


def test_sparse_and_full_messages_decode_alike() -> None:
    sparse = {**KEY, "quantite": 2.5, "date_creation": "2024-01-02"}
    full = {**sparse, "tiers": None, "designation_1": "", "dn": None}
    decoded = [decode(_record(json.dumps(_envelope(d)).encode())) for d in (sparse, full)]
    assert decoded[0] == decoded[1]
    assert decoded[0].data["tiers"] is None and decoded[0].data["designation_1"] is None
    assert decoded[0].data["date_creation"] == dt.date(2024, 1, 2)


def test_encode_value_gives_the_standard_encoders_bytes() -> None:
    values = [
        {"a": 1, "b": -0.0, "c": 'Pièce "7" \\ \n', "d": None, "e": [1, {"f": True}]},
        {"day": dt.date(2024, 3, 1), "n": np.float64(2.5), "big": 2**70},  # the standard way
    ]
    for value in values:
        standard = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        assert encode_value(value) == standard.encode()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (
            _ROW + b'{"quantite": NaN}}',
            "field quantite: expected a finite number, got nan",
        ),
        (
            _ROW + b'{"quantite": 1e999}}',
            "field quantite: expected a finite number, got inf",
        ),
        (
            _ROW + b'{"dn": 1.5}}',
            "field dn: expected an integer, got 1.5",
        ),
        (b"{not json", "not JSON: Expecting property name enclosed in double quotes"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a Pipeworks row message"),
    ],
)
def test_refused_messages_name_the_reason(value: bytes, error: str) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode(_record(value))
    assert str(caught.value).startswith(error)


def test_numbers_beyond_64_bits_are_refused_not_a_crash() -> None:
    big = json.dumps(_envelope({**KEY, "dn": 2**70})).encode()
    with pytest.raises(PoisonMessage, match="field dn: integer out of the stores' range"):
        decode(_record(big))  # the relational store's integers are 64-bit
    assert decode(_record(json.dumps(_envelope({**KEY, "dn": 2**62})).encode())).data["dn"] == 2**62
    huge = json.dumps(_envelope({**KEY, "montant_mouvement": 10**400})).encode()
    with pytest.raises(PoisonMessage, match="field montant_mouvement"):
        decode(_record(huge))  # a number no float holds is refused, not a crash


def test_a_message_in_utf16_is_read_as_before() -> None:
    value = json.dumps(_envelope({**KEY, "tiers": "Gül"}), ensure_ascii=False)
    assert decode(_record(value.encode("utf-16"))).data["tiers"] == "Gül"


def test_the_upload_of_a_refused_message_is_read_from_its_value_or_header() -> None:
    refused = _record(_ROW + b'{"dn": "many"}}')
    assert upload_of(refused) == "u"
    assert upload_of(_record(b"{")) is None
    old = Record(topic="t", partition=0, offset=0, key="k", value=b"{", headers={"upload_id": "h"})
    assert upload_of(old) == "h"
    assert upload_of(_record(b'["u"]')) is None


def _customer(data: dict) -> Record:
    value = {"v": 1, "dataset": CUSTOMERS, "upload_id": "u3", "seq": 0, "data": data}
    return _record(json.dumps(value).encode())


def test_values_the_relational_store_would_refuse_are_poison_named_by_field() -> None:
    # PostgreSQL refuses NUL in text and integers beyond 64 bits: such a message must never
    # reach the stores, where a refusal would come after its delivery line joined a document.
    with pytest.raises(PoisonMessage, match=r"field name: text holds a NUL character"):
        decode(_customer({"customer_id": "C1", "name": "Ana\x00Lopez"}))
    with pytest.raises(PoisonMessage, match=r"field customer_id: text holds a NUL"):
        decode(_customer({"customer_id": "C\x001"}))
    assert decode(_customer({"customer_id": "C1", "name": "Ana Lopez"})).data["name"] == "Ana Lopez"


def test_integer_range_of_the_codec() -> None:
    assert from_json_value(2**62, "integer") == 2**62
    assert from_json_value("-42", "integer") == -42
    with pytest.raises(ValueError, match="out of the stores' range"):
        from_json_value("-1e19", "integer")
