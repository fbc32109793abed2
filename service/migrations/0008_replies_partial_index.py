"""Replies by parent through a partial index of replies only.

Most comments have no parent; after ANALYZE, an index over parent_id looks
unselective (its NULLs count) and SQLite scans the table, or builds a temporary
index per query, to find replies. Indexing only rows that have a parent keeps the
statistics honest on both databases.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

FORWARD = "CREATE INDEX comment_replies_idx ON comment (parent_id, status, created_at) WHERE parent_id IS NOT NULL"
BACKWARD = "DROP INDEX IF EXISTS comment_replies_idx"


def _run(statement: str):
    async def run(apps, schema_editor) -> None:
        await schema_editor.client.execute_query(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("masthead", "0007_comment_defence_indexes")]

    operations = [ops.RunPython(_run(FORWARD), _run(BACKWARD))]
