"""Images, authors and tags: the snippets articles point at."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from schema.errors import BadInput, camel
from schema.loaders import load_now, then
from schema.node import Node
from schema.references import usage_field
from service import media, models, site
from service.errors import UserError

_MISSING = object()


@strawberry.enum(description="File format of a rendition.")
class ImageFormat(Enum):
    JPG = strawberry.enum_value("jpg", description="JPEG: photographs, smallest for most pictures.")
    PNG = strawberry.enum_value("png", description="PNG: lossless, for graphics and transparency.")
    WEBP = strawberry.enum_value("webp", description="WebP: smaller than JPEG at the same quality, in every current browser.")


@strawberry.type(description="A resized version of an image.")
class Rendition:
    url: str = strawberry.field(description="Where it is served (made on its first request, then cached). The URL "
                                "is signed: it works as given, never with another size, format or image id.")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")


@strawberry.type(description="Where the subject of an image is, for crops: 0..1 from the left and from the top.")
class FocalPoint:
    x: float = strawberry.field(description="From the left edge, 0 to 1.")
    y: float = strawberry.field(description="From the top edge, 0 to 1.")


def _rendition_error(error: UserError) -> BadInput:
    return BadInput(error.message, camel(error.field))


def _granted(url: str, info: Info) -> str:
    until = info.context.media_grant()
    return url if until is None else media.with_grant(url, info.context.settings.secret_key, until)


def rendition_of(image: models.Image, info: Info, width: int, height: int | None, fill: bool) -> Rendition:
    """A rendition the API offers (an allowed size), its URL signed and, for editors and previews, granted."""
    made = media.rendition(image, width, height, fill, None, secret=info.context.settings.secret_key)
    return Rendition(url=_granted(made.url, info), width=made.width, height=made.height)


@strawberry.type(description="An image and its stored metadata.")
class Image:
    id: strawberry.ID = strawberry.field(description="Image id.")
    width: int = strawberry.field(description="Width of the original, in pixels.")
    height: int = strawberry.field(description="Height of the original, in pixels.")
    alt: str = strawberry.field(description="Alternative text for screen readers.")
    title: str = strawberry.field(description="Title of the image in the library.")
    credit: str = strawberry.field(description="Photographer or agency credit; may be empty.")
    caption: str = strawberry.field(description="The library's default caption; may be empty. Where an article "
                                    "shows the image as its hero, `ArticlePage.heroCaption` is the caption to print.")
    usage = usage_field()

    @strawberry.field(description="Where the original file is served: to anyone while published content shows the "
                      "image. In an editor's request or a preview, the URL carries a grant (an hour or two) that "
                      "opens it for <img>, which sends no token; an editor's `Authorization: Bearer` opens any.")
    def url(self, info: Info) -> str:
        return _granted(self.url, info)

    @strawberry.field(description="The subject's position for crops; null when none was set (crops centre).")
    def focal_point(self) -> FocalPoint | None:
        fx, fy = getattr(self, "focal_x", None), getattr(self, "focal_y", None)
        return FocalPoint(x=fx, y=fy) if fx is not None and fy is not None else None

    @strawberry.field(
        description="A resized version: `fill` crops to exactly width x height around the focal point; otherwise "
        "the image fits inside the box, never enlarged. Sizes are limited to 160, 320, 480, 640, 800, 1024, 1200, "
        "1280, 1600 and 1920 (heights also 630, for 1200x630 cards). Images known by URL only return the original."
    )
    def rendition(
        self,
        info: Info,
        width: Annotated[int, strawberry.argument(description="Width in pixels: one of the allowed sizes.")],
        height: Annotated[int | None, strawberry.argument(description="Height in pixels; with `fill`, the exact height of the crop.")] = None,
        fill: Annotated[bool, strawberry.argument(description="Crop to exactly width x height around the focal point instead of fitting inside.")] = False,
        format: Annotated[ImageFormat | None, strawberry.argument(description="File format; the original's when left out.")] = None,
    ) -> Rendition:
        try:
            made = media.rendition(self, width, height, fill, format.value if format else None,
                                   secret=info.context.settings.secret_key)
        except UserError as error:
            raise _rendition_error(error) from None
        return Rendition(url=_granted(made.url, info), width=made.width, height=made.height)

    @strawberry.field(description="An HTML srcset of renditions at these widths (allowed sizes only), for <img srcset>.")
    def src_set(
        self,
        info: Info,
        widths: Annotated[list[int], strawberry.argument(description="1 to 10 widths, each one of the allowed sizes.")],
        format: Annotated[ImageFormat | None, strawberry.argument(description="File format; the original's when left out.")] = None,
    ) -> str:
        if not widths or len(widths) > 10:
            raise BadInput("Give 1 to 10 widths.", "widths")
        parts = []
        for width in widths:
            try:
                made = media.rendition(self, width, None, False, format.value if format else None,
                                       secret=info.context.settings.secret_key)
            except UserError as error:
                raise _rendition_error(error) from None
            parts.append(f"{_granted(made.url, info)} {made.width}w")
        return ", ".join(dict.fromkeys(parts))


@strawberry.type(description="A person who writes for the site.")
class Author:
    id: strawberry.ID = strawberry.field(description="Author id, for CreateArticleInput.authorIds and updateAuthor.")
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe identifier, used by `articles(author:)`.")
    bio: str = strawberry.field(description="Short biography; may be empty.")

    @strawberry.field(description="Path of the author's page on the public site: the site's `authorPathPrefix`, "
                      "the slug and a slash (`/authors/joel-carver/`). Prefix it with `Site.baseUrl` for a full URL.")
    def url(self, info: Info) -> str:
        return then(load_now(info.context.loaders.site, 0), lambda settings: site.author_url(settings, self.slug))

    @strawberry.field(description="Portrait from the image library; null when the author has none.")
    def avatar(self, info: Info) -> Image | None:
        image = getattr(self, "avatar_image", _MISSING)  # read with the byline (service.content)
        if image is _MISSING:
            return None if self.avatar_id is None else load_now(info.context.loaders.image_by_id, self.avatar_id)
        if image is not None:
            info.context.surrogate.add(f"img:{image.id}")
        return image


@strawberry.type(description="A topic label on articles.")
class Tag(Node):
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe identifier, used by `articles(tag:)`.")

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, models.Tag)

    @strawberry.field(description="Path of the tag's page on the public site: the site's `tagPathPrefix`, the slug "
                      "and a slash (`/tags/diplomacy/`). Prefix it with `Site.baseUrl` for a full URL.")
    def url(self, info: Info) -> str:
        return then(load_now(info.context.loaders.site, 0), lambda settings: site.tag_url(settings, self.slug))
