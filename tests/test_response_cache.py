"""The response cache: anonymous reads answered before GraphQL, purged after every change.

Most tests wrap a tiny stand-in GraphQL backend (it answers `Cache-Control: public`
with the `Surrogate-Key`s its variables name) in the middleware, so the cache's
own rules are tested alone. The tests named `test_real_app_*` that expect MISS or
HIT need the GraphQL view to mark anonymous reads public (the cache-headers work
of issue 11); the BYPASS ones hold either way.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service import cache_stores, drafts, events, models, publishing, purges, site
from service.cache_stores import MemoryStore, RedisStore
from service.response_cache import ResponseCache
from service.settings import Settings

READ = "query Read($tags: String, $ttl: Int) { read }"


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return True
    except OSError:
        return False


class Backend:
    """A stand-in for the GraphQL view: counts the requests that reach it; `gate` holds them."""

    def __init__(self, read=None) -> None:
        self.calls = 0
        self.read = read
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.app = Starlette(routes=[Route("/graphql", self.graphql, methods=["GET", "POST"])])

    async def graphql(self, request: Request) -> JSONResponse:
        self.calls += 1
        fields = await request.json() if request.method == "POST" else dict(request.query_params)
        variables = fields.get("variables") or {}
        variables = json.loads(variables) if isinstance(variables, str) else variables
        data = {"call": self.calls, "tags": variables.get("tags", "t")}
        if self.read is not None:
            data["read"] = await self.read(variables)
        if self.gate is not None:
            self.entered.set()
            await self.gate.wait()
        public = "mutation" not in fields.get("query", "") and not variables.get("private")
        cache = f"public, max-age=5, s-maxage={variables.get('ttl', 60)}" if public else "private, no-store"
        return JSONResponse({"data": data}, headers={
            "Cache-Control": cache, "Surrogate-Key": data["tags"], "ETag": f'"e{self.calls}"',
            "Vary": "Accept, Accept-Encoding", "X-Request-Id": f"r{self.calls}"})


def client_for(backend: Backend, store) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=ResponseCache(backend.app, store=store)),
                             base_url="http://testserver")


async def get(http: httpx.AsyncClient, query: str = READ, headers: dict | None = None, **variables) -> httpx.Response:
    return await http.get("/graphql", params={"query": query, "variables": json.dumps(variables)},
                          headers={"Accept": "application/json", **(headers or {})})


async def test_miss_then_hit_answers_the_stored_response_for_get_and_post(client):
    backend = Backend()
    async with client_for(backend, MemoryStore(1 << 20)) as http:
        first = await get(http, tags="p:1 articles")
        assert first.headers["x-cache"] == "MISS" and first.json()["data"]["call"] == 1
        again = await get(http, tags="p:1 articles")
        assert again.headers["x-cache"] == "HIT" and again.json() == first.json() and backend.calls == 1
        for name in ("etag", "cache-control", "vary", "surrogate-key"):
            assert again.headers[name] == first.headers[name]
        assert int(again.headers["age"]) >= 0 and "x-request-id" not in again.headers
        # The same request as a JSON POST, variables in another order: the same entry.
        posted = await http.post("/graphql", headers={"Accept": "application/json"},
                                 json={"variables": {"tags": "p:1 articles"}, "query": READ})
        assert posted.headers["x-cache"] == "HIT" and posted.json() == first.json()
        # Another media type asked for is another entry.
        other = await get(http, headers={"Accept": "application/graphql-response+json"}, tags="p:1 articles")
        assert other.headers["x-cache"] == "MISS" and backend.calls == 2
        unchanged = await get(http, headers={"If-None-Match": first.headers["etag"]}, tags="p:1 articles")
        assert unchanged.status_code == 304 and unchanged.headers["x-cache"] == "HIT" and not unchanged.content
        assert unchanged.headers["etag"] == first.headers["etag"] and backend.calls == 2


async def test_credentials_mutations_and_private_answers_bypass(client):
    backend = Backend()
    async with client_for(backend, MemoryStore(1 << 20)) as http:
        for _ in range(2):
            token = await get(http, headers={"Authorization": "Bearer x"}, tags="a")
            assert token.headers["x-cache"] == "BYPASS"
            cookie = await get(http, headers={"Cookie": "session=1"}, tags="a")
            assert cookie.headers["x-cache"] == "BYPASS"
            mutation = await http.post("/graphql", json={"query": "mutation { publish }"})
            assert mutation.headers["x-cache"] == "BYPASS"
            private = await get(http, tags="a", private=True)
            assert private.headers["x-cache"] == "BYPASS"
            preview = await get(http, 'query P($t: String) { page(previewToken: $t) { title } }', t="secret")
            assert preview.headers["x-cache"] == "BYPASS"
        assert backend.calls == 10  # nothing of these was stored or answered from the cache
        mismatched = await http.get("/graphql", params={"query": READ, "extensions": json.dumps(
            {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}})})
        assert mismatched.headers["x-cache"] == "BYPASS"
        import hashlib

        registering = await http.get("/graphql", params={"query": READ, "extensions": json.dumps(
            {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(READ.encode()).hexdigest()}})})
        assert registering.headers["x-cache"] == "BYPASS"  # the view registers it: never answered from the cache


async def test_the_store_is_bounded_in_bytes_least_recently_used_first(client):
    store = MemoryStore(1 << 20)
    backend = Backend()
    async with client_for(backend, store) as http:
        await get(http, tags="a")
        store.max_bytes = limit = int(store.bytes * 2.5)  # two entries of this size fit, three do not
        await get(http, tags="b")
        assert (await get(http, tags="a")).headers["x-cache"] == "HIT"  # a is now the more recent
        await get(http, tags="c")
        assert store.bytes <= limit and len(store.entries) == 2
        assert (await get(http, tags="a")).headers["x-cache"] == "HIT"
        assert (await get(http, tags="b")).headers["x-cache"] == "MISS"  # the least recently used went
    assert (await MemoryStore(0).put("k", cache_stores.Entry([], b"x", 0.0, ()), 60, 0)) is False


async def test_entries_live_for_s_maxage(client, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(cache_stores, "clock", lambda: now[0])
    backend = Backend()
    async with client_for(backend, MemoryStore(1 << 20)) as http:
        await get(http, tags="a", ttl=30)
        now[0] += 29
        assert (await get(http, tags="a", ttl=30)).headers["x-cache"] == "HIT"
        now[0] += 2
        assert (await get(http, tags="a", ttl=30)).headers["x-cache"] == "MISS"
        zero = await get(http, tags="a", ttl=0)  # s-maxage=0: nothing to keep
        assert zero.headers["x-cache"] == "BYPASS"


async def test_a_purge_removes_exactly_the_tagged_entries(client):
    store = MemoryStore(1 << 20)
    backend = Backend()
    async with client_for(backend, store) as http:
        for tags in ("p:1 articles", "p:2 articles", "p:2", "site"):
            await get(http, tags=tags)
        await purges.purge(["p:2"])  # as a change does, after its commit
        states = {tags: (await get(http, tags=tags)).headers["x-cache"]
                  for tags in ("p:1 articles", "p:2 articles", "p:2", "site")}
        assert states == {"p:1 articles": "HIT", "p:2 articles": "MISS", "p:2": "MISS", "site": "HIT"}
        await purges.purge(["articles"])
        assert (await get(http, tags="p:1 articles")).headers["x-cache"] == "MISS"
        assert (await get(http, tags="site")).headers["x-cache"] == "HIT"


async def first_article() -> models.Page:
    return await models.Page.filter(kind=models.PageKind.ARTICLE, live=True).order_by("id").first()


async def test_a_read_that_began_before_a_publish_does_not_store_its_stale_answer(demo_site):
    """The slow read loads the old title, a publish commits and purges, then the read ends."""

    async def title(variables) -> str:
        return (await models.Page.get(id=variables["id"])).title

    backend = Backend(read=title)
    article = await first_article()
    tags = f"p:{article.id}"
    async with client_for(backend, MemoryStore(1 << 20)) as http:
        backend.gate = asyncio.Event()
        slow = asyncio.create_task(get(http, tags=tags, id=article.id))
        await backend.entered.wait()
        await drafts.update_page(article, {"title": "Fresh title"}, "test")
        await publishing.publish(await models.Page.get(id=article.id), None, "test")
        backend.gate.set()
        stale = await slow
        assert stale.json()["data"]["read"] == article.title and stale.headers["x-cache"] == "MISS"
        backend.gate = None
        fresh = await get(http, tags=tags, id=article.id)
        assert fresh.headers["x-cache"] == "MISS" and fresh.json()["data"]["read"] == "Fresh title"
        cached = await get(http, tags=tags, id=article.id)
        assert cached.headers["x-cache"] == "HIT" and cached.json()["data"]["read"] == "Fresh title"


async def test_changes_purge_the_keys_of_what_they_change(demo_site):
    """Purges are heard in every process: here directly, and again through NOTIFY on PostgreSQL."""
    heard: list[set[str]] = []
    undo = events.on_purge(lambda keys: heard.append(set(keys)))
    try:
        article = await first_article()
        section = article.parent_id
        tag_ids = await models.ArticleTag.filter(article_id=article.id).values_list("tag_id", flat=True)
        author_ids = await models.ArticleAuthor.filter(article_id=article.id).values_list("author_id", flat=True)
        await drafts.update_page(article, {"title": "Edited"}, "test")
        await publishing.publish(await models.Page.get(id=article.id), None, "test")
        keys = set().union(*heard)
        assert {f"p:{article.id}", "pages", "articles", "search", f"articles:s:{section}"} <= keys
        assert {f"tag:{t}" for t in tag_ids} | {f"author:{a}" for a in author_ids} <= keys
        assert "sections" not in keys and "site" not in keys
        heard.clear()
        comment = await models.Comment.filter(article_id=article.id, status=models.CommentStatus.APPROVED).first()
        if comment is not None:
            from service import comments

            await comments.moderate(comment.id, "remove")
            assert set().union(*heard) == {f"c:{article.id}", f"p:{article.id}", "pages"}  # no echo: a process skips its own NOTIFY
        heard.clear()
        await site.update_site_settings({"name": "Renamed"})
        assert set().union(*heard) == {"site"}
    finally:
        undo()


async def test_a_purge_reaches_varnish(client):
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).decode())
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    purges.configure(Settings(varnish_urls=(f"http://127.0.0.1:{port}", "http://127.0.0.1:9")))  # a dead one is queued
    try:
        await site.update_site_settings({"tagline": "Purged"})
    finally:
        purges.configure(Settings(), background=True)  # as the session's app left it
        server.close()
    assert len(seen) == 1 and seen[0].startswith("PURGE / HTTP/1.1")
    assert "xkey-purge: site\r\n" in seen[0].lower()


@pytest.fixture
async def redis_prefix():
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    prefix = f"masthead:test:{uuid.uuid4().hex[:12]}:"
    stores: list[RedisStore] = []

    def make() -> RedisStore:
        stores.append(RedisStore("redis://127.0.0.1:6379/0", prefix=prefix))
        return stores[-1]

    yield make
    async for key in stores[0].redis.scan_iter(match=prefix + "*"):
        await stores[0].redis.delete(key)
    for store in stores:
        await store.aclose()


async def test_redis_is_one_cache_and_one_purge_for_every_process(client, redis_prefix):
    first, second = Backend(), Backend()
    one, two = redis_prefix(), redis_prefix()
    async with client_for(first, one) as a, client_for(second, two) as b:
        assert (await get(a, tags="p:1 articles", ttl=120)).headers["x-cache"] == "MISS"
        shared = await get(b, tags="p:1 articles", ttl=120)
        assert shared.headers["x-cache"] == "HIT" and second.calls == 0
        assert 110 < await one.redis.ttl(one.prefix + "e:" + next(iter(
            [k.decode().rsplit(":", 1)[1] async for k in one.redis.scan_iter(match=one.prefix + "e:*")]))) <= 120
        await get(b, tags="site")
        assert await two.purge(["articles"]) == 1
        assert (await get(a, tags="p:1 articles")).headers["x-cache"] == "MISS"
        assert (await get(a, tags="site")).headers["x-cache"] == "HIT"
        # A response whose request began before a purge of its keys is not stored.
        entry, since = await one.get("k")
        await two.purge(["late"])
        assert not await one.put("k", cache_stores.Entry([], b"{}", 0.0, ("late",)), 60, since)
        assert await one.put("k", cache_stores.Entry([], b"{}", 0.0, ("other",)), 60, since)


async def test_an_entry_this_version_cannot_read_is_a_miss_not_an_error(client, redis_prefix):
    """Another version of the service may share the Redis cache (a rolling deploy)."""
    backend, store = Backend(), redis_prefix()
    async with client_for(backend, store) as http:
        assert (await get(http, tags="a")).headers["x-cache"] == "MISS"
        [key] = [k async for k in store.redis.scan_iter(match=store.prefix + "e:*")]
        await store.redis.set(key, b'\n{"another": "format"}')
        unreadable = await get(http, tags="a")
        assert unreadable.status_code == 200 and unreadable.headers["x-cache"] == "MISS" and backend.calls == 2
        assert (await get(http, tags="a")).headers["x-cache"] == "HIT"  # the answer replaced it


async def test_redis_losing_any_key_with_a_ttl_never_serves_stale(client, redis_prefix):
    """Under volatile-lru Redis may evict any key with a TTL: a lost tag set or generation makes misses, never stale hits."""
    backend = Backend()
    store = redis_prefix()
    async with client_for(backend, store) as http:
        await get(http, tags="p:1 articles")
        assert (await get(http, tags="p:1 articles")).headers["x-cache"] == "HIT"
        await store.redis.delete(store.prefix + "t:p:1")  # evicted: the purge cannot find the entry by it...
        await store.purge(["p:1"])
        purged = await get(http, tags="p:1 articles")  # ...and the entry still stopped counting
        assert purged.headers["x-cache"] == "MISS" and purged.json()["data"]["call"] == 2
        assert (await get(http, tags="p:1 articles")).headers["x-cache"] == "HIT"
        await store.redis.delete(store.prefix + "g:articles")  # a generation evicted, with no purge
        assert (await get(http, tags="p:1 articles")).headers["x-cache"] == "MISS"
        assert (await get(http, tags="p:1 articles")).headers["x-cache"] == "HIT"
        await store.redis.delete(store.prefix + "e:" + next(iter(  # the entry itself
            [k.decode().rsplit(":", 1)[1] async for k in store.redis.scan_iter(match=store.prefix + "e:*")])))
        assert (await get(http, tags="p:1 articles")).headers["x-cache"] == "MISS"
    # Only the race rule's small state has no TTL, so volatile-lru never evicts it.
    untimed = {key.decode()[len(store.prefix):] async for key in store.redis.scan_iter(match=store.prefix + "*")
               if await store.redis.ttl(key) == -1}
    assert untimed == {"epoch", "purged"}


async def test_the_doors_one_step_hit_checks_the_generations_too(client, redis_prefix):
    """The Door's point-and-entry script (budget and cache in one Redis) serves an entry only while
    every key's generation is unchanged, like `get`: an evicted tag set or generation never serves stale."""
    from service.limits import RedisBuckets

    store = redis_prefix()
    budget = RedisBuckets(store.url, per_minute=600, prefix=store.prefix + "points:")
    try:
        _, since = await store.get("k")
        assert await store.put("k", cache_stores.Entry([], b"{}", 0.0, ("p:1", "articles")), 60, since)
        wait, entry = await store.take_and_get(budget, "reader", 1, "k")
        assert wait == 0 and entry is not None and entry.body == b"{}" and entry.tags == ("p:1", "articles")
        await store.redis.delete(store.prefix + "t:p:1")  # evicted: the purge cannot find the entry by it...
        await store.purge(["p:1"])
        assert await store.take_and_get(budget, "reader", 1, "k") == (0, None)  # ...and it stopped counting
        assert not await store.redis.exists(store.prefix + "e:k")
        _, since = await store.get("k")
        assert await store.put("k", cache_stores.Entry([], b"{}", 0.0, ("articles",)), 60, since)
        assert (await store.take_and_get(budget, "reader", 1, "k"))[1] is not None
        await store.redis.delete(store.prefix + "g:articles")  # a generation evicted, with no purge
        assert await store.take_and_get(budget, "reader", 1, "k") == (0, None)
    finally:
        await budget.aclose()


async def test_redis_remembers_a_bounded_number_of_purged_keys(client, redis_prefix, monkeypatch):
    """Past MAX_VERSIONS purged keys the oldest are forgotten, and requests older than them store nothing."""
    monkeypatch.setattr(cache_stores, "MAX_VERSIONS", 3)
    store = redis_prefix()
    entry = cache_stores.Entry([], b"{}", 0.0, ("never-purged",))
    _, before = await store.get("k")
    for tag in ("a", "b", "c", "d", "e"):
        await store.purge([tag])
    assert await store.redis.zcard(store.prefix + "purged") == 3
    assert not await store.put("k", entry, 60, before)  # began before a purge it can no longer see
    _, since = await store.get("k")
    assert await store.put("k", entry, 60, since)


@pytest.fixture
async def small_redis(tmp_path):
    """A redis-server of our own with 4 MB and volatile-lru, as docker-compose.yml runs it (smaller)."""
    import shutil
    import subprocess

    from fixtures_server import free_port

    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--maxmemory", "4mb", "--maxmemory-policy", "volatile-lru",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RedisStore(f"redis://127.0.0.1:{port}/0")
    try:
        for _ in range(100):
            try:
                await store.redis.ping()
                break
            except Exception:  # noqa: BLE001 - not up yet
                await asyncio.sleep(0.05)
        yield store
    finally:
        await store.aclose()
        process.terminate()
        process.wait(10)


async def test_a_full_redis_evicts_entries_and_a_purge_still_reaches_every_survivor(client, small_redis):
    store = small_redis
    body = b"x" * 20_000
    for n in range(600):  # 12 MB of entries into 4 MB
        _, since = await store.get(f"k{n}")
        assert await store.put(f"k{n}", cache_stores.Entry([], body, 0.0, (f"p:{n}", "articles")), 3600, since)
    assert int((await store.redis.info("stats"))["evicted_keys"]) > 0
    survivors = [n for n in range(600) if (await store.get(f"k{n}"))[0] is not None]
    assert 0 < len(survivors) < 600
    await store.purge(["articles"])
    assert [n for n in survivors if (await store.get(f"k{n}"))[0] is not None] == []
    assert int(await store.redis.get("masthead:cache:epoch")) == 1  # the race rule's state was never evicted


ARTICLE = "query Article($path: String!) { page(urlPath: $path) { title } }"


async def test_real_app_bypasses_tokens_and_mutations(demo_site, make_client):
    cached = await make_client(response_cache_bytes=1 << 20)
    article = await first_article()
    token = await get(cached, ARTICLE, headers={"Authorization": "Bearer nope"}, path=article.url_path)
    assert token.headers["x-cache"] == "BYPASS"
    mutation = await cached.post("/graphql", json={"query": "mutation { addComment(input: {}) { errors { code } } }"})
    assert mutation.headers["x-cache"] == "BYPASS"


async def test_real_app_hit_runs_no_sql_and_a_publish_is_seen_at_once(demo_site, make_client, sql_counter):
    """Needs the view's Cache-Control: public and Surrogate-Key (the cache-headers branch)."""
    demo_site = await make_client(response_cache_bytes=1 << 20)  # the suite's app runs without the cache
    article = await first_article()
    first = await get(demo_site, ARTICLE, path=article.url_path)
    assert first.headers["x-cache"] == "MISS", first.headers
    sql_counter.reset()
    hit = await get(demo_site, ARTICLE, path=article.url_path)
    assert hit.headers["x-cache"] == "HIT" and hit.json() == first.json() and sql_counter.count == 0
    posted = await demo_site.post("/graphql", json={"query": ARTICLE, "variables": {"path": article.url_path}},
                                  headers={"Accept": "application/json"})
    assert posted.headers["x-cache"] == "HIT" and posted.json() == first.json()
    await drafts.update_page(article, {"title": "Published just now"}, "test")
    await publishing.publish(await models.Page.get(id=article.id), None, "test")
    fresh = await get(demo_site, ARTICLE, path=article.url_path)
    assert fresh.headers["x-cache"] == "MISS" and fresh.json()["data"]["page"]["title"] == "Published just now"


def fresh_address() -> str:
    """A client address no earlier run used (Redis keeps buckets for a couple of minutes)."""
    return f"10.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 254 + 1}"


STORES = ["memory"] + (["redis"] if redis_answers() else [])


@pytest.mark.parametrize("store", STORES)
async def test_real_app_hits_spend_the_client_budget(client, make_client, store):
    """A hit is no free amplifier: it pays its point like any request (with Redis, the budget and
    the cache answer in one round trip), and a client whose budget is spent gets no more hits."""
    limited = await make_client(rate_points=3, trusted_proxies=("127.0.0.1",), work_points_per_ms=0,
                                response_cache_bytes=1 << 20,
                                redis_url="redis://127.0.0.1:6379/0" if store == "redis" else None)
    query = f"query Budget{uuid.uuid4().hex} {{ __typename }}"  # its own entry, whatever earlier runs left in Redis
    reader = {"X-Forwarded-For": fresh_address()}
    states = [(await get(limited, query, headers=reader)).headers["x-cache"] for _ in range(3)]
    assert states == ["MISS", "HIT", "HIT"]  # three points: the budget
    refused = await get(limited, query, headers=reader)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    other = await get(limited, query, headers={"X-Forwarded-For": fresh_address()})
    assert other.status_code == 200 and other.headers["x-cache"] == "HIT"


async def test_real_app_hits_carry_their_own_request_id_age_and_etag(demo_site, make_client):
    cached = await make_client(response_cache_bytes=1 << 20)
    article = await first_article()
    first = await get(cached, ARTICLE, path=article.url_path)
    hits = [await get(cached, ARTICLE, path=article.url_path) for _ in range(2)]
    assert first.headers["x-cache"] == "MISS" and [hit.headers["x-cache"] for hit in hits] == ["HIT", "HIT"]
    ids = {response.headers["x-request-id"] for response in (first, *hits)}
    assert len(ids) == 3  # each request its own id, never the stored response's
    for hit in hits:
        assert hit.json() == first.json() and int(hit.headers["age"]) >= 0
        assert hit.headers["content-length"] == str(len(first.content))
        for name in ("etag", "cache-control", "vary", "surrogate-key", "x-content-type-options", "content-security-policy"):
            assert hit.headers[name] == first.headers[name]
    traced = await get(cached, ARTICLE, headers={"X-Request-Id": "trace-7"}, path=article.url_path)
    assert traced.headers["x-cache"] == "HIT" and traced.headers["x-request-id"] == "trace-7"
    unchanged = await get(cached, ARTICLE, headers={"If-None-Match": first.headers["etag"]}, path=article.url_path)
    assert unchanged.status_code == 304 and unchanged.headers["x-cache"] == "HIT" and not unchanged.content
    assert unchanged.headers["etag"] == first.headers["etag"] and "x-request-id" in unchanged.headers
    credentialed = await get(cached, ARTICLE, headers={"Cookie": "session=1"}, path=article.url_path)
    assert credentialed.headers["x-cache"] == "BYPASS"
