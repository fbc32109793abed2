"""Relay global ids: base64("TypeName:123")."""

from __future__ import annotations

import base64
import binascii

from schema.errors import BadInput
from service.errors import is_row_id
from service.ids import PAGE_TYPE_NAMES, global_id, to_global_id

__all__ = ["PAGE_TYPE_NAMES", "NODE_TYPES", "from_global_id", "global_id", "to_global_id"]

NODE_TYPES = {*PAGE_TYPE_NAMES.values(), "Comment"}


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
