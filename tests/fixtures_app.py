"""The app and its databases: one app per session and backend, a clean database per test."""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from service import db
from service.app import create_app
from service.cli import migrate
from service.settings import Settings


def postgres_server_url() -> str | None:
    url = os.environ.get("MASTHEAD_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return "postgres://postgres@127.0.0.1:5432/postgres"
    except OSError:
        return None


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_postgres_database(server_url: str, template: str | None = None, settings: dict | None = None) -> str:
    """A new, empty database; or a copy of `template` (a database URL nobody is connected to);
    with `settings` (ALTER DATABASE ... SET) for every session on it."""
    import asyncpg

    name = f"masthead_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        copy = f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
        for setting, value in (settings or {}).items():
            await conn.execute(f'ALTER DATABASE "{name}" SET {setting} = {value}')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(with_database(url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


BACKENDS = ["sqlite"] + (["postgres"] if postgres_server_url() else [])
if os.environ.get("MASTHEAD_REQUIRE_POSTGRES") and "postgres" not in BACKENDS:
    raise RuntimeError("MASTHEAD_REQUIRE_POSTGRES is set but PostgreSQL does not answer on 127.0.0.1:5432")


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(request, tmp_path_factory) -> AsyncIterator[str]:
    # The in-process tests' databases skip the flush at each commit (SQLite synchronous=NORMAL in
    # WAL mode, PostgreSQL synchronous_commit=off): what they check never depends on surviving a
    # power cut, and each seeds the demo site in some 150 commits. The durability and fault tests
    # serve their own databases with the production settings.
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}?synchronous=NORMAL"
        await migrate(Settings(database_url=url), quiet=True)
        yield url
        return
    url = await create_postgres_database(postgres_server_url(), settings={"synchronous_commit": "off"})
    try:
        await migrate(Settings(database_url=url), quiet=True)
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(scope="session")
def media_dir(database_url, tmp_path_factory):
    """The session app's media directory (uploads, renditions and the demo's pictures)."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
async def app(database_url, media_dir):
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    # Tortoise caches SQL per connection name; the session switches dialect under "default".
    EXECUTOR_CACHE.clear()
    # No response cache: tests change content below the service's operations too (tests/test_response_cache.py turns it on).
    application = create_app(Settings(database_url=database_url, background_jobs=False, media_dir=media_dir, rate_points=0,
                                      response_cache_bytes=0))
    async with application.router.lifespan_context(application):
        yield application


def model_tables() -> list[str]:
    """Every table the models own: each model's, and the through table of each many-to-many field."""
    from tortoise import Tortoise

    tables = set()
    for models in Tortoise.apps.values():
        for model in models.values():
            meta = model._meta
            tables.add(meta.db_table)
            tables.update(meta.fields_map[name].through for name in meta.m2m_fields)
    return sorted(tables)


async def truncate() -> None:
    from service import cache_stores, operations, webhooks

    operations._CACHE.clear()  # registered operations are cached per process
    cache_stores.forget_all()  # responses of the last test's content
    webhooks.forget_subscribers()  # whether an endpoint takes cache.purge, as the last test left it
    tables = model_tables()
    conn = db.connection()
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f"DELETE FROM {table};" for table in tables)
            + "DELETE FROM sqlite_sequence; PRAGMA foreign_keys=ON;"
        )
    else:
        await conn.execute_script(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a clean database."""
    await truncate()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def backend(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


class PostgresSnapshot:
    """Every table's rows (and every sequence) of a PostgreSQL database, as one moment left them.

    Seeding the demo site is some 1,000 statements, over a second on PostgreSQL; putting its
    rows back with COPY takes a tenth of that. Rows go back with triggers off (session_replication_role
    = replica: no foreign-key order to follow, no trigger writing a row twice), so the content
    version, which triggers keep, is moved past every value the last test saw instead: the
    process's caches keyed by it must not take the restored rows for what they cached."""

    KEEP = ("content_version",)  # restored by hand, see above

    def __init__(self, conn, tables: dict[str, bytes], sequences: list[tuple[str, int | None]]) -> None:
        self.conn, self.tables, self.sequences = conn, tables, sequences

    @classmethod
    async def take(cls, url: str) -> "PostgresSnapshot":
        import io

        import asyncpg

        conn = await asyncpg.connect(url)
        names = [row["tablename"] for row in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        tables = {}
        for name in names:
            if name in cls.KEEP or name.startswith("tortoise"):  # the migrations' own bookkeeping stays
                continue
            out = io.BytesIO()
            await conn.copy_from_table(name, output=out)
            tables[name] = out.getvalue()
        sequences = [(f'public."{row["sequencename"]}"', row["last_value"]) for row in await conn.fetch(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")]
        return cls(conn, tables, sequences)

    async def restore(self) -> None:
        import io

        async with self.conn.transaction():
            await self.conn.execute("SET LOCAL session_replication_role = replica")
            await self.conn.execute("TRUNCATE " + ", ".join(f'"{name}"' for name in self.tables))
            for name, rows in self.tables.items():
                if rows:
                    await self.conn.copy_to_table(name, source=io.BytesIO(rows))
            for sequence, last in self.sequences:
                await self.conn.execute("SELECT setval($1, $2, $3)", sequence, last or 1, last is not None)
            await self.conn.execute("UPDATE content_version SET value = value + 1 WHERE id = 1")

    async def close(self) -> None:
        await self.conn.close()


class SqliteSnapshot:
    """A copy of a SQLite database in memory, put back with SQLite's backup API (the whole file,
    page by page, under its write lock; the app's connections see it as another process's
    commit). The content version goes on from the last test's, as for PostgresSnapshot."""

    def __init__(self, path: str, copy: sqlite3.Connection) -> None:
        self.path, self.copy = path, copy

    @classmethod
    async def take(cls, url: str) -> "SqliteSnapshot":
        path = db.sqlite_path(url)
        source, copy = sqlite3.connect(path), sqlite3.connect(":memory:")
        try:
            source.backup(copy)
        finally:
            source.close()
        return cls(path, copy)

    async def restore(self) -> None:
        target = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            (version,), = target.execute("SELECT value FROM content_version WHERE id = 1").fetchall()
            self.copy.backup(target)
            target.execute("UPDATE content_version SET value = ? WHERE id = 1", (version + 1,))
        finally:
            target.close()

    async def close(self) -> None:
        self.copy.close()


@pytest.fixture(scope="session")
async def demo_snapshots():
    """url -> a snapshot of the demo site, taken after a session's first seeding on that database."""
    taken: dict[str, PostgresSnapshot | SqliteSnapshot] = {}
    yield taken
    for snapshot in taken.values():
        await snapshot.close()


@pytest.fixture
async def demo_site(client, media_dir, database_url, demo_snapshots):
    """The demo newsroom, loaded through the seeding service, its pictures in the app's media directory.

    The first test of a session on each database seeds it; later ones get the same rows back
    from a snapshot (seeding is some 1,000 statements: 0.4 s on SQLite, 1.3 s on PostgreSQL)."""
    from service import media, seed

    snapshot = demo_snapshots.get(database_url)
    if snapshot is not None:
        await snapshot.restore()
        return client
    await seed.seed_demo(media.LocalStorage(media_dir))
    kind = SqliteSnapshot if database_url.startswith("sqlite") else PostgresSnapshot
    demo_snapshots[database_url] = await kind.take(database_url)
    return client


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(self, query: str, variables: dict | None = None, *, errors: bool = False, **extra) -> dict:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}, **extra})
        assert response.status_code == 200, response.text
        body = response.json()
        if not errors:
            assert "errors" not in body, body["errors"]
            return body["data"]
        return body


@pytest.fixture
async def make_client(app, database_url):
    """A client for an app with other settings, on the session's database (no second lifespan)."""
    opened = []

    async def make(**overrides) -> httpx.AsyncClient:
        # rate_limit_delay=0: a 429 is answered at once (tests/test_guard.py checks the delay itself).
        settings = replace(Settings(database_url=database_url, background_jobs=False, rate_points=0, response_cache_bytes=0,
                                    rate_limit_delay=0), **overrides)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://testserver")
        opened.append(client)
        return client

    yield make
    for client in opened:
        state = client._transport.app.state
        await state.budget.aclose()
        await state.render_budget.aclose()  # a Redis client too, when the settings name one
        if state.response_cache is not None:
            await state.response_cache.aclose()
        await client.aclose()


@pytest.fixture
def gql(client) -> GraphQLClient:
    return GraphQLClient(client)
