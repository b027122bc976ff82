"""The customers' extra columns: keys of the JSON `attributes` object, with their kinds."""

from __future__ import annotations

from sqlalchemy import text

from core.adapters.sql_store import SqlStore
from core.queries.columns import ColumnInfo, attribute_column

_NUMBER_TYPES = frozenset({"number", "integer", "real"})
_EMPTY_TYPES = frozenset({"null"})

# Each key with the JSON types of its values and its first position, computed in the store.
_POSTGRES_KEYS = text(
    "SELECT e.key AS key, json_typeof(e.value) AS type, min(e.n) AS position"
    " FROM customers AS c CROSS JOIN LATERAL json_each(c.attributes) WITH ORDINALITY"
    " AS e(key, value, n) WHERE json_typeof(c.attributes) = 'object'"
    " GROUP BY e.key, json_typeof(e.value)"
)
_SQLITE_KEYS = text(
    "SELECT j.key AS key, j.type AS type, min(j.id) AS position"
    " FROM customers AS c, json_each(c.attributes) AS j"
    " WHERE json_type(c.attributes) = 'object' GROUP BY j.key, j.type"
)


def attribute_columns(sql: SqlStore) -> tuple[ColumnInfo, ...]:
    """Every key found in any customer's attributes, in their usual order. A key is a number
    column when every non-empty value is a number, a text column otherwise."""
    query = _POSTGRES_KEYS if sql.is_postgres else _SQLITE_KEYS
    types: dict[str, set[str]] = {}
    positions: dict[str, int] = {}
    with sql.begin() as conn:
        for row in conn.execute(query):
            types.setdefault(row.key, set()).add(row.type)
            positions[row.key] = min(positions.get(row.key, row.position), row.position)
    columns = []
    for key in sorted(types, key=lambda k: (positions[k], k)):
        present = types[key] - _EMPTY_TYPES
        kind = "decimal" if present and present <= _NUMBER_TYPES else "text"
        columns.append(attribute_column(key, kind))
    return tuple(columns)
