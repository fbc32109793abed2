"""Errors a caller can fix (UserError) and their codes."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    INVALID_BLOCK = "INVALID_BLOCK"
    INVALID_PARENT = "INVALID_PARENT"


class UserError(Exception):
    """Something the caller can fix; the GraphQL layer turns it into data."""

    def __init__(self, message: str, code: ErrorCode, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
