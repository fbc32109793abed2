"""One app factory, a clean database per test, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import tempfile
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dataclasses import replace

import httpx
import pytest

from service import db
from service.app import create_app
from service.cli import migrate
from service.settings import Settings

# The frontend teams' operations live in ../shared/contract; byte-identical copies in
# schema/operations are what the suite runs, so a clone of this repository alone passes.
OPERATIONS_DIR = Path(__file__).resolve().parents[1] / "schema" / "operations"
CONTRACT_NAMES = ("AddComment", "ArticleList", "ArticlePage", "CommentAdded", "HomePage", "Node", "SectionPage")
SHARED_CONTRACT_DIR = Path(__file__).resolve().parents[2] / "shared" / "contract"
if not SHARED_CONTRACT_DIR.exists():  # a checkout beside shared/ under another name
    SHARED_CONTRACT_DIR = Path(os.environ.get("MASTHEAD_CONTRACT_DIR", "../shared/contract")).resolve()

TABLES = [
    "persisted_operation", "webhook_delivery", "webhook", "page_revision", "page_image", "redirect", "comment", "article_relation", "article_tag", "article_author", "page", "tag", "author", "image", "site_settings",
    "api_token",
]


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


async def create_postgres_database(server_url: str) -> str:
    import asyncpg

    name = f"masthead_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
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


def run_cli(*args: str, database_url: str, timeout: float = 300, check: bool = True, **env: str):
    """Run the installed `masthead` command against a database."""
    import subprocess
    import sys

    environ = {**os.environ, "MASTHEAD_DATABASE_URL": database_url, **env}
    masthead = Path(sys.executable).with_name("masthead")
    result = subprocess.run(
        [str(masthead), *args], env=environ, capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert result.returncode == 0, f"masthead {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def contract() -> dict[str, str]:
    """The frontend contract operations, by name, from their copies in schema/operations."""
    return {name: (OPERATIONS_DIR / f"{name}.graphql").read_text() for name in CONTRACT_NAMES}


@pytest.fixture(scope="session")
async def scratch_database(tmp_path_factory):
    """Make fresh, migrated databases for tests that run their own processes."""
    made: list[str] = []

    async def make(backend: str, migrated: bool = True) -> str:
        if backend == "sqlite":
            url = f"sqlite://{tmp_path_factory.mktemp('db') / 'masthead.sqlite3'}"
        else:
            url = await create_postgres_database(postgres_server_url())
            made.append(url)
        if migrated:
            run_cli("migrate", database_url=url)
        return url

    yield make
    for url in made:
        await drop_postgres_database(url)


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
async def app(database_url, tmp_path_factory):
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    tmp_media = tmp_path_factory.mktemp("media")

    # Tortoise caches SQL per connection name; the session switches dialect under "default".
    EXECUTOR_CACHE.clear()
    application = create_app(Settings(database_url=database_url, background_jobs=False, media_dir=tmp_media, rate_points=0))
    async with application.router.lifespan_context(application):
        yield application


async def truncate() -> None:
    from service import operations

    operations._CACHE.clear()  # registered operations are cached per process
    conn = db.connection()
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f"DELETE FROM {table};" for table in TABLES)
            + "DELETE FROM sqlite_sequence; PRAGMA foreign_keys=ON;"
        )
    else:
        await conn.execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


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
async def demo_site(client):
    """The demo newsroom, loaded through the seeding service."""
    from service import seed

    await seed.seed_demo()
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
        settings = replace(Settings(database_url=database_url, background_jobs=False, rate_points=0), **overrides)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://testserver")
        opened.append(client)
        return client

    yield make
    for client in opened:
        state = client._transport.app.state
        await state.budget.aclose()
        await state.render_budget.aclose()  # a Redis client too, when the settings name one
        await client.aclose()


@pytest.fixture
def gql(client) -> GraphQLClient:
    return GraphQLClient(client)


class SQLCounter(logging.Handler):
    """Counts the SQL statements tortoise sends (one DEBUG record each)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s":
            self.statements.append(str(record.args[0]))

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def sql_counter():
    logger = logging.getLogger("tortoise.db_client")
    counter = SQLCounter()
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(level)
    logger.propagate = propagate


# -- real servers on loopback ---------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, url: str, *args: str, env: dict | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "PORT": str(self.port), "HOST": "127.0.0.1", **(env or {})}
        masthead = Path(sys.executable).with_name("masthead")
        # Output goes to a file: a pipe nobody reads fills up, and the service blocks on its next log line.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([str(masthead), "serve", *args], env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.output()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("server did not come up")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.output()


@pytest.fixture
def serve():
    started: list[Server] = []

    def start(url: str, *args: str, env: dict | None = None, port: int | None = None) -> Server:
        server = Server(url, *args, env=env, port=port)
        started.append(server)
        server.wait()
        return server

    yield start
    for server in started:
        server.stop()
        server.log.close()




def pytest_collection_modifyitems(config, items):
    """Fault scenarios last: they restart PostgreSQL, which every other test's pool would notice."""
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)
