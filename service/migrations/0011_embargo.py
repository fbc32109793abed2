"""Embargoes and expiry that hold for everything below a page.

Pages gain effective visibility columns (service/visibility.py): tree_live (the
page and every ancestor live), public_from (the latest go_live_at among them) and
public_until (the earliest expire_at). Public reads test these instead of the
page's own flag and window, and the listing indexes follow. article_tag's copies
(migration 0006) now copy the effective state, window included, so related-article
ranking never counts an article hidden by its section. Existing rows are filled
level by level, on SQLite and PostgreSQL alike.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

_COPY_COLUMNS = "tree_live, public_from, public_until, published_at, parent_id"
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS article_tag_copy_page",
    "DROP TRIGGER IF EXISTS article_tag_copy_insert",
    """CREATE TRIGGER article_tag_copy_insert AFTER INSERT ON article_tag WHEN new.published_at IS NULL BEGIN
        UPDATE article_tag SET
            live = (SELECT p.tree_live FROM page p WHERE p.id = new.article_id),
            published_at = (SELECT p.published_at FROM page p WHERE p.id = new.article_id),
            section_id = (SELECT p.parent_id FROM page p WHERE p.id = new.article_id),
            public_from = (SELECT p.public_from FROM page p WHERE p.id = new.article_id),
            public_until = (SELECT p.public_until FROM page p WHERE p.id = new.article_id)
        WHERE id = new.id;
    END""",
    f"""CREATE TRIGGER article_tag_copy_page AFTER UPDATE OF {_COPY_COLUMNS} ON page BEGIN
        UPDATE article_tag SET live = new.tree_live, published_at = new.published_at, section_id = new.parent_id,
            public_from = new.public_from, public_until = new.public_until
        WHERE article_id = new.id;
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS article_tag_copy_page",
    "DROP TRIGGER IF EXISTS article_tag_copy_insert",
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
POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION article_tag_copy_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.published_at IS NULL THEN
            SELECT p.tree_live, p.published_at, p.parent_id, p.public_from, p.public_until
            INTO NEW.live, NEW.published_at, NEW.section_id, NEW.public_from, NEW.public_until
            FROM page p WHERE p.id = NEW.article_id;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION article_tag_copy_page() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_tag SET live = NEW.tree_live, published_at = NEW.published_at, section_id = NEW.parent_id,
            public_from = NEW.public_from, public_until = NEW.public_until
        WHERE article_id = NEW.id;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS article_tag_copy_page ON page",
    f"""CREATE TRIGGER article_tag_copy_page AFTER UPDATE OF {_COPY_COLUMNS} ON page
        FOR EACH ROW EXECUTE FUNCTION article_tag_copy_page()""",
]
POSTGRES_BACKWARD = [
    """CREATE OR REPLACE FUNCTION article_tag_copy_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.published_at IS NULL THEN
            SELECT p.live, p.published_at, p.parent_id INTO NEW.live, NEW.published_at, NEW.section_id
            FROM page p WHERE p.id = NEW.article_id;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION article_tag_copy_page() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_tag SET live = NEW.live, published_at = NEW.published_at, section_id = NEW.parent_id
        WHERE article_id = NEW.id;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS article_tag_copy_page ON page",
    """CREATE TRIGGER article_tag_copy_page AFTER UPDATE OF live, published_at, parent_id ON page
        FOR EACH ROW EXECUTE FUNCTION article_tag_copy_page()""",
]
# The same statements as service/visibility.py, frozen here as migrations must be.
ROOT = "UPDATE page SET tree_live = live, public_from = go_live_at, public_until = expire_at WHERE parent_id IS NULL"
LEVEL = """UPDATE page SET
    tree_live = (page.live AND q.tree_live),
    public_from = CASE
        WHEN q.public_from IS NULL THEN page.go_live_at
        WHEN page.go_live_at IS NULL OR page.go_live_at < q.public_from THEN q.public_from
        ELSE page.go_live_at END,
    public_until = CASE
        WHEN q.public_until IS NULL THEN page.expire_at
        WHEN page.expire_at IS NULL OR page.expire_at > q.public_until THEN q.public_until
        ELSE page.expire_at END
FROM page q WHERE q.id = page.parent_id AND page.depth = {depth}"""
BACKFILL_TAGS = """UPDATE article_tag SET
    live = (SELECT p.tree_live FROM page p WHERE p.id = article_tag.article_id),
    public_from = (SELECT p.public_from FROM page p WHERE p.id = article_tag.article_id),
    public_until = (SELECT p.public_until FROM page p WHERE p.id = article_tag.article_id)"""
RESTORE_TAGS = "UPDATE article_tag SET live = (SELECT p.live FROM page p WHERE p.id = article_tag.article_id)"


def _runner(sqlite, postgres, forward: bool):
    async def run(apps, schema_editor) -> None:
        client = schema_editor.client
        for statement in sqlite if client.capabilities.dialect == "sqlite" else postgres:
            await client.execute_query(statement)
        if not forward:
            await client.execute_query(RESTORE_TAGS)
            return
        await client.execute_query(ROOT)
        _, rows = await client.execute_query("SELECT MAX(depth) AS d FROM page")
        deepest = (dict(rows[0])["d"] if rows else None) or 1
        for depth in range(2, int(deepest) + 1):
            await client.execute_query(LEVEL.format(depth=depth))
        await client.execute_query(BACKFILL_TAGS)

    return run


class Migration(migrations.Migration):
    dependencies = [('masthead', '0010_trusted_documents_idempotency')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='ArticleTag',
            name=None,
            fields=['tag_id', 'live', 'article_id', 'section_id', 'published_at'],
        ),
        ops.AddField(
            model_name='ArticleTag',
            name='public_from',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ArticleTag',
            name='public_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='ArticleTag',
            index=Index(fields=['tag_id', 'live', 'article_id', 'section_id', 'published_at', 'public_from', 'public_until']),
        ),
        ops.RemoveIndex(
            model_name='Page',
            name=None,
            fields=['kind', 'live', 'published_at'],
        ),
        ops.RemoveIndex(
            model_name='Page',
            name=None,
            fields=['parent_id', 'kind', 'live', 'published_at'],
        ),
        ops.AddField(
            model_name='Page',
            name='public_from',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Page',
            name='public_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Page',
            name='tree_live',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name='Page',
            index=Index(fields=['kind', 'tree_live', 'published_at']),
        ),
        ops.AddIndex(
            model_name='Page',
            index=Index(fields=['parent_id', 'kind', 'tree_live', 'published_at']),
        ),
        ops.RunPython(
            _runner(SQLITE_FORWARD, POSTGRES_FORWARD, forward=True),
            _runner(SQLITE_BACKWARD, POSTGRES_BACKWARD, forward=False),
        ),
    ]
