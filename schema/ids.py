"""Relay global ids: base64("TypeName:123")."""

from __future__ import annotations

import base64
import binascii

from schema.errors import BadInput, camel
from service import errors as service_errors
from service.errors import is_row_id
from service.ids import PAGE_TYPE_NAMES, global_id, to_global_id

__all__ = ["PAGE_TYPE_NAMES", "NODE_TYPES", "from_global_id", "global_id", "global_pk", "to_global_id"]

NODE_TYPES = {*PAGE_TYPE_NAMES.values(), "Comment", "Tag"}


def from_global_id(value: str, expected: set[str] | None = None) -> tuple[str, int]:
    """Decode a global id, or raise BadInput naming what was wrong."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise BadInput(f"Invalid id {value[:64]!r}: not a global id.", "id") from None
    type_name, _, pk = raw.partition(":")
    allowed = expected or NODE_TYPES
    if type_name not in allowed or not is_row_id(pk):
        raise BadInput(f"Invalid id {value[:64]!r}: expected the id of a {' or '.join(sorted(allowed))}.", "id")
    return type_name, int(pk)


def global_pk(value: str | None, expected: str | set[str], field: str, label: str | None = None) -> int | None:
    """The primary key in a global id of one of the expected types, or a NOT_FOUND UserError."""
    if value is None:
        return None
    kinds = {expected} if isinstance(expected, str) else expected
    try:
        return from_global_id(value, kinds)[1]
    except BadInput:
        names = label or " or ".join(sorted(kinds))
        raise service_errors.UserError(f"{camel(field)} is not the id of a {names}.", service_errors.ErrorCode.NOT_FOUND, field=field) from None
