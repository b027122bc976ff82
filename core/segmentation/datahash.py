"""A stable fingerprint of the data a run saw, so a saved run can say what it was built on.

The hash covers the customer IDs and the chosen feature columns, rows sorted by customer ID
and columns by name, so neither row nor column order changes it. Numbers are hashed as
little-endian float64 (an integer 3 and a float 3.0 hash alike, -0.0 as 0.0, every missing
value as one NaN); text as UTF-8. The layout is versioned by `HASH_FORMAT`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

HASH_FORMAT = "pipeworks-segmentation-v1"
_MISSING_TEXT = "\x00"
_TEXT_SEPARATOR = "\x1e"


def data_hash(ids: Sequence[str], columns: Mapping[str, pd.Series]) -> str:
    """sha256 (hex) of `ids` with the given feature columns (aligned with `ids`).

    A numeric column is any column of numeric dtype; every other column is hashed as text.
    """
    order = np.argsort(np.asarray(ids, dtype=object).astype(str), kind="stable")
    digest = hashlib.sha256()
    names = sorted(columns)
    kinds = {
        name: "number" if pd.api.types.is_numeric_dtype(columns[name]) else "text" for name in names
    }
    header = {"format": HASH_FORMAT, "rows": len(ids), "columns": kinds}
    digest.update(json.dumps(header, sort_keys=True).encode("utf-8"))
    digest.update(_text_bytes([ids[i] for i in order]))
    for name in names:
        values = columns[name].to_numpy()[order]
        if kinds[name] == "number":
            digest.update(_number_bytes(values))
        else:
            digest.update(_text_bytes(values))
    return digest.hexdigest()


def _number_bytes(values: np.ndarray) -> bytes:
    numbers = np.asarray(values, dtype="<f8").copy()
    numbers[np.isnan(numbers)] = np.nan
    numbers[numbers == 0] = 0.0  # folds -0.0
    return numbers.tobytes()


def _text_bytes(values: Sequence[object] | np.ndarray) -> bytes:
    parts = [_MISSING_TEXT if pd.isna(v) else str(v) for v in values]
    return (_TEXT_SEPARATOR.join(parts) + _TEXT_SEPARATOR).encode("utf-8")
