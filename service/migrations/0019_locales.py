"""Locales and translations (issue 13).

page.locale: the language of the page's tree (every existing page: the site's
locale, "en" unless an admin set another); page.translation_key: shared by a page's
translations, unique per locale (existing pages each get their own);
site_settings.locales: the site's other locales, space-separated.

Search on PostgreSQL stems each row in its own language: the generated tsvector
column is rebuilt with the text-search configuration of the row's locale (the
mapping is service/locales.py's TS_CONFIGS, frozen here). SQLite's FTS5 index keeps
its tokenizer (porter, unicode61 with remove_diacritics 2).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

TS_CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "ga": "irish", "hu": "hungarian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch", "nn": "norwegian", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}


def _config(expr: str) -> str:
    cases = " ".join(f"WHEN '{code}' THEN '{name}'::regconfig" for code, name in TS_CONFIGS.items())
    return f"(CASE lower(split_part({expr}, '-', 1)) {cases} ELSE 'simple'::regconfig END)"


def _vector(config: str) -> str:
    return f"""ALTER TABLE page ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector({config}, coalesce(title, '')), 'A') ||
        setweight(to_tsvector({config}, coalesce(headline, '')), 'A') ||
        setweight(to_tsvector({config}, coalesce(summary, '')), 'B') ||
        setweight(to_tsvector({config}, coalesce(body_text, '')), 'C')
    ) STORED"""


POSTGRES_FORWARD = [
    "UPDATE page SET locale = coalesce((SELECT s.locale FROM site_settings s ORDER BY s.id LIMIT 1), 'en')",
    "UPDATE page SET translation_key = md5(random()::text || id::text)",
    "CREATE UNIQUE INDEX page_translation_key_locale ON page (translation_key, locale)",
    "ALTER TABLE page DROP COLUMN search_vector",
    _vector(_config("locale")),
    "CREATE INDEX page_search_vector_idx ON page USING GIN (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS page_translation_key_locale",
    "ALTER TABLE page DROP COLUMN search_vector",
    _vector("'english'"),
    "CREATE INDEX page_search_vector_idx ON page USING GIN (search_vector)",
]
SQLITE_FORWARD = [
    "UPDATE page SET locale = coalesce((SELECT s.locale FROM site_settings s ORDER BY s.id LIMIT 1), 'en')",
    "UPDATE page SET translation_key = lower(hex(randomblob(16)))",
    "CREATE UNIQUE INDEX page_translation_key_locale ON page (translation_key, locale)",
]
SQLITE_BACKWARD = ["DROP INDEX IF EXISTS page_translation_key_locale"]


def _runner(sqlite: list[str], postgres: list[str]):
    async def run(apps, schema_editor) -> None:
        dialect = schema_editor.client.capabilities.dialect
        for statement in sqlite if dialect == "sqlite" else postgres:
            await schema_editor.client.execute_query(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("masthead", "0018_feed_indexes")]

    initial = False

    operations = [
        ops.AddField(model_name="Page", name="locale",
                     field=fields.CharField(default="en", db_default="en", max_length=35)),
        ops.AddField(model_name="Page", name="translation_key",
                     field=fields.CharField(db_default="", max_length=32)),
        ops.AddField(model_name="SiteSettings", name="locales",
                     field=fields.CharField(default="", db_default="", max_length=255)),
        ops.RunPython(_runner(SQLITE_FORWARD, POSTGRES_FORWARD), _runner(SQLITE_BACKWARD, POSTGRES_BACKWARD)),
    ]
