"""Validators for the fields editors send: optional text, id lists, aware date-times.

Each returns the clean value or raises a UserError naming the field; required text
is `service.errors.required_text`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from service.errors import ErrorCode, UserError, no_nul


def iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 text in UTC, the form revisions keep."""
    return value.astimezone(timezone.utc).isoformat() if value else None


def aware_time(value: Any, field: str) -> datetime | None:
    """An ISO 8601 date-time with a time zone (or a datetime), in UTC; None stays None."""
    if value is None or isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise UserError(f"{field} is not an ISO 8601 date-time.", ErrorCode.INVALID, field=field) from None
    if parsed is not None and parsed.tzinfo is None:
        raise UserError(f"{field} needs a time zone, such as 2024-07-16T09:00:00Z.", ErrorCode.INVALID, field=field)
    # Stored in UTC: SQLite compares the text, so every stored time must share one offset.
    return parsed.astimezone(timezone.utc) if parsed is not None else None


def text(value: Any, field: str, limit: int) -> str:
    """Optional text, stripped: "" when missing."""
    value = "" if value is None else value
    if not isinstance(value, str):
        raise UserError(f"{field} must be text.", ErrorCode.INVALID, field=field)
    value = no_nul(value.strip(), field)
    if len(value) > limit:
        raise UserError(f"{field} is longer than {limit} characters.", ErrorCode.TOO_LONG, field=field)
    return value


def id_list(value: Any, field: str, limit: int) -> list[int]:
    """Row ids in their order, repeats dropped, at most `limit` of them."""
    out: list[int] = []
    for item in value or []:
        if isinstance(item, bool) or not isinstance(item, int):
            raise UserError(f"{field} must list ids.", ErrorCode.INVALID, field=field)
        if item not in out:
            out.append(item)
    if len(out) > limit:
        raise UserError(f"{field} holds at most {limit} items.", ErrorCode.INVALID, field=field)
    return out
