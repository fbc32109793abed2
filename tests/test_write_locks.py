"""A write that waits for another writer's lock: the worker keeps answering meanwhile,
the write lands once the lock is free, and a lock held past the busy timeout is a
coded 503 the client may retry, never a 500 (service/runtime/sqliteclient.py)."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg
import httpx
import pytest

from fixtures_cli import run_cli
from service import db, models
from test_comments import ADD, make_article, payload

READ = 'query($p: String!) { page(urlPath: $p) { title ... on ArticlePage { commentCount } } }'


class OtherWriter:
    """Another process's transaction holding the lock a comment's insert needs."""

    def __init__(self, backend: str, database_url: str) -> None:
        self.backend, self.database_url = backend, database_url

    async def __aenter__(self) -> "OtherWriter":
        if self.backend == "sqlite":
            self.conn = sqlite3.connect(db.sqlite_path(self.database_url), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")  # SQLite's one write lock
        else:
            self.conn = await asyncpg.connect(self.database_url)
            await self.conn.execute("BEGIN")
            await self.conn.execute("LOCK TABLE comment IN EXCLUSIVE MODE")  # writers wait, readers do not
        return self

    async def release(self) -> None:
        if self.conn is None:
            return
        if self.backend == "sqlite":
            self.conn.execute("COMMIT")
            self.conn.close()
        else:
            await self.conn.execute("COMMIT")
            await self.conn.close()
        self.conn = None

    async def __aexit__(self, *exc) -> None:
        await self.release()


async def test_a_write_waiting_for_the_lock_leaves_reads_answered_then_lands(client, gql, backend, database_url):
    article = await make_article()
    async with OtherWriter(backend, database_url) as other:
        posting = asyncio.create_task(gql(ADD, payload(article)))
        await asyncio.sleep(0.3)
        assert not posting.done()  # waiting for the lock
        # The same worker answers a reader while the write waits: the wait is not on the event loop.
        page = (await asyncio.wait_for(gql(READ, {"p": article.url_path}), 5))["page"]
        assert page["title"] == article.title
        assert not posting.done()
        await other.release()
        added = (await asyncio.wait_for(posting, 10))["addComment"]
    assert added["errors"] == [] and added["status"] == "PENDING"
    assert await models.Comment.filter(article_id=article.id).count() == 1


async def test_a_lock_held_past_the_busy_timeout_is_a_coded_503_and_the_retry_lands(
        backend, database_url, scratch_database, serve):
    if backend != "sqlite":
        pytest.skip("SQLite's busy timeout; PostgreSQL's lock waits end at the statement timeout (tests/test_faults.py)")
    url = await scratch_database("sqlite")
    token = run_cli("token", "create", "--role", "admin", "--name", "desk", database_url=url).stdout.strip().splitlines()[-1]
    server = serve(f"{url}?busy_timeout=400", "--no-migrate")
    rename = {"query": 'mutation { updateSiteSettings(input: {name: "Evening Post"}) { errors { code } } }'}
    headers = {"Authorization": f"Bearer {token}"}
    conn = sqlite3.connect(db.sqlite_path(url), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")  # another process writing, past the 400 ms the server waits
        refused = httpx.post(f"{server.base}/graphql", json=rename, headers=headers, timeout=10)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "1" and "no-store" in refused.headers["Cache-Control"]
    assert refused.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    site = httpx.post(f"{server.base}/graphql", json={"query": "{ site { name } }"}, timeout=10).json()["data"]["site"]
    assert site["name"] != "Evening Post"  # nothing of the refused write stored
    retried = httpx.post(f"{server.base}/graphql", json=rename, headers=headers, timeout=10)
    assert retried.status_code == 200 and retried.json()["data"]["updateSiteSettings"]["errors"] == []
    site = httpx.post(f"{server.base}/graphql", json={"query": "{ site { name } }"}, timeout=10).json()["data"]["site"]
    assert site["name"] == "Evening Post"
    assert "INTERNAL_SERVER_ERROR" not in server.output()


async def test_a_sqlite_write_transaction_runs_without_handing_the_loop_away(client, backend):
    """On SQLite, BEGIN to COMMIT runs without another task getting a turn: the write lock is held for
    the transaction's own work, never while the loop serves others (the reason for the inline client)."""
    if backend != "sqlite":
        pytest.skip("SQLite's single write lock; PostgreSQL locks rows, and its driver awaits the server")
    turns: list[str] = []

    async def other_request() -> None:
        turns.append("other")

    async with db.serialised():
        asyncio.get_running_loop().call_soon(lambda: turns.append("callback"))
        task = asyncio.create_task(other_request())
        await models.Tag.create(name="Harbour", slug="harbour")
        await models.Tag.filter(slug="harbour").update(name="Harbours")
        assert await models.Tag.filter(name="Harbours").count() == 1
        assert turns == []  # nobody else ran inside the transaction
    await task
    assert sorted(turns) == ["callback", "other"]
    # SQLite itself never waits on the loop: a lock held elsewhere is waited for with asyncio sleeps.
    assert (await db.fetch("PRAGMA busy_timeout"))[0]["timeout"] == 0


async def test_a_transaction_that_read_does_not_wait_for_a_lock_it_cannot_use(client, backend, database_url):
    """After a read, a transaction's snapshot would be stale by the time another writer let go (SQLite
    itself does not wait then): the write fails at once instead of holding the worker's connection."""
    if backend != "sqlite":
        pytest.skip("SQLite's snapshot rule for deferred transactions")
    from tortoise.exceptions import OperationalError
    from tortoise.transactions import in_transaction

    async def read_then_write() -> None:
        async with in_transaction():
            await models.Tag.filter(slug="harbour").count()
            await models.Tag.create(name="Harbour", slug="harbour")

    async with OtherWriter(backend, database_url):
        attempt = asyncio.create_task(read_then_write())
        await asyncio.sleep(0.3)
        assert attempt.done()  # failed while the other writer still holds the lock
        with pytest.raises(OperationalError, match="locked"):
            await attempt
    assert await models.Tag.filter(slug="harbour").count() == 0
    await read_then_write()  # the connection is free and the same transaction now succeeds
    assert await models.Tag.filter(slug="harbour").count() == 1
