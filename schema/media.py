"""Images, authors and tags: the snippets articles point at."""

from __future__ import annotations

import strawberry


@strawberry.type(description="An image and its stored metadata.")
class Image:
    id: strawberry.ID = strawberry.field(description="Image id.")
    url: str = strawberry.field(description="Where the original file is served.")
    width: int = strawberry.field(description="Width of the original, in pixels.")
    height: int = strawberry.field(description="Height of the original, in pixels.")
    alt: str = strawberry.field(description="Alternative text for screen readers.")
    title: str = strawberry.field(description="Title of the image in the library.")
    credit: str = strawberry.field(description="Photographer or agency credit; may be empty.")


@strawberry.type(description="A person who writes for the site.")
class Author:
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe identifier, used by `articles(author:)`.")
    bio: str = strawberry.field(description="Short biography; may be empty.")


@strawberry.type(description="A topic label on articles.")
class Tag:
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe identifier, used by `articles(tag:)`.")
