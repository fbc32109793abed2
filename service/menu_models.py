"""Tortoise models of named menus (service/menus.py keeps them).

Beside service/models.py rather than in it, which is at the module size limit; the
app's tortoise config lists both modules (service/db.py), so they are one app
("masthead") and point at `masthead.Page` like any other model.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Menu(Model):
    """A named menu (`main`, `footer` ...) editors keep, its items replaced as a whole."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "menu"


class MenuItem(Model):
    """One link of a menu: to a page (its id: the link follows the page) or to an external URL.

    Menus nest one level, and are written whole in one statement, so a child names its
    parent by the parent's position (`parent_position`) rather than by a row id."""

    id = fields.IntField(primary_key=True)
    menu = fields.ForeignKeyField("masthead.Menu", related_name="items", on_delete=fields.CASCADE)
    # Null for a top-level item; for a child, the position of its parent among the top-level items.
    parent_position = fields.IntField(null=True)
    position = fields.IntField()  # among its siblings, from 0
    # A deleted page leaves the item without a target: readers never see it, editors do (and fix it).
    page = fields.ForeignKeyField("masthead.Page", related_name=False, null=True, on_delete=fields.SET_NULL)
    url = fields.CharField(max_length=1024, default="")  # an external link (http, https, mailto) when page is null
    label = fields.CharField(max_length=255, default="")  # "" on a page item: the page's title

    class Meta:
        table = "menu_item"
        indexes = (Index(fields=("menu_id", "parent_position", "position")), Index(fields=("page_id",)))
