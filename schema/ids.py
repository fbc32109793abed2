"""Relay global ids: base64("TypeName:123")."""

from __future__ import annotations

from service.errors import is_number

import base64
import binascii

from schema.errors import BadInput
from service import models

PAGE_TYPE_NAMES = {
    models.PageKind.HOME: "HomePage",
    models.PageKind.SECTION: "SectionPage",
    models.PageKind.ARTICLE: "ArticlePage",
}
NODE_TYPES = {*PAGE_TYPE_NAMES.values(), "Comment"}


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def global_id(obj: models.Page | models.Comment) -> str:
    if isinstance(obj, models.Page):
        return to_global_id(PAGE_TYPE_NAMES[obj.kind], obj.id)
    return to_global_id("Comment", obj.id)


def from_global_id(value: str, expected: set[str] | None = None) -> tuple[str, int]:
    """Decode a global id, or raise BadInput naming what was wrong."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise BadInput(f"Invalid id {value[:64]!r}: not a global id.", "id") from None
    type_name, _, pk = raw.partition(":")
    allowed = expected or NODE_TYPES
    if type_name not in allowed or not is_number(pk) or len(pk) > 18:
        raise BadInput(f"Invalid id {value[:64]!r}: expected the id of a {' or '.join(sorted(allowed))}.", "id")
    return type_name, int(pk)
