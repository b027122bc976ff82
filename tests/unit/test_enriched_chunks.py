"""Derived fields computed a chunk at a time (so publishing starts at once) are those of the
whole file."""

from __future__ import annotations

import pandas as pd
import pytest

from core.domain.schemas import CUSTOMERS, DELIVERIES, STOCK_MOVEMENTS
from core.messages import encode_frame
from core.usecases.commit import enrich, enriched_chunks

DESIGNATIONS = [
    "TUBE PRV DN500 PN10 SN5000 RE/VERRE",
    "COUDE 45° DN300 PN6 SN10000",
    "Fibre de verre roving 2400 tex",
    "MANCHON DN200",
    None,
]


def _movements(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": range(2, count + 2),
            "piece": [f"BL{i // 3:05d}" for i in range(count)],
            "designation_1": [DESIGNATIONS[i % len(DESIGNATIONS)] for i in range(count)],
            "lot": [f"L2401{i % 28 + 1:02d}-{i % 97}" if i % 4 else None for i in range(count)],
            "article": [f"MP{i % 5:04d}" if i % 3 == 0 else f"{i % 11:06d}" for i in range(count)],
            "emplacement": ["MP-SILO2" if i % 7 == 0 else "EXPED" for i in range(count)],
        },
        index=range(100, 100 + count),  # a filtered frame keeps its original labels
    )


def _joined(dataset: str, frame: pd.DataFrame, size: int) -> pd.DataFrame:
    chunks = list(enriched_chunks(dataset, frame, size))
    assert [len(c) for c in chunks] == [
        min(size, len(frame) - start) for start in range(0, len(frame), size)
    ]
    return pd.concat(chunks, ignore_index=True)


def _messages(dataset: str, frame: pd.DataFrame) -> list[tuple[str, bytes]]:
    return [(m.key, m.value) for m in encode_frame(dataset, frame, upload_id="u", sheet="S")]


@pytest.mark.parametrize("size", [1, 7, 100, 1000])
def test_movement_attributes_by_chunk_are_the_whole_files(size: int) -> None:
    frame = _movements(250)
    whole = enrich(STOCK_MOVEMENTS, frame)
    assert "family" in whole.columns and whole["family"].notna().any()
    pd.testing.assert_frame_equal(_joined(STOCK_MOVEMENTS, frame, size), whole)


def test_delivery_line_numbers_count_across_chunks() -> None:
    frame = pd.DataFrame(
        {
            "delivery_no": ["D1"] * 5 + ["D2"] * 3 + ["D1"],
            "line_no": [None, None, 7, None, None, None, None, None, None],
            "article": list("abcdefghi"),
        }
    )
    joined = _joined(DELIVERIES, frame, 2)
    # a note's lines are numbered in file order, whichever chunk they fall in
    assert joined["line_no"].tolist() == [1, 2, 7, 4, 5, 1, 2, 3, 6]
    pd.testing.assert_frame_equal(joined, enrich(DELIVERIES, frame))


def test_lines_without_a_number_never_take_a_number_given_in_their_note() -> None:
    frame = pd.DataFrame(
        {
            "delivery_no": ["D1"] * 4 + ["D2"] * 3,
            "line_no": pd.array([None, 1, None, None, None, 5, None], dtype="Int64"),
            "article": list("abcdefg"),
        }
    )
    numbered = enrich(DELIVERIES, frame)["line_no"].tolist()
    # D1: the first line's place (1) is the second line's number, so D1's unnumbered lines
    # follow its highest number; D2's places (1 and 3) are free and are kept
    assert numbered == [2, 1, 3, 4, 1, 5, 3]
    assert not pd.DataFrame({"n": frame["delivery_no"], "l": numbered}).duplicated().any()


def test_customer_fields_by_chunk_are_the_whole_files() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(5)],
            "country": ["FR", "Maroc", None, "  ", "germany"],
            "segment": ["a", "b", None, "d", "e"],  # an unexpected column: kept in attributes
        }
    )
    joined = _joined(CUSTOMERS, frame, 2)
    # a chunk without any country has no text dtype to infer (None, not NaN): the messages
    # published are the same
    assert _messages(CUSTOMERS, joined) == _messages(CUSTOMERS, enrich(CUSTOMERS, frame))
    assert joined["attributes"].tolist()[1] == {"segment": "b"}
