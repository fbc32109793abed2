"""The app and its databases: one app per session and backend, a clean database per test."""

from __future__ import annotations

import os
import socket
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


async def create_postgres_database(server_url: str, template: str | None = None) -> str:
    """A new, empty database; or a copy of `template` (a database URL nobody is connected to)."""
    import asyncpg

    name = f"masthead_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        copy = f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
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
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        await migrate(Settings(database_url=url), quiet=True)
        yield url
        return
    url = await create_postgres_database(postgres_server_url())
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


@pytest.fixture
async def demo_site(client, media_dir):
    """The demo newsroom, loaded through the seeding service, its pictures in the app's media directory."""
    from service import media, seed

    await seed.seed_demo(media.LocalStorage(media_dir))
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
