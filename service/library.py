"""The library editors keep beside the pages: images' metadata and authors' profiles.

Both show on public pages (a hero's caption and credit, a byline's avatar), so a
change purges what showed them: `img:<id>` for an image (every answer that showed
it carries that key), `author:<id>` for an author (articles and lists with the
byline, and the author's own list).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service import db, fields, media, models, purges
from service.errors import ErrorCode, UserError, required_text


async def update_image(image_id: int, changes: Mapping[str, Any]) -> models.Image:
    """Change an image's title, alt text, credit, caption or focal point; NOT_FOUND for an unknown id."""
    image = await models.Image.get_or_none(id=image_id)
    if image is None:
        raise UserError("There is no image with that id.", ErrorCode.NOT_FOUND, field="id")
    clean: dict[str, Any] = media.check_text({k: v for k, v in changes.items() if k in media.TEXT_LIMITS})
    if "focal_x" in changes or "focal_y" in changes:
        fx = changes.get("focal_x", image.focal_x)
        fy = changes.get("focal_y", image.focal_y)
        clean["focal_x"], clean["focal_y"] = media.check_focal(fx, fy)
    if clean:
        async with db.serialised():
            await models.Image.filter(id=image_id).update(**clean)
        # Renditions already made keep their crop: a new focal point shows in renditions made after it.
        await purges.purge([f"img:{image_id}"])
    return await models.Image.get(id=image_id)


async def update_author(author_id: int, changes: Mapping[str, Any]) -> models.Author:
    """Change an author's name, bio or avatar (an image id, None to remove it); NOT_FOUND for unknown ids."""
    author = await models.Author.get_or_none(id=author_id)
    if author is None:
        raise UserError("There is no author with that id.", ErrorCode.NOT_FOUND, field="id")
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = required_text(changes["name"], "name", 255)
    if "bio" in changes:
        clean["bio"] = fields.text(changes["bio"], "bio", 5000)
    if "avatar_id" in changes:
        avatar_id = changes["avatar_id"]
        if avatar_id is not None and not await models.Image.exists(id=avatar_id):
            raise UserError("avatarImageId is not the id of an image.", ErrorCode.NOT_FOUND, field="avatar_image_id")
        clean["avatar_id"] = avatar_id
    if clean:
        async with db.serialised():
            await models.Author.filter(id=author_id).update(**clean)
        await purges.purge([f"author:{author_id}"])
    return await models.Author.get(id=author_id)
