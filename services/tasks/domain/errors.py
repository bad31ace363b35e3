"""Failures of a use case, mapped to HTTP problems by the API and to messages by the CLI."""

from __future__ import annotations


class TasksError(Exception):
    status = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(TasksError):
    status = 404


class Forbidden(TasksError):
    status = 403


class Conflict(TasksError):
    status = 409


class Invalid(TasksError):
    """A value a schema accepts but the rules do not (wrong kind, percent out of range): 422 with the field."""

    status = 422
