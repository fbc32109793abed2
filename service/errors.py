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
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_URL = "INVALID_URL"
    COMMENTS_CLOSED = "COMMENTS_CLOSED"
    RATE_LIMITED = "RATE_LIMITED"
    SPAM = "SPAM"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    CONFLICT = "CONFLICT"
    EXPIRED = "EXPIRED"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_MEDIA = "UNSUPPORTED_MEDIA"
    PAGE_IS_LINKED = "PAGE_IS_LINKED"
    INVALID_LOCALE = "INVALID_LOCALE"
    LOCALE_IN_USE = "LOCALE_IN_USE"
    PARENT_NOT_TRANSLATED = "PARENT_NOT_TRANSLATED"
    ALREADY_TRANSLATED = "ALREADY_TRANSLATED"


class UserError(Exception):
    """Something the caller can fix; the GraphQL layer turns it into data."""

    def __init__(
        self, message: str, code: ErrorCode, field: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.retry_after = retry_after


def is_number(text: str) -> bool:
    """Only ASCII digits: str.isdigit() also accepts "²", which int() refuses."""
    return text.isascii() and text.isdigit()


MAX_ROW_ID = 2**31 - 1  # ids and numbers are INTEGER columns: PostgreSQL's driver refuses anything larger


def is_row_id(text: str) -> bool:
    """A number that can name a row: a larger one overflows the driver (a 500) rather than find nothing."""
    return is_number(text) and len(text) <= 10 and int(text) <= MAX_ROW_ID


def no_nul(value: str, field: str) -> str:
    """Refuse NUL characters: PostgreSQL cannot store them in text."""
    if "\x00" in value:
        raise UserError(f"{field.replace('_', ' ').capitalize()} contains a NUL character.", ErrorCode.INVALID, field=field)
    return value


def required_text(value: str | None, field: str, limit: int, label: str | None = None) -> str:
    """The stripped value, or a REQUIRED / TOO_LONG UserError naming the field."""
    label = label or field.replace("_", " ").capitalize()
    value = no_nul((value or "").strip(), field)
    if not value:
        raise UserError(f"{label} is required.", ErrorCode.REQUIRED, field=field)
    if len(value) > limit:
        raise UserError(f"{label} is longer than {limit} characters.", ErrorCode.TOO_LONG, field=field)
    return value
