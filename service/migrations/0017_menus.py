"""Menus: pages' `show_in_menus` flag (Wagtail's), and named menus editors keep.

Existing sections are shown in menus, other pages are not (the defaults new pages
get too). A menu item points at a page by id (a deleted page leaves it without a
target) or at an external URL; children name their parent by its position.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def _sections_in_menus(apps, schema_editor) -> None:
    await schema_editor.client.execute_query("UPDATE page SET show_in_menus = TRUE WHERE kind = 'section'")


async def _nothing(apps, schema_editor) -> None:
    return None


class Migration(migrations.Migration):
    # Issue 13 numbers this after 0018_references: rechain on merge if that lands first.
    dependencies = [("masthead", "0016_frontend_fields")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Page",
            name="show_in_menus",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(model_name="Page", index=Index(fields=["parent_id", "show_in_menus", "position"])),
        ops.RunPython(_sections_in_menus, _nothing),
        ops.CreateModel(
            name="Menu",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=64, unique=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "menu", "app": "masthead", "pk_attr": "id",
                     "table_description": "A named menu (`main`, `footer` ...) editors keep, its items replaced as a whole."},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MenuItem",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("menu", fields.ForeignKeyField("masthead.Menu", source_field="menu_id", db_constraint=True, to_field="id",
                                                related_name="items", on_delete=OnDelete.CASCADE)),
                ("parent_position", fields.IntField(null=True)),
                ("position", fields.IntField()),
                ("page", fields.ForeignKeyField("masthead.Page", source_field="page_id", null=True, db_constraint=True,
                                                to_field="id", related_name=False, on_delete=OnDelete.SET_NULL)),
                ("url", fields.CharField(default="", max_length=1024)),
                ("label", fields.CharField(default="", max_length=255)),
            ],
            options={"table": "menu_item", "app": "masthead", "pk_attr": "id",
                     "indexes": [Index(fields=["menu_id", "parent_position", "position"]), Index(fields=["page_id"])],
                     "table_description": "One link of a menu: to a page (its id: the link follows the page) or to an external URL."},
            bases=["Model"],
        ),
    ]
