"""Menus: pages' `show_in_menus` flag (Wagtail's).

Existing sections are shown in menus, other pages are not (the defaults new pages
get too).
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def _sections_in_menus(apps, schema_editor) -> None:
    await schema_editor.client.execute_query("UPDATE page SET show_in_menus = TRUE WHERE kind = 'section'")


async def _nothing(apps, schema_editor) -> None:
    return None


class Migration(migrations.Migration):
    # Issue 13 numbers this after 0018_references; rechain on merge if that lands first.
    dependencies = [("masthead", "0015_purge_retry")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Page",
            name="show_in_menus",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(model_name="Page", index=Index(fields=["parent_id", "show_in_menus", "position"])),
        ops.RunPython(_sections_in_menus, _nothing),
    ]
