"""Which images published content shows: page_image, kept by triggers on page.

A page row holds only what readers see (drafts live in page_revision), so the
images of its hero and image blocks are exactly the ones its publication shows.
Triggers keep the table in step with every writer (publishing, imports, seeds,
raw SQL) and existing rows are filled here; /media asks it, joined with the
page's visibility, whether an anonymous reader may have an image.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# The images of `new`'s hero and image blocks that exist; ids that are not plain
# integers (never stored by validation, but the column is free JSON) are skipped.
SQLITE_IMAGES = """SELECT {page}, i.id FROM image i WHERE i.id IN (
    SELECT {page_alias}hero_image_id
    UNION SELECT json_extract(b.value, '$.value.image_id')
    FROM json_each(CASE WHEN json_type({page_alias}body) = 'array' THEN {page_alias}body ELSE '[]' END) b
    WHERE b.type = 'object' AND json_extract(b.value, '$.type') = 'image'
      AND json_type(b.value, '$.value.image_id') = 'integer')"""
POSTGRES_IMAGES = """SELECT {page}, i.id FROM image i WHERE i.id IN (
    SELECT {page_alias}hero_image_id
    UNION SELECT CASE WHEN b->'value'->>'image_id' ~ '^[0-9]{{1,9}}$' THEN (b->'value'->>'image_id')::int END
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof({page_alias}body::jsonb) = 'array'
                                   THEN {page_alias}body::jsonb ELSE '[]'::jsonb END) b
    WHERE b->>'type' = 'image')"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER page_image_insert AFTER INSERT ON page BEGIN
        INSERT INTO page_image (page_id, image_id) {SQLITE_IMAGES.format(page="new.id", page_alias="new.")};
    END""",
    f"""CREATE TRIGGER page_image_update AFTER UPDATE OF body, hero_image_id ON page BEGIN
        DELETE FROM page_image WHERE page_id = new.id;
        INSERT INTO page_image (page_id, image_id) {SQLITE_IMAGES.format(page="new.id", page_alias="new.")};
    END""",
]
SQLITE_BACKFILL = """INSERT INTO page_image (page_id, image_id)
    SELECT p.id, i.id FROM page p JOIN image i ON i.id = p.hero_image_id
    UNION SELECT p.id, i.id FROM page p
    JOIN json_each(CASE WHEN json_type(p.body) = 'array' THEN p.body ELSE '[]' END) b
    JOIN image i ON i.id = json_extract(b.value, '$.value.image_id')
    WHERE b.type = 'object' AND json_extract(b.value, '$.type') = 'image'
      AND json_type(b.value, '$.value.image_id') = 'integer'"""
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS page_image_update", "DROP TRIGGER IF EXISTS page_image_insert"]

POSTGRES_FORWARD = [
    f"""CREATE FUNCTION page_image_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM page_image WHERE page_id = NEW.id;
        END IF;
        INSERT INTO page_image (page_id, image_id) {POSTGRES_IMAGES.format(page="NEW.id", page_alias="NEW.")};
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER page_image_sync AFTER INSERT OR UPDATE OF body, hero_image_id ON page
        FOR EACH ROW EXECUTE FUNCTION page_image_sync()""",
]
POSTGRES_BACKFILL = """INSERT INTO page_image (page_id, image_id)
    SELECT p.id, i.id FROM page p JOIN image i ON i.id = p.hero_image_id
    UNION SELECT p.id, i.id FROM page p
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(p.body::jsonb) = 'array'
                                                 THEN p.body::jsonb ELSE '[]'::jsonb END) b
    JOIN image i ON i.id::text = b->'value'->>'image_id'
    WHERE b->>'type' = 'image'"""
POSTGRES_BACKWARD = ["DROP TRIGGER IF EXISTS page_image_sync ON page", "DROP FUNCTION IF EXISTS page_image_sync()"]


def _runner(sqlite: list[str], postgres: list[str]):
    async def run(apps, schema_editor) -> None:
        dialect = schema_editor.client.capabilities.dialect
        for statement in sqlite if dialect == "sqlite" else postgres:
            await schema_editor.client.execute_query(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("masthead", "0011_embargo")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PageImage",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("page", fields.ForeignKeyField("masthead.Page", source_field="page_id", db_constraint=True, to_field="id",
                                                related_name=False, on_delete=OnDelete.CASCADE)),
                ("image", fields.ForeignKeyField("masthead.Image", source_field="image_id", db_constraint=True, to_field="id",
                                                 related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={"table": "page_image", "app": "masthead", "unique_together": (("page_id", "image_id"),),
                     "indexes": [Index(fields=["image_id", "page_id"])], "pk_attr": "id",
                     "table_description": "An image that a page's published content shows (hero or image block)."},
            bases=["Model"],
        ),
        ops.AddIndex(model_name="Image", index=Index(fields=["file"])),
        ops.RunPython(
            _runner([*SQLITE_FORWARD, SQLITE_BACKFILL], [*POSTGRES_FORWARD, POSTGRES_BACKFILL]),
            _runner(SQLITE_BACKWARD, POSTGRES_BACKWARD),
        ),
    ]
