"""The reference index: which pages link to which, and which pages use which images.

A page's rows (service/reference_models.py) are rebuilt from its content whenever
that content changes: "latest" rows from each revision saved (drafts.add_revision),
"live" rows from the content published onto the page row (publishing, and pages
created live). Editors read the index (Page.references, Page.linkedFrom,
Image.usage); unpublishing or deleting a page that live pages link to is refused
unless forced, since their links would turn into plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service import db, ids, models, page_links, reference_models
from service.clock import now
from service.errors import ErrorCode, UserError, is_row_id
from service.models import PageKind

LIVE, LATEST = "live", "latest"  # which content a row comes from: the page row, or the latest revision
SHOWN_IN_MESSAGE = 5


class PageIsLinked(UserError):
    """Live pages link to a page an editor is taking away; `sources` are those pages."""

    def __init__(self, sources: list[models.Page]) -> None:
        shown = ", ".join(page.url_path for page in sources[:SHOWN_IN_MESSAGE])
        more = f" and {len(sources) - SHOWN_IN_MESSAGE} more" if len(sources) > SHOWN_IN_MESSAGE else ""
        super().__init__(
            f"{len(sources)} live page(s) link here: {shown}{more}. Pass force: true to go ahead; "
            "their links then show as plain text.", ErrorCode.PAGE_IS_LINKED, field="force")
        self.sources = sources


async def link_targets(values: Iterable[str]) -> dict[str, int]:
    """The pages data-page-id values name, as {value: row id}, for blocks.validate_body: global ids
    of existing pages of the type they say, and row ids (links stored earlier) of existing pages."""
    wanted: dict[str, tuple[str | None, int]] = {}
    page_types = set(ids.PAGE_TYPE_NAMES.values())
    for value in values:
        if is_row_id(value):
            wanted[value] = (None, int(value))
        elif (decoded := ids.decode(value)) is not None and decoded[0] in page_types:
            wanted[value] = decoded
    if not wanted:
        return {}
    kinds = dict(await models.Page.filter(id__in=sorted({pk for _, pk in wanted.values()})).values_list("id", "kind"))
    return {value: pk for value, (type_name, pk) in wanted.items()
            if pk in kinds and type_name in (None, ids.PAGE_TYPE_NAMES[PageKind(kinds[pk])])}


async def index(page_id: int, content: str, data: Mapping[str, Any]) -> None:
    """Replace a page's rows for one content (LIVE or LATEST) with what `data` (an article's content) refers to."""
    await reference_models.PageReference.filter(page_id=page_id, content=content).delete()
    rows = [
        reference_models.PageReference(page_id=page_id, content=content, kind=kind, field=field,
                                       target_page_id=target_page, target_image_id=target_image)
        for kind, target_page, target_image, field in page_links.references_in(data)
    ]
    if rows:
        await reference_models.PageReference.bulk_create(rows)


@dataclass
class Reference:
    """One use of a page or an image by a page's content, live and latest merged."""

    source_id: int
    kind: str  # page_links.LINK, HERO or IMAGE
    field: str
    target_page_id: int | None
    target_image_id: int | None
    source_live: bool  # the source is published (it and its ancestors) and not expired
    in_live: bool = False
    in_latest: bool = False


def _when(value):
    return datetime.fromisoformat(value) if value.__class__ is str else value


_COLUMNS = {"source": "page_id", "target_page": "target_page_id", "target_image": "target_image_id"}


async def _read(by: str, keys: Sequence[int], kind: str | None = None) -> dict[int, list[Reference]]:
    """References whose `by` (source, target_page or target_image) is one of `keys`, grouped by it: one statement."""
    column = _COLUMNS[by]
    keys = list(keys)
    marks = ", ".join(f"${n}" for n in range(1, len(keys) + 1))
    rows = await db.fetch(
        f"SELECT r.{column} AS k, r.page_id, r.content, r.kind, r.field, r.target_page_id, r.target_image_id, "
        f"s.tree_live, s.public_until FROM page_reference r JOIN page s ON s.id = r.page_id "
        f"WHERE r.{column} IN ({marks}) ORDER BY r.page_id, r.id", *keys)
    at = now()
    grouped: dict[int, dict[tuple, Reference]] = {key: {} for key in keys}
    for row in rows:
        if kind is not None and row["kind"] != kind:
            continue
        key = (row["page_id"], row["kind"], row["field"], row["target_page_id"], row["target_image_id"])
        found = grouped[row["k"]].get(key)
        if found is None:
            until = _when(row["public_until"])
            found = grouped[row["k"]][key] = Reference(
                source_id=row["page_id"], kind=row["kind"], field=row["field"], target_page_id=row["target_page_id"],
                target_image_id=row["target_image_id"], source_live=bool(row["tree_live"]) and (until is None or until > at))
        if row["content"] == LIVE:
            found.in_live = True
        else:
            found.in_latest = True
    return {key: list(found.values()) for key, found in grouped.items()}


async def references_from(page_ids: Sequence[int]) -> dict[int, list[Reference]]:
    """What each page's content links to and shows (pages and images)."""
    return await _read("source", page_ids)


async def links_to(page_ids: Sequence[int]) -> dict[int, list[Reference]]:
    """The links to each page, from any page's live content or latest revision."""
    return await _read("target_page", page_ids, page_links.LINK)


async def image_usage(image_ids: Sequence[int]) -> dict[int, list[Reference]]:
    """The pages that show each image (as hero or in an image block), live content or latest revision."""
    return await _read("target_image", image_ids)


async def live_links_into(page: models.Page) -> list[models.Page]:
    """Live pages outside `page`'s subtree whose published content links to it or to a page below it."""
    rows = await db.fetch(
        "SELECT DISTINCT r.page_id AS id FROM page_reference r JOIN page t ON t.id = r.target_page_id "
        "JOIN page s ON s.id = r.page_id WHERE r.content = $1 AND t.path LIKE $2 AND s.path NOT LIKE $2 "
        "AND s.tree_live = $3 AND (s.public_until IS NULL OR s.public_until > $4)",
        LIVE, page.path + "%", True, now())
    if not rows:
        return []
    return await models.Page.filter(id__in=[row["id"] for row in rows]).order_by("url_path")


async def check_unlinked(page: models.Page, force: bool) -> list[models.Page]:
    """The live pages linking into `page`'s subtree; PageIsLinked when there are some and `force` is not set."""
    sources = await live_links_into(page)
    if sources and not force:
        raise PageIsLinked(sources)
    return sources
