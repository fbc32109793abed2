"""The `masthead` command, run as a user would, on both databases."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import BACKENDS, run_cli

pytestmark = pytest.mark.parametrize("kind", BACKENDS)


async def counts(url: str) -> dict[str, int]:
    import asyncpg

    tables = ("page", "comment", "tag", "author", "article_relation")
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("://", 1)[1])
        try:
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
        finally:
            conn.close()
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f"SELECT COUNT(*) FROM {t}") for t in tables}
    finally:
        await conn.close()


async def test_migrate_is_idempotent_and_seed_demo_loads_once(kind, scratch_database):
    url = await scratch_database(kind, migrated=False)
    first = run_cli("migrate", database_url=url)
    assert "0002_fulltext" in first.stdout
    again = run_cli("migrate", database_url=url)
    assert "applying" not in again.stdout and "Migrations applied" in again.stdout
    seeded = run_cli("seed", "--demo", database_url=url)
    assert "30 articles" in seeded.stdout
    refused = run_cli("seed", "--demo", database_url=url, check=False)
    assert refused.returncode == 1 and "already has pages" in refused.stderr
    skipped = run_cli("seed", "--demo", "--if-empty", database_url=url)
    assert "nothing seeded" in skipped.stdout
    assert (await counts(url))["page"] == 1 + 9 + 30 + 6  # and the French edition: /fr/, two sections, three articles


async def test_synthetic_seed_is_deterministic_and_complete(kind, scratch_database):
    one, two = await scratch_database(kind), await scratch_database(kind)
    for url in (one, two):
        result = run_cli("seed", "--synthetic", "--articles", "120", "--comments-per-article", "3", database_url=url)
        assert "120 articles" in result.stdout
    a, b = await counts(one), await counts(two)
    assert a == b == {"page": 1 + 12 + 120, "comment": 360, "tag": 200, "author": 50, "article_relation": 4 * 116}


def test_export_schema_prints_the_committed_sdl(kind, tmp_path):
    from pathlib import Path

    result = run_cli("export-schema", "--output", "-", database_url="sqlite://unused")
    committed = (Path(__file__).resolve().parent.parent / "schema" / "schema.graphql").read_text()
    assert result.stdout == committed


def test_default_database_is_a_wal_sqlite_file_under_data(kind, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    if kind != "sqlite":
        pytest.skip("the default database is SQLite")
    env = {k: v for k, v in os.environ.items() if k != "MASTHEAD_DATABASE_URL"}
    masthead = Path(sys.executable).with_name("masthead")
    subprocess.run([str(masthead), "migrate"], cwd=tmp_path, env=env, check=True, capture_output=True)
    path = tmp_path / "data" / "masthead.sqlite3"
    assert path.exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


@pytest.mark.parametrize("env, secret, message", [
    ("prod", "k" * 40, "MASTHEAD_ENV must be one of development, test, staging, production; got 'prod'"),
    ("staging", "", "MASTHEAD_SECRET_KEY must be set when MASTHEAD_ENV is staging"),
    ("production", "k" * 31, "MASTHEAD_SECRET_KEY must be at least 32 bytes when MASTHEAD_ENV is production"),
])
async def test_serve_refuses_an_unknown_environment_and_a_weak_secret(kind, scratch_database, env, secret, message):
    url = await scratch_database(kind, migrated=False)
    result = run_cli("serve", "--port", "9", database_url=url, check=False, timeout=60,
                     MASTHEAD_ENV=env, MASTHEAD_SECRET_KEY=secret)
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and "Serving" not in result.stdout
