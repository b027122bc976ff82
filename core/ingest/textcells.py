"""Text cells as Arrow arrays, trimmed of whitespace and missing where empty, cheaply.

Trimming (Arrow's `utf8_trim_whitespace`, as pandas' `str.strip`) looks at every character
of every cell and is the dearest step of reading a text column, yet most columns need none.
So the first and last byte of every cell are checked first: a cell that needs trimming
starts or ends with ASCII whitespace or with a byte of a longer UTF-8 character (which may
be a no-break space). Missing cells come from the cells' lengths, not from comparing every
cell with ''.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The ASCII whitespace Arrow trims (tab to carriage return, the four separators, space) and
# every byte of a longer UTF-8 character.
_EDGE_BYTES = np.zeros(256, dtype=bool)
_EDGE_BYTES[[*range(9, 14), *range(28, 33), *range(0x80, 0x100)]] = True

Cells: TypeAlias = pa.StringArray | pa.LargeStringArray


def trimmed(cells: Cells) -> Cells:
    """The cells trimmed of whitespace at both ends, missing where nothing is left."""
    if not len(cells):
        return cells
    if _may_need_trimming(cells):
        cells = pc.utf8_trim_whitespace(cells)
    return _missing_where_empty(cells)


def _may_need_trimming(cells: Cells) -> bool:
    """Whether a first or last byte of a cell is one whitespace may start or end with."""
    ends, data = _layout(cells)
    if not len(data):
        return False
    # An empty cell's first byte is the next cell's, its last the previous cell's (clipped
    # at the ends of the data): looked at anyway, so empty cells need no sorting out.
    edges = np.concatenate(
        (data.take(ends[:-1], mode="clip"), data.take(ends[1:] - 1, mode="clip"))
    )
    unusual = edges[(edges <= ord(" ")) | (edges >= 0x80)]  # usually none to look up
    return bool(_EDGE_BYTES[unusual].any())


def _missing_where_empty(cells: Cells) -> Cells:
    """The cells, missing where empty: a validity bitmap from the cells' lengths."""
    ends, _ = _layout(cells)
    filled = np.diff(ends) > 0
    if cells.null_count:
        filled &= cells.is_valid().to_numpy(zero_copy_only=False)
    if filled.all():
        return cells
    validity = pa.py_buffer(np.packbits(filled, bitorder="little"))
    data = cells.buffers()[2]
    return pa.Array.from_buffers(cells.type, len(cells), [validity, pa.py_buffer(ends), data])


def _layout(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """The cells' offsets into the data (the first cell's start, then every cell's end)
    and the data's bytes."""
    _, offsets, data = cells.buffers()
    width = np.int64 if pa.types.is_large_string(cells.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width)[cells.offset : cells.offset + len(cells) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return ends, raw
