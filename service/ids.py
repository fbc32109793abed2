"""Relay global ids: base64("TypeName:123"), as the API and its webhooks give them."""

from __future__ import annotations

import base64
import binascii

from service import models

PAGE_TYPE_NAMES = {
    models.PageKind.HOME: "HomePage",
    models.PageKind.SECTION: "SectionPage",
    models.PageKind.ARTICLE: "ArticlePage",
}
# The prefix of a revision's global id, the GraphQL type's name. Ids made before
# issue 10 said PageRevision; schema/editorial/revisions.py still accepts them.
REVISION_TYPE_NAME = "Revision"


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def decode(value: str) -> tuple[str, int] | None:
    """(type name, row id) from a global id, or None when it is not one."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, _, pk = raw.partition(":")
    return (type_name, int(pk)) if pk.isascii() and pk.isdigit() and 0 < len(pk) <= 10 and int(pk) < 2**31 else None


def global_id(obj: models.Page | models.PageRevision | models.Comment | models.Tag) -> str:
    """The id the API gives this object."""
    if isinstance(obj, models.Page):
        return to_global_id(PAGE_TYPE_NAMES[obj.kind], obj.id)
    if isinstance(obj, models.PageRevision):
        return to_global_id(REVISION_TYPE_NAME, obj.id)
    if isinstance(obj, models.Tag):
        return to_global_id("Tag", obj.id)
    return to_global_id("Comment", obj.id)
