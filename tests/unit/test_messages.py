"""The wire format: the column-at-a-time encoder gives exactly the row encoder's messages."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from core.codec import to_json_value
from core.domain.schemas import CUSTOMERS, STOCK_MOVEMENTS
from core.messages import decode, encode, encode_frame
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
    return [(m.key, m.value, m.headers) for m in messages]


def test_encode_frame_gives_the_row_encoders_messages() -> None:
    frame = _frame()
    rows = frame.to_dict("records")
    by_row = _as_list(encode(STOCK_MOVEMENTS, iter(rows), upload_id="u1", sheet="S"))
    by_column = _as_list(encode_frame(STOCK_MOVEMENTS, frame, upload_id="u1", sheet="S"))
    assert by_column == by_row
    assert [key for key, _, _ in by_column][:2] == ["BL-001|1|0101|L1", "BL-001|2|A-2|"]
    first, second = by_column[0][1]["data"], by_column[1][1]["data"]
    assert first["date"] == "2024-01-31" and first["article"] == "0101"
    assert second["date"] is None and second["type_mouvement"] is None
    assert by_column[2][1]["data"]["date"] == "2024-02-01T13:45:00"
    assert by_column[2][1]["data"]["quantite"] is None


def test_missing_dates_travel_as_null_not_text() -> None:
    assert to_json_value(pd.NaT) is None
    assert to_json_value(np.datetime64("NaT")) is None
    assert to_json_value(dt.datetime(2024, 5, 1)) == "2024-05-01"


def test_a_frame_without_source_columns_takes_the_given_sheet() -> None:
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["Ana", None]})
    messages = list(encode_frame(CUSTOMERS, frame, upload_id="u2", sheet="Clients"))
    assert [m.key for m in messages] == ["C1", "C2"]
    assert [m.value["sheet"] for m in messages] == ["Clients", "Clients"]
    assert [m.value["seq"] for m in messages] == [0, 1]
    decoded = decode(
        Record(
            topic="t",
            partition=0,
            offset=0,
            key=b"C2",
            value=json.dumps(messages[1].value).encode(),
        )
    )
    assert decoded.data["customer_id"] == "C2" and decoded.data["name"] is None
