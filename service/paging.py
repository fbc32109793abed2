"""Opaque list cursors: base64 of "kind:part|part", checked on the way back in.

Article lists, comment threads, revisions and the moderation queue page with them.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone

from service.errors import ErrorCode, UserError, is_row_id


_CURSOR_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?$")


def encode_cursor(kind: str, *parts: object) -> str:
    raw = ":".join([kind, *(str(p) for p in parts)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, kind: str) -> list[str]:
    """Split a cursor of the given kind into its parts, or raise UserError."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise _invalid_cursor(cursor) from None
    head, _, rest = raw.partition(":")
    if head != kind or not rest:
        raise _invalid_cursor(cursor)
    return rest.split("|")


def _invalid_cursor(cursor: str) -> UserError:
    return UserError(f"Invalid cursor {cursor[:64]!r}.", ErrorCode.INVALID, field="after")


def _cursor_number(part: str, cursor: str) -> int:
    if not is_row_id(part):  # ids, revision numbers and offsets: a forged larger one overflows the driver
        raise _invalid_cursor(cursor)
    return int(part)


def number_cursor(cursor: str, kind: str) -> int:
    """The one number a cursor of this kind holds (an offset or a revision number), or UserError."""
    parts = decode_cursor(cursor, kind)
    if len(parts) != 1:
        raise _invalid_cursor(cursor)
    return _cursor_number(parts[0], cursor)


def read_keyset_cursor(cursor: str, kind: str) -> tuple[datetime, int]:
    """The time and row id a keyset cursor of this kind holds, or UserError."""
    parts = decode_cursor(cursor, kind)
    if len(parts) != 2 or not _CURSOR_TIME.match(parts[0]):
        raise _invalid_cursor(cursor)
    try:
        moment = datetime.fromisoformat(parts[0].replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment.astimezone(timezone.utc)  # the ends of the calendar overflow here, not in the driver
    except (ValueError, OverflowError):
        raise _invalid_cursor(cursor) from None
    return moment, _cursor_number(parts[1], cursor)


def keyset_cursor(kind: str, moment: datetime, row_id: int) -> str:
    """A cursor just past the row with this time and id."""
    return encode_cursor(kind, f"{moment.isoformat()}|{row_id}")
