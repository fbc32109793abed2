"""Comment defences against a real uvicorn: rate limits under concurrency, and whose address counts."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from conftest import BACKENDS
from service import comments
from service.settings import Settings

ARTICLE = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
ARTICLE_ID = '{ page(urlPath: "%s") { id } }' % ARTICLE
FORM_TOKEN = "query($id: ID!) { commentFormToken(articleId: $id) }"


async def rows(database_url: str, sql: str) -> list[tuple]:
    """Rows straight from the database the server writes to."""
    if database_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(database_url.split("://", 1)[1])
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        return [tuple(record) for record in await conn.fetch(sql)]
    finally:
        await conn.close()


async def open_form(http: httpx.AsyncClient) -> tuple[str, str]:
    """What a frontend does when it shows the form: the article's id and a formToken."""
    article_id = (await http.post("/graphql", json={"query": ARTICLE_ID})).json()["data"]["page"]["id"]
    token = (await http.post("/graphql", json={"query": FORM_TOKEN, "variables": {"id": article_id}})).json()
    return article_id, token["data"]["commentFormToken"]


def comment(article_id: str, form_token: str, n: int, marker: str) -> dict:
    return {"input": {"articleId": article_id, "formToken": form_token, "authorName": f"Reader {n}",
                      "authorEmail": f"{marker}{n}@example.org", "body": f"{marker} number {n}"}}


@pytest.mark.parametrize("limiter", ["database", "redis"])
@pytest.mark.parametrize("kind", BACKENDS)
async def test_concurrent_posts_from_one_address_store_at_most_the_limit(kind, limiter, scratch_database, serve, contract):
    url = await scratch_database(kind)
    env = {"MASTHEAD_COMMENT_RATE_CLIENT": "5/60", "MASTHEAD_COMMENT_RATE_ARTICLE": "1000/60",
           "MASTHEAD_COMMENT_MIN_SECONDS": "0", "MASTHEAD_SECRET_KEY": uuid.uuid4().hex}
    if limiter == "redis":
        env["MASTHEAD_REDIS_URL"] = "redis://127.0.0.1:6379/0"  # a fresh secret: fresh client keys
    server = serve(url, "--seed-demo", "--workers", "2", env=env)
    marker = f"flood{uuid.uuid4().hex[:8]}"
    limits = httpx.Limits(max_connections=80, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.base, timeout=30, limits=limits) as http:
        article_id, form_token = await open_form(http)

        async def post(n: int) -> str:
            response = await http.post("/graphql", json={"query": contract["AddComment"],
                                                         "variables": comment(article_id, form_token, n, marker)})
            assert response.status_code == 200, response.text
            result = response.json()["data"]["addComment"]
            return result["status"] or result["errors"][0]["code"]

        answers = Counter(await asyncio.gather(*(post(n) for n in range(80))))
    assert answers == {"PENDING": 5, "RATE_LIMITED": 75}, answers
    stored = await rows(url, f"SELECT COUNT(*) FROM comment WHERE body LIKE '{marker}%'")
    assert stored[0][0] == 5


@pytest.mark.parametrize("kind", BACKENDS)
async def test_forwarded_for_counts_only_from_trusted_proxies(kind, scratch_database, serve, contract):
    """A same-host proxy (127.0.0.1) passing X-Forwarded-For is believed only when listed."""
    secret = uuid.uuid4().hex
    env = {"MASTHEAD_COMMENT_RATE_CLIENT": "1/60", "MASTHEAD_COMMENT_MIN_SECONDS": "0", "MASTHEAD_SECRET_KEY": secret}
    settings = Settings(secret_key=secret)
    url = await scratch_database(kind)
    untrusting = serve(url, "--seed-demo", env={**env, "MASTHEAD_TRUSTED_PROXIES": ""})
    trusting = serve(url, "--no-migrate", env={**env, "MASTHEAD_TRUSTED_PROXIES": "127.0.0.1"})
    for server, marker in ((untrusting, "untrusted"), (trusting, "trusted")):
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            article_id, form_token = await open_form(http)
            answers = []
            for n, address in enumerate(["203.0.113.1", "203.0.113.2"]):
                response = await http.post("/graphql", headers={"X-Forwarded-For": address}, json={
                    "query": contract["AddComment"], "variables": comment(article_id, form_token, n, marker)})
                result = response.json()["data"]["addComment"]
                answers.append(result["status"] or result["errors"][0]["code"])
        hashes = [h for (h,) in await rows(url, f"SELECT ip_hash FROM comment WHERE body LIKE '{marker} %' ORDER BY id")]
        if server is trusting:
            assert answers == ["PENDING", "PENDING"]
            assert hashes == [comments.hash_client(settings, "203.0.113.1"), comments.hash_client(settings, "203.0.113.2")]
        else:  # the header is anyone's to write: the client is the peer, one client, one post
            assert answers == ["PENDING", "RATE_LIMITED"]
            assert hashes == [comments.hash_client(settings, "127.0.0.1")]
