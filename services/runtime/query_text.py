"""Text from a URL (query or path) that reaches SQL: no control characters. PostgreSQL refuses NUL in text, so
`?owner=%00` answered 500 there (found by tests/fuzz); refused as a 422 naming the parameter instead."""

from __future__ import annotations

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
"""`pattern=` of a FastAPI Query or Path: any text but control characters."""
