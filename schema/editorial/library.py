"""The library API: images (upload, metadata) and authors (profiles, avatars), and their listings."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload

from schema.context import Info
from schema.editorial.inputs import plain_id
from schema.errors import check_first
from schema.media import Author, Image
from schema.payloads import UserError, mutation
from schema.permissions import IsEditor
from service import library, media, pages
from service import errors as service_errors


@strawberry.type(description="The result of uploadImage or updateImage.")
class ImagePayload:
    image: Image | None = strawberry.field(default=None, description="The library image.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of updateAuthor.")
class AuthorPayload:
    author: Author | None = strawberry.field(default=None, description="The author afterwards.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.input(description="Changes to a library image: only the fields given change.")
class UpdateImageInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Title in the library.")
    alt: str | None = strawberry.field(default=strawberry.UNSET, description="Alternative text for readers who cannot see it.")
    credit: str | None = strawberry.field(default=strawberry.UNSET, description="Photographer or agency credit.")
    caption: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Default caption, shown under the image where an article uses it as its hero without a caption "
        "of its own (up to 1,000 characters).",
    )
    focal_x: float | None = strawberry.field(default=strawberry.UNSET, description="Horizontal position of the subject, 0 (left) to 1 (right); null: the centre.")
    focal_y: float | None = strawberry.field(default=strawberry.UNSET, description="Vertical position of the subject, 0 (top) to 1 (bottom); null: the centre.")


@strawberry.input(description="Changes to an author: only the fields given change.")
class UpdateAuthorInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    bio: str | None = strawberry.field(default=strawberry.UNSET, description="Short biography (up to 5,000 characters).")
    avatar_image_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Id of a library image (Image.id) for the portrait; null removes it."
    )


def _given(input: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The input fields the caller set (null included), by their service names."""
    return {name: value for name in names if (value := getattr(input, name)) is not strawberry.UNSET}


@strawberry.type
class LibraryMutation:
    @mutation(
        permission_classes=[IsEditor],
        description="Upload an image (editor) as a GraphQL multipart request. Checked by content: JPEG, PNG, WebP "
        "or GIF, at most 10 MB and 40 megapixels. focalX/focalY (0..1) keep the subject in crops."
    )
    async def upload_image(
        self,
        info: Info,
        file: Annotated[Upload, strawberry.argument(description="The image file (multipart upload).")],
        alt: Annotated[str, strawberry.argument(description="Alternative text for readers who cannot see it.")] = "",
        title: Annotated[str, strawberry.argument(description="Title in the library.")] = "",
        credit: Annotated[str, strawberry.argument(description="Photographer or agency credit.")] = "",
        focal_x: Annotated[float | None, strawberry.argument(description="Horizontal position of the subject, 0 (left) to 1 (right).")] = None,
        focal_y: Annotated[float | None, strawberry.argument(description="Vertical position of the subject, 0 (top) to 1 (bottom).")] = None,
        caption: Annotated[str, strawberry.argument(description="Default caption, shown under the image where an article uses it as its hero without a caption of its own.")] = "",
    ) -> ImagePayload:
        if not hasattr(file, "read"):
            raise service_errors.UserError("Send the file as a multipart upload (variables.file).",
                                           service_errors.ErrorCode.INVALID, field="file")
        data = await file.read(media.MAX_UPLOAD_BYTES + 1)  # one byte over is enough to refuse
        image = await media.add_image(
            media.LocalStorage(info.context.settings.media_dir), data, title=title, alt=alt, credit=credit,
            caption=caption, focal_x=focal_x, focal_y=focal_y,
        )
        return ImagePayload(image=image)

    @mutation(
        permission_classes=[IsEditor],
        description="Change a library image's title, alt text, credit, caption or focal point (editor). Pages "
        "showing it show the change at once (cached answers are purged).",
    )
    async def update_image(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the image (Image.id).")],
        input: Annotated[UpdateImageInput, strawberry.argument(description="The fields to change.")],
    ) -> ImagePayload:
        changes = _given(input, ("title", "alt", "credit", "caption", "focal_x", "focal_y"))
        return ImagePayload(image=await library.update_image(plain_id(id, "id"), changes))

    @mutation(
        permission_classes=[IsEditor],
        description="Change an author's name, bio or avatar (editor). Bylines showing the author show the change at "
        "once (cached answers are purged).",
    )
    async def update_author(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the author (Author.id).")],
        input: Annotated[UpdateAuthorInput, strawberry.argument(description="The fields to change.")],
    ) -> AuthorPayload:
        changes = _given(input, ("name", "bio"))
        if input.avatar_image_id is not strawberry.UNSET:
            changes["avatar_id"] = plain_id(input.avatar_image_id, "avatar_image_id")
        return AuthorPayload(author=await library.update_author(plain_id(id, "id"), changes))


@strawberry.type
class LibraryQuery:
    @strawberry.field(description="Authors, by name, with their ids (for CreateArticleInput.authorIds).")
    async def authors(self, info: Info) -> list[Author]:
        found = await pages.authors()
        info.context.surrogate.add(*(f"author:{author.id}" for author in found))  # updateAuthor purges them
        return found

    @strawberry.field(description="The image library, newest first (editor).", permission_classes=[IsEditor])
    async def images(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        before_id: Annotated[int | None, strawberry.argument(description="Id of the last image seen: older ones follow.")] = None,
    ) -> list[Image]:
        check_first(first, 100)
        return await media.library(first, before_id)
