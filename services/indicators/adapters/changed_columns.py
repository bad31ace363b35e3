"""SQLite: write only the columns an event changed, one UPDATE (executemany) per set of changed columns.

Most events change two to five of the 40 columns of a dossier row. An upsert of the whole row converts every
value and updates every index of the table; a narrow UPDATE touches only the indexes of the columns it sets
(the store alone went from ~87 to ~65 us an event). On PostgreSQL the same idea (UPDATE ... FROM unnest)
measured ~8% slower than the binary COPY of whole rows, so the store uses this on SQLite only. Rows that are
new, or were refolded, are written whole (`fastsql.upsert`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import compress, count
from operator import is_not
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.adapters.fastsql import RawTable

Columns = tuple[int, ...]


def changed_columns(before: Sequence[Any], after: Sequence[Any]) -> Columns:
    """Indexes of the values that differ. Identity first, in C (`map(is_not)`): most values are the very same
    objects, so only the few others are compared in Python."""
    if len(before) != len(after):
        raise ValueError("before and after differ in length")
    replaced = compress(count(), map(is_not, before, after))
    return tuple(index for index in replaced if before[index] != after[index])


class ColumnUpdates:
    """Narrow UPDATEs of one SQLite table keyed by one column."""

    def __init__(self, table: RawTable, key: str) -> None:
        self.table = table
        self.key = key
        self.key_index = table.columns.index(key)
        self._sql: dict[Columns, str] = {}

    def sql(self, columns: Columns) -> str:
        text = self._sql.get(columns)
        if text is None:
            names = self.table.columns
            assignments = ", ".join(f"{names[index]} = ?" for index in columns)
            text = f"UPDATE {self.table.name} SET {assignments} WHERE {self.key} = ?"
            self._sql[columns] = text
        return text

    async def write(self, session: AsyncSession, changes: Iterable[tuple[Sequence[Any], Sequence[Any]]]) -> int:
        """`changes`: (values before, values after) of existing rows, in column order. Returns rows updated."""
        groups: dict[Columns, list[Sequence[Any]]] = defaultdict(list)
        for before, after in changes:
            columns = changed_columns(before, after)
            if columns:
                groups[columns].append(after)
        connection = await session.connection()
        convert = self.table.value_to_db
        for columns, rows in groups.items():
            parameters = [(*(convert(index, row[index]) for index in columns), row[self.key_index]) for row in rows]
            await connection.exec_driver_sql(self.sql(columns), parameters)
        return sum(len(rows) for rows in groups.values())
