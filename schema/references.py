"""The reference index for editors: what a page links to and shows, who links to it, where an image is used.

Translation only: service/references.py keeps and reads the index; the fields here
(Page.references, Page.linkedFrom, PageStatus's twins, Image.usage) are editor-only,
and read it through batched loaders, so a list of pages asking costs one statement.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from schema.context import Info
from schema.errors import BadInput, camel
from schema.permissions import IsEditor
from service import page_links, references
from service.errors import is_row_id

if TYPE_CHECKING:
    from schema.media import Image
    from schema.pages import Page


@strawberry.enum(description="What a reference of the reference index is.")
class ReferenceKind(Enum):
    LINK = strawberry.enum_value(page_links.LINK, description="A link to a page in a paragraph (`<a data-page-id>`).")
    HERO_IMAGE = strawberry.enum_value(page_links.HERO, description="The article's hero image.")
    IMAGE_BLOCK = strawberry.enum_value(page_links.IMAGE, description="An image block of the body.")


@strawberry.type(description="One place where a page's content links to another page or shows an image, from the "
                 "reference index (kept on every save and publish). Editors only.")
class Reference:
    kind: ReferenceKind = strawberry.field(description="A link to a page, a hero image or an image block.")
    field: str = strawberry.field(description="Where in the source's content: `body.2` (the third block) or `heroImage`.")
    in_live_content: bool = strawberry.field(description="The published content has it: readers see it while the "
                                             "source is live.")
    in_latest_revision: bool = strawberry.field(description="The latest revision (the draft) has it.")
    source_live: bool = strawberry.field(description="The source page is published, with every page above it, and "
                                         "not expired: readers see it now, or will at its go-live time.")
    source_id: strawberry.Private[int]
    target_page_id: strawberry.Private[int | None]
    target_image_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, found: references.Reference) -> Reference:
        return cls(kind=ReferenceKind(found.kind), field=camel(found.field), in_live_content=found.in_live,
                   in_latest_revision=found.in_latest, source_live=found.source_live, source_id=found.source_id,
                   target_page_id=found.target_page_id, target_image_id=found.target_image_id)

    @strawberry.field(description="The page whose content holds the reference, in whatever state it is.")
    def source(self, info: Info) -> Annotated["Page", strawberry.lazy("schema.pages")]:
        return info.context.loaders.editable_page_by_id.load(self.source_id)

    @strawberry.field(description="The linked page (LINK), in whatever state it is; null for images.")
    def target_page(self, info: Info) -> Annotated["Page", strawberry.lazy("schema.pages")] | None:
        if self.target_page_id is None:
            return None
        return info.context.loaders.editable_page_by_id.load(self.target_page_id)

    @strawberry.field(description="The image shown (HERO_IMAGE, IMAGE_BLOCK); null for links.")
    def target_image(self, info: Info) -> Annotated["Image", strawberry.lazy("schema.media")] | None:
        if self.target_image_id is None:
            return None
        return info.context.loaders.image_by_id.load(self.target_image_id)


async def page_references(root: strawberry.Parent[Any], info: Info) -> list[Reference] | None:
    return [Reference.of(found) for found in await info.context.loaders.references_by_page_id.load(root.id)]


async def page_linked_from(root: strawberry.Parent[Any], info: Info) -> list[Reference] | None:
    return [Reference.of(found) for found in await info.context.loaders.links_by_page_id.load(root.id)]


async def image_usage(root: strawberry.Parent[Any], info: Info) -> list[Reference] | None:
    return [Reference.of(found) for found in await info.context.loaders.usage_by_image_id.load(int(root.id))]


REFERENCES_DESCRIPTION = (
    "What this page's content links to (pages, by reference) and shows (hero image, image blocks), from its "
    "published content and its latest revision, in content order (editor; null with an error for others).")
LINKED_FROM_DESCRIPTION = (
    "The links to this page from other pages' content (published or latest revision), with whether each source is "
    "live: what unpublishPage and deletePage check (editor; null with an error for others).")


def references_field() -> Any:
    return strawberry.field(resolver=page_references, permission_classes=[IsEditor], description=REFERENCES_DESCRIPTION)


def linked_from_field() -> Any:
    return strawberry.field(resolver=page_linked_from, permission_classes=[IsEditor], description=LINKED_FROM_DESCRIPTION)


def usage_field() -> Any:
    return strawberry.field(resolver=image_usage, permission_classes=[IsEditor], description=(
        "The pages that show this image, as hero or in an image block, in their published content or latest revision "
        "(editor; null with an error for others)."))


@strawberry.type
class ReferenceQuery:
    @strawberry.field(description="A library image by id (editor): its metadata and `usage`.", permission_classes=[IsEditor])
    async def image(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Id of the image (Image.id).")],
    ) -> Annotated["Image", strawberry.lazy("schema.media")] | None:
        if not is_row_id(str(id)):
            raise BadInput("`id` is not an image id.", "id")
        # Through the request's loader: the same image as a reference's target is read once.
        return await info.context.loaders.image_by_id.load(int(id))


REFERENCE_TYPES = [Reference]
