"""Tortoise model of the reference index (service/references.py keeps it).

Beside service/models.py rather than in it, like service/menu_models.py: the app's
tortoise config lists it (service/db.py), so it is part of the "masthead" app.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class PageReference(Model):
    """One thing a page's content refers to: another page (a link in a paragraph) or an image
    (its hero image, an image block).

    Rebuilt from the content whenever it changes: `content` says which content the row
    comes from, "live" (the page row: what readers see while the page is published,
    rebuilt on every publish) or "latest" (the latest revision: the draft, rebuilt on
    every save). A reference in both has a row for each."""

    id = fields.IntField(primary_key=True)
    page = fields.ForeignKeyField("masthead.Page", related_name=False, on_delete=fields.CASCADE)  # the source
    content = fields.CharField(max_length=8)  # "live" or "latest"
    kind = fields.CharField(max_length=8)  # "link", "hero" or "image"
    field = fields.CharField(max_length=64)  # where in the content: "body.3", "hero_image"
    target_page = fields.ForeignKeyField("masthead.Page", related_name=False, null=True, on_delete=fields.CASCADE)
    target_image = fields.ForeignKeyField("masthead.Image", related_name=False, null=True, on_delete=fields.CASCADE)

    class Meta:
        table = "page_reference"
        indexes = (
            Index(fields=("page_id", "content")),
            Index(fields=("target_page_id", "content")),
            Index(fields=("target_image_id",)),
        )
