"""A held SQLite write lock: `BEGIN IMMEDIATE` kept open by the test, so every writer of that file waits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path


@contextmanager
def write_locked(paths: Sequence[Path]) -> Iterator[None]:
    with ExitStack() as stack:
        for path in paths:
            connection = sqlite3.connect(path, isolation_level=None, timeout=30)
            stack.callback(connection.close)
            connection.execute("BEGIN IMMEDIATE")
            stack.callback(connection.execute, "ROLLBACK")
        yield
