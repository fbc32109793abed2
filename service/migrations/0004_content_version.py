"""A content version: one counter that every change to published content bumps.

Readers use it to keep in-process caches exact: a cached result is reused only
while the version it was computed at is still current. Comment counters on pages
are left out, so comment traffic does not invalidate page caches.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

WATCHED = ["page", "article_tag", "article_author", "article_relation", "tag", "author", "image", "site_settings"]
# Every page column but the comment counters.
PAGE_COLUMNS = (
    "kind, parent_id, path, depth, position, slug, url_path, title, seo_title, search_description, live, "
    "first_published_at, last_published_at, description, headline, summary, published_at, source, "
    "reading_time, comments_enabled, hero_image_id, body"
)
BUMP = "UPDATE content_version SET value = value + 1 WHERE id = 1"


def _sqlite_forward() -> list[str]:
    statements = [
        "CREATE TABLE content_version (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO content_version (id, value) VALUES (1, 1)",
    ]
    for table in WATCHED:
        for event in ("INSERT", "DELETE", "UPDATE"):
            target = f"UPDATE OF {PAGE_COLUMNS}" if (table == "page" and event == "UPDATE") else event
            statements.append(
                f"CREATE TRIGGER content_version_{table}_{event.lower()} AFTER {target} ON {table} "
                f"BEGIN {BUMP}; END"
            )
    return statements


def _sqlite_backward() -> list[str]:
    drops = [f"DROP TRIGGER IF EXISTS content_version_{t}_{e}" for t in WATCHED for e in ("insert", "delete", "update")]
    return drops + ["DROP TABLE IF EXISTS content_version"]


def _postgres_forward() -> list[str]:
    statements = [
        "CREATE TABLE content_version (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)",
        "INSERT INTO content_version (id, value) VALUES (1, 1)",
        f"""CREATE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {BUMP}; RETURN NULL; END $$""",
    ]
    for table in WATCHED:
        events = f"INSERT OR DELETE OR TRUNCATE OR UPDATE OF {PAGE_COLUMNS}" if table == "page" else "INSERT OR DELETE OR UPDATE OR TRUNCATE"
        statements.append(
            f"CREATE TRIGGER content_version_{table} AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
        )
    return statements


def _postgres_backward() -> list[str]:
    drops = [f"DROP TRIGGER IF EXISTS content_version_{t} ON {t}" for t in WATCHED]
    return drops + ["DROP FUNCTION IF EXISTS bump_content_version()", "DROP TABLE IF EXISTS content_version"]


def _runner(sqlite, postgres):
    async def run(apps, schema_editor) -> None:
        dialect = schema_editor.client.capabilities.dialect
        for statement in sqlite() if dialect == "sqlite" else postgres():
            await schema_editor.client.execute_query(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("masthead", "0003_section_listing_index")]

    operations = [
        ops.RunPython(_runner(_sqlite_forward, _postgres_forward), _runner(_sqlite_backward, _postgres_backward)),
    ]
