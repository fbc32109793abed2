"""Load-and-fault harness: reads and comment posts against a real uvicorn, then a fault.

Every comment carries a unique marker and an idempotency key; a client retries a
post that got no answer (with the same key), as a real one would. Afterwards
every acknowledged marker must be in the database exactly once. `make test`
runs each scenario for a few seconds; `make soak` (MASTHEAD_SOAK_SECONDS=60) for
longer. The figures of each run are printed (`-s` shows them) and asserted.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from conftest import BACKENDS, create_postgres_database

pytestmark = pytest.mark.faults

SECONDS = float(os.environ.get("MASTHEAD_SOAK_SECONDS", "4"))
ARTICLE = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
LOAD_ENV = {"MASTHEAD_COMMENT_RATE_CLIENT": "1000000/60", "MASTHEAD_COMMENT_RATE_ARTICLE": "1000000/60",
            "MASTHEAD_COMMENT_MIN_SECONDS": "0",
            "MASTHEAD_RATE_POINTS": "0", "MASTHEAD_BACKGROUND_JOBS": "0",
            # Reads must reach the database to see it fail: the response cache would answer them.
            "MASTHEAD_RESPONSE_CACHE_BYTES": "0"}
ADD = """mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } errors { code message } } }"""
READ = """query($p: String!) { page(urlPath: $p) { title ... on ArticlePage { commentCount comments(first: 5) { totalCount } } } }"""


@dataclass
class Load:
    base: str
    article_id: str
    form_token: str
    writers: int = 4
    readers: int = 4
    acknowledged: set[str] = field(default_factory=set)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    codes: collections.Counter = field(default_factory=collections.Counter)  # extensions.code of every error
    timeline: list[tuple[float, bool]] = field(default_factory=list)  # (time, a read succeeded)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, response: httpx.Response | None, error: Exception | None = None) -> None:
        if response is None:
            self.statuses[type(error).__name__] += 1
            return
        self.statuses[response.status_code] += 1
        text = response.text
        if response.status_code >= 500 and response.status_code not in (503, 504):
            self.failures.append(f"{response.status_code}: {text[:200]}")
        if "database is locked" in text or "Traceback" in text:
            self.failures.append(f"leaked: {text[:200]}")
        if "errors" in text and response.headers.get("content-type", "").startswith("application/json"):
            for error in response.json().get("errors", []):
                code = (error.get("extensions") or {}).get("code")
                self.codes[code] += 1
                if not code:
                    self.failures.append(f"uncoded error: {error}")
                elif code == "INTERNAL_SERVER_ERROR":
                    self.failures.append(f"{response.status_code} unexpected error: {error}")
                elif code == "DATABASE_UNAVAILABLE" and response.status_code != 503:
                    self.failures.append(f"DATABASE_UNAVAILABLE with {response.status_code}")

    async def writer(self, http: httpx.AsyncClient, n: int) -> None:
        while not self.stop.is_set():
            marker = f"soak-{uuid.uuid4().hex}"
            variables = {"input": {"articleId": self.article_id, "authorName": f"Writer {n}", "authorEmail": f"w{n}@example.org",
                                   "body": marker, "idempotencyKey": marker, "formToken": self.form_token}}
            for _attempt in range(30):  # retry unanswered posts with the same key, as a client would
                try:
                    response = await http.post("/graphql", json={"query": ADD, "variables": variables})
                except httpx.HTTPError as error:
                    self.record(None, error)
                    await asyncio.sleep(0.2)
                    continue
                self.record(response)
                if response.status_code == 200:
                    data = response.json().get("data") or {}
                    posted = data.get("addComment") or {}
                    if posted.get("comment"):
                        self.acknowledged.add(marker)
                        break
                await asyncio.sleep(0.2)

    async def reader(self, http: httpx.AsyncClient) -> None:
        while not self.stop.is_set():
            try:
                response = await http.post("/graphql", json={"query": READ, "variables": {"p": ARTICLE}})
            except httpx.HTTPError as error:
                self.record(None, error)
                self.timeline.append((time.monotonic(), False))
                await asyncio.sleep(0.05)
                continue
            self.record(response)
            ok = response.status_code == 200 and bool((response.json().get("data") or {}).get("page"))
            self.timeline.append((time.monotonic(), ok))

    async def run(self, during) -> None:
        limits = httpx.Limits(max_connections=self.writers + self.readers + 4)
        async with httpx.AsyncClient(base_url=self.base, timeout=5, limits=limits) as http:
            tasks = [asyncio.create_task(self.writer(http, n)) for n in range(self.writers)]
            tasks += [asyncio.create_task(self.reader(http)) for _ in range(self.readers)]
            try:
                await during()
            finally:
                self.stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)

    def report(self, name: str, **figures) -> dict:
        summary = {"scenario": name, "seconds": SECONDS, "acknowledged": len(self.acknowledged),
                   "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=str)}, **figures}
        print("\nFAULT " + json.dumps(summary))
        return summary


async def _open_form(base: str) -> tuple[str, str]:
    """The article's id and a comment formToken, as a frontend gets them."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        article_id = (await http.post("/graphql", json={"query": '{ page(urlPath: "%s") { id } }' % ARTICLE})).json()["data"]["page"]["id"]
        answer = await http.post("/graphql", json={"query": "query($id: ID!) { commentFormToken(articleId: $id) }",
                                                   "variables": {"id": article_id}})
        return article_id, answer.json()["data"]["commentFormToken"]


def stored_markers(url: str) -> collections.Counter:
    query = "SELECT body FROM comment WHERE body LIKE 'soak-%'"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("://", 1)[1]) as conn:
            return collections.Counter(row[0] for row in conn.execute(query))
    out = subprocess.run(["psql", url.replace("postgres://", "postgresql://"), "-Atc", query], capture_output=True, text=True, check=True)
    return collections.Counter(line for line in out.stdout.splitlines() if line)


def assert_exactly_once(load: Load, url: str) -> collections.Counter:
    stored = stored_markers(url)
    missing = load.acknowledged - set(stored)
    doubled = [m for m, n in stored.items() if n > 1]
    assert not missing, f"{len(missing)} acknowledged comments were lost"
    assert not doubled, f"{len(doubled)} comments were stored twice"
    assert not load.failures, load.failures[:5]
    return stored


@pytest.mark.skipif("sqlite" not in BACKENDS, reason="SQLite scenario")
async def test_sqlite_sigkill_mid_write_loses_nothing_and_stays_intact(scratch_database, serve):
    url = await scratch_database("sqlite")
    server = serve(url, "--seed-demo", env=LOAD_ENV)
    load = Load(server.base, *await _open_form(server.base), writers=8, readers=2)
    restarted = {}

    async def during() -> None:
        await asyncio.sleep(SECONDS / 2)
        server.process.kill()  # SIGKILL mid-write: no shutdown, no flush
        server.process.wait(timeout=10)
        await asyncio.sleep(0.5)
        restarted["server"] = await asyncio.to_thread(serve, url, env=LOAD_ENV, port=server.port)
        await asyncio.sleep(SECONDS / 2)

    await load.run(during)
    restarted["server"].stop()
    with sqlite3.connect(url.split("://", 1)[1]) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stored = assert_exactly_once(load, url)
    load.report("sqlite-sigkill", stored=sum(stored.values()))
    assert len(load.acknowledged) > 10


@pytest.mark.skipif("sqlite" not in BACKENDS, reason="SQLite scenario")
async def test_sqlite_sixteen_concurrent_writers_never_see_a_lock(scratch_database, serve):
    url = await scratch_database("sqlite")
    server = serve(url, "--seed-demo", "--workers", "2", env=LOAD_ENV)
    load = Load(server.base, *await _open_form(server.base), writers=16, readers=2)
    await load.run(lambda: asyncio.sleep(SECONDS))
    server.stop()
    stored = assert_exactly_once(load, url)
    load.report("sqlite-16-writers", stored=sum(stored.values()))
    assert set(load.statuses) == {200} and len(load.acknowledged) > 16


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sigterm_under_load_finishes_what_it_acknowledged(backend, scratch_database, serve):
    url = await scratch_database(backend)
    server = serve(url, "--seed-demo", env=LOAD_ENV)
    load = Load(server.base, *await _open_form(server.base), writers=6, readers=2)

    async def during() -> None:
        await asyncio.sleep(SECONDS / 2)
        server.process.send_signal(signal.SIGTERM)  # graceful: in-flight requests finish first
        await asyncio.get_running_loop().run_in_executor(None, lambda: server.process.wait(timeout=30))
        load.stop.set()

    await load.run(during)
    # uvicorn re-raises SIGTERM once it has shut down gracefully; "Finished" says it did.
    assert server.process.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in server.output()
    stored = assert_exactly_once(load, url)
    load.report(f"{backend}-sigterm", stored=sum(stored.values()))
    assert not any(isinstance(k, int) and k >= 500 for k in load.statuses)


@pytest.fixture(scope="module")
def private_postgres():
    """A PostgreSQL instance of this module's own, which its scenarios stop and restart."""
    from private_postgres import PrivateCluster, binaries

    if binaries() is None:
        reason = "no PostgreSQL server binaries (initdb, pg_ctl) to run a private instance"
        if os.environ.get("MASTHEAD_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = PrivateCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


async def _restart_under_load(cluster, server, load: Load, mode: str, outage: float = 1.5) -> dict:
    """Stop the cluster mid-load (`mode`), keep it down for `outage` seconds, start it, let load resume."""
    marks: dict = {}

    async def during() -> None:
        await asyncio.sleep(SECONDS / 2)
        marks["down"] = time.monotonic()
        try:
            stopped = await asyncio.to_thread(cluster.stop, mode)
            marks["escalated"] = getattr(stopped, "escalated", False)
            async with httpx.AsyncClient(base_url=server.base, timeout=5) as http:
                marks["readyz_down"] = (await http.get("/readyz")).status_code
            await asyncio.sleep(outage)  # an outage the clients notice
        finally:
            await asyncio.to_thread(cluster.start)
        marks["up"] = time.monotonic()
        deadline = marks["up"] + 10
        while time.monotonic() < deadline:
            if any(ok and t > marks["up"] for t, ok in load.timeline):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(SECONDS / 2)

    await load.run(during)
    return marks


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgres_restart_mid_load_recovers_without_a_service_restart(mode, private_postgres, serve):
    url = await create_postgres_database(private_postgres.url)
    server = serve(url, "--seed-demo", env=LOAD_ENV)
    load = Load(server.base, *await _open_form(server.base), writers=4, readers=4)
    marks = await _restart_under_load(private_postgres, server, load, mode)
    recovered = [t for t, ok in load.timeline if ok and t > marks["up"]]
    failed_during = sum(1 for t, ok in load.timeline if not ok and marks["down"] <= t)
    async with httpx.AsyncClient(base_url=server.base, timeout=5) as http:
        ready_after = (await http.get("/readyz")).status_code
    server.stop()
    stored = assert_exactly_once(load, url)
    load.report(f"postgres-restart-{mode}", escalated_to_immediate=marks.get("escalated", False),
                stored=sum(stored.values()), failed_reads_during_outage=failed_during,
                seconds_to_recover=round(recovered[0] - marks["up"], 2) if recovered else None)
    assert marks["readyz_down"] == 503 and ready_after == 200
    assert recovered and recovered[0] - marks["up"] < 10
    assert failed_during > 0  # the outage was seen, and answered cleanly (checked in record())


async def test_postgres_fast_restart_answers_every_failure_with_a_coded_503(private_postgres, serve):
    """Concurrent writers and readers through a fast restart: each failure is 503 DATABASE_UNAVAILABLE."""
    url = await create_postgres_database(private_postgres.url)
    server = serve(url, "--seed-demo", env=LOAD_ENV)
    load = Load(server.base, *await _open_form(server.base), writers=8, readers=8)

    async def during() -> None:
        for _ in range(3):  # each restart is a chance to catch an idle pooled connection mid-close
            await asyncio.sleep(SECONDS / 4)
            await asyncio.to_thread(private_postgres.stop, "fast")
            await asyncio.sleep(0.5)
            await asyncio.to_thread(private_postgres.start)
        await asyncio.sleep(SECONDS / 2)

    await load.run(during)
    log = server.stop()
    stored = assert_exactly_once(load, url)
    load.report("postgres-fast-restart-codes", stored=sum(stored.values()), codes=dict(load.codes))
    assert load.codes["DATABASE_UNAVAILABLE"] > 0, load.codes  # the outage was seen
    assert set(load.codes) <= {"DATABASE_UNAVAILABLE"}, load.codes
    assert not any(isinstance(k, int) and k >= 500 and k != 503 for k in load.statuses), load.statuses
    assert "unexpected error" not in log, log[log.find("unexpected error") - 200:][:3000]
    assert stored.keys() >= load.acknowledged and len(load.acknowledged) > 0


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL scenario")
async def test_postgres_terminated_backends_answer_503_never_500(scratch_database, serve):
    """The server closing pooled connections (pg_terminate_backend, as a restart does) under load."""
    import asyncpg

    url = await scratch_database("postgres")
    server = serve(url, "--seed-demo", env=LOAD_ENV)
    load = Load(server.base, *await _open_form(server.base), writers=8, readers=8)
    name = url.rsplit("/", 1)[1]
    terminated = []

    async def during() -> None:
        admin = await asyncpg.connect(url.replace(f"/{name}", "/postgres"))
        try:
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:  # only this test's database: other tests' sessions are untouched
                rows = await admin.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
                terminated.append(len(rows))
                await asyncio.sleep(0.1)
        finally:
            await admin.close()

    await load.run(during)
    log = server.stop()
    stored = assert_exactly_once(load, url)
    load.report("postgres-terminated-backends", stored=sum(stored.values()), terminated=sum(terminated), codes=dict(load.codes))
    assert sum(terminated) > 0 and len(load.acknowledged) > 0
    assert set(load.codes) <= {"DATABASE_UNAVAILABLE"}, load.codes
    assert not any(isinstance(k, int) and k >= 500 and k != 503 for k in load.statuses), load.statuses
    assert "unexpected error" not in log, log[log.find("unexpected error") - 200:][:3000]


def _read_response(sock) -> tuple[bytes, bytes] | None:
    """(head, body) of one HTTP response, or None if the connection ended first (a reset raises)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next((line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), b"0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head.lower(), body


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sigterm_answers_the_next_request_on_kept_alive_connections_with_connection_close(backend, scratch_database, serve):
    """After SIGTERM each kept-alive connection's next request is answered (Connection: close), never reset."""
    server = serve(await scratch_database(backend), "--no-migrate", env=LOAD_ENV)
    outcomes = await asyncio.to_thread(_sigterm_with_kept_alive_connections, server)
    print(f"\nSIGTERM keep-alive outcomes: {dict(outcomes)}")
    assert outcomes == {"answered, connection: close": 8}, outcomes


def _sigterm_with_kept_alive_connections(server, connections: int = 8) -> collections.Counter:
    import select
    import socket

    request = b"GET /healthz HTTP/1.1\r\nHost: masthead\r\n\r\n"
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(connections)]
    for sock in sockets:  # each connection kept alive after one answered request
        sock.sendall(request)
        assert b" 200 " in _read_response(sock)[0].split(b"\r\n")[0]
    server.process.send_signal(signal.SIGTERM)
    outcomes = collections.Counter()
    pending = list(sockets)
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        for sock in list(pending):
            if select.select([sock], [], [], 0)[0] and not sock.recv(1, socket.MSG_PEEK):
                outcomes["closed before a request"] += 1  # a clean FIN before anything was sent
                pending.remove(sock)
                continue
            try:
                sock.sendall(request)
                answer = _read_response(sock)
            except ConnectionResetError:
                answer, outcomes["reset"] = None, outcomes["reset"] + 1
            if answer is None:
                outcomes["request lost"] += 1
                pending.remove(sock)
            elif b"connection: close" in answer[0]:
                outcomes["answered, connection: close"] += 1
                pending.remove(sock)
        time.sleep(0.02)
    for sock in sockets:
        sock.close()
    server.process.wait(timeout=30)
    return outcomes
