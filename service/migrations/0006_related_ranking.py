from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

# Keep article_tag's copies of live, published_at and section current.
SQLITE_FORWARD = [
    """CREATE TRIGGER article_tag_copy_insert AFTER INSERT ON article_tag WHEN new.published_at IS NULL BEGIN
        UPDATE article_tag SET
            live = (SELECT p.live FROM page p WHERE p.id = new.article_id),
            published_at = (SELECT p.published_at FROM page p WHERE p.id = new.article_id),
            section_id = (SELECT p.parent_id FROM page p WHERE p.id = new.article_id)
        WHERE id = new.id;
    END""",
    """CREATE TRIGGER article_tag_copy_page AFTER UPDATE OF live, published_at, parent_id ON page BEGIN
        UPDATE article_tag SET live = new.live, published_at = new.published_at, section_id = new.parent_id
        WHERE article_id = new.id;
    END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS article_tag_copy_page", "DROP TRIGGER IF EXISTS article_tag_copy_insert"]
POSTGRES_FORWARD = [
    """CREATE FUNCTION article_tag_copy_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.published_at IS NULL THEN
            SELECT p.live, p.published_at, p.parent_id INTO NEW.live, NEW.published_at, NEW.section_id
            FROM page p WHERE p.id = NEW.article_id;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER article_tag_copy_insert BEFORE INSERT ON article_tag
        FOR EACH ROW EXECUTE FUNCTION article_tag_copy_insert()""",
    """CREATE FUNCTION article_tag_copy_page() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_tag SET live = NEW.live, published_at = NEW.published_at, section_id = NEW.parent_id
        WHERE article_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER article_tag_copy_page AFTER UPDATE OF live, published_at, parent_id ON page
        FOR EACH ROW EXECUTE FUNCTION article_tag_copy_page()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS article_tag_copy_page ON page",
    "DROP FUNCTION IF EXISTS article_tag_copy_page()",
    "DROP TRIGGER IF EXISTS article_tag_copy_insert ON article_tag",
    "DROP FUNCTION IF EXISTS article_tag_copy_insert()",
]
BACKFILL = """UPDATE article_tag SET
    live = (SELECT p.live FROM page p WHERE p.id = article_tag.article_id),
    published_at = (SELECT p.published_at FROM page p WHERE p.id = article_tag.article_id),
    section_id = (SELECT p.parent_id FROM page p WHERE p.id = article_tag.article_id)"""


def _runner(sqlite, postgres, backfill: bool):
    async def run(apps, schema_editor) -> None:
        dialect = schema_editor.client.capabilities.dialect
        statements = list(sqlite if dialect == "sqlite" else postgres)
        if backfill:
            statements.append(BACKFILL)
        for statement in statements:
            await schema_editor.client.execute_query(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [('masthead', '0005_comments_moderation')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ArticleTag',
            name='live',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='ArticleTag',
            name='published_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ArticleTag',
            name='section_id',
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name='ArticleTag',
            index=Index(fields=['tag_id', 'live', 'article_id', 'section_id', 'published_at']),
        ),
        ops.RunPython(
            _runner(SQLITE_FORWARD, POSTGRES_FORWARD, backfill=True),
            _runner(SQLITE_BACKWARD, POSTGRES_BACKWARD, backfill=False),
        ),
    ]
