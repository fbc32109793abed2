"""Full-text search over articles: FTS5 on SQLite, a generated tsvector on PostgreSQL.

Tortoise's model state knows nothing of these objects; they are queried with SQL in
service/search.py. Triggers (SQLite) and the generated column (PostgreSQL) keep the
index current on every write, bulk inserts included.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE page_fts USING fts5(
        title, headline, summary, body_text,
        content='page', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER page_fts_insert AFTER INSERT ON page WHEN new.kind = 'article' BEGIN
        INSERT INTO page_fts(rowid, title, headline, summary, body_text)
        VALUES (new.id, new.title, new.headline, new.summary, new.body_text);
    END""",
    """CREATE TRIGGER page_fts_delete AFTER DELETE ON page WHEN old.kind = 'article' BEGIN
        INSERT INTO page_fts(page_fts, rowid, title, headline, summary, body_text)
        VALUES ('delete', old.id, old.title, old.headline, old.summary, old.body_text);
    END""",
    """CREATE TRIGGER page_fts_update AFTER UPDATE OF title, headline, summary, body_text ON page
    WHEN old.kind = 'article' BEGIN
        INSERT INTO page_fts(page_fts, rowid, title, headline, summary, body_text)
        VALUES ('delete', old.id, old.title, old.headline, old.summary, old.body_text);
        INSERT INTO page_fts(rowid, title, headline, summary, body_text)
        VALUES (new.id, new.title, new.headline, new.summary, new.body_text);
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS page_fts_update",
    "DROP TRIGGER IF EXISTS page_fts_delete",
    "DROP TRIGGER IF EXISTS page_fts_insert",
    "DROP TABLE IF EXISTS page_fts",
]

POSTGRES_FORWARD = [
    """ALTER TABLE page ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(headline, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(summary, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(body_text, '')), 'C')
    ) STORED""",
    "CREATE INDEX page_search_vector_idx ON page USING GIN (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS page_search_vector_idx",
    "ALTER TABLE page DROP COLUMN IF EXISTS search_vector",
]


def _runner(sqlite: list[str], postgres: list[str]):
    async def run(apps, schema_editor) -> None:
        dialect = schema_editor.client.capabilities.dialect
        for statement in sqlite if dialect == "sqlite" else postgres:
            # One statement a call: the SQLite editor splits scripts on ";", which
            # would cut the trigger bodies apart.
            await schema_editor.client.execute_query(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("masthead", "0001_initial")]

    operations = [
        ops.RunPython(
            _runner(SQLITE_FORWARD, POSTGRES_FORWARD),
            _runner(SQLITE_BACKWARD, POSTGRES_BACKWARD),
        ),
    ]
