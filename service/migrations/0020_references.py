"""The reference index: which pages link to which, and which pages use which images.

service/references.py rebuilds a page's rows from its content on every save (the
latest revision) and publish (the page row). Existing pages are indexed here, from
the same content: links by reference are new, so what is found are their images
(hero and image blocks). Depends on 0018 for now; issue 13's locales (0019) come first
on merge, and this then follows them.
"""

from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from service.page_links import references_in

_CHUNK = 500


def _json(value):
    return loads(value) if isinstance(value, (str, bytes)) else value


async def _index_existing(apps, schema_editor) -> None:
    client = schema_editor.client
    sqlite = client.capabilities.dialect == "sqlite"

    def marks(count: int, start: int = 1) -> str:
        return ", ".join("?" if sqlite else f"${n}" for n in range(start, start + count))

    last = 0
    while True:
        rows = await client.execute_query_dict(
            "SELECT id, hero_image_id, body, first_published_at, latest_revision_id FROM page "
            f"WHERE kind = 'article' AND id > {marks(1)} ORDER BY id LIMIT {_CHUNK}", [last])
        if not rows:
            return
        last = rows[-1]["id"]
        revision_ids = [row["latest_revision_id"] for row in rows if row["latest_revision_id"] is not None]
        latest = {}
        if revision_ids:
            found = await client.execute_query_dict(
                f"SELECT id, content FROM page_revision WHERE id IN ({marks(len(revision_ids))})", revision_ids)
            latest = {row["id"]: _json(row["content"]) for row in found}
        values = []
        for row in rows:
            contents = []
            if row["first_published_at"] is not None:  # what readers see while it is live
                contents.append(("live", {"hero_image_id": row["hero_image_id"], "body": _json(row["body"]) or []}))
            if row["latest_revision_id"] in latest:
                contents.append(("latest", latest[row["latest_revision_id"]] or {}))
            for content, data in contents:
                for kind, page_id, image_id, field in references_in(data):
                    values.append([row["id"], content, kind, field, page_id, image_id])
        if values:
            await client.execute_many(
                "INSERT INTO page_reference (page_id, content, kind, field, target_page_id, target_image_id) "
                f"VALUES ({marks(6)})", values)


async def _nothing(apps, schema_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("masthead", "0019_locales")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PageReference",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("page", fields.ForeignKeyField("masthead.Page", source_field="page_id", db_constraint=True, to_field="id",
                                                related_name=False, on_delete=OnDelete.CASCADE)),
                ("content", fields.CharField(max_length=8)),
                ("kind", fields.CharField(max_length=8)),
                ("field", fields.CharField(max_length=64)),
                ("target_page", fields.ForeignKeyField("masthead.Page", source_field="target_page_id", null=True,
                                                       db_constraint=True, to_field="id", related_name=False,
                                                       on_delete=OnDelete.CASCADE)),
                ("target_image", fields.ForeignKeyField("masthead.Image", source_field="target_image_id", null=True,
                                                        db_constraint=True, to_field="id", related_name=False,
                                                        on_delete=OnDelete.CASCADE)),
            ],
            options={"table": "page_reference", "app": "masthead", "pk_attr": "id",
                     "indexes": [Index(fields=["page_id", "content"]), Index(fields=["target_page_id", "content"]),
                                 Index(fields=["target_image_id"])],
                     "table_description": "One thing a page's content refers to: another page (a link in a paragraph) "
                                          "or an image (its hero image, an image block)."},
            bases=["Model"],
        ),
        ops.RunPython(_index_existing, _nothing),
    ]
