"""The commentAdded subscription over graphql-transport-ws, on one and on two processes."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from conftest import BACKENDS, run_cli

ARTICLE = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
FORM_TOKEN = "query($id: ID!) { commentFormToken(articleId: $id) }"
# The contract's AddComment, also asking for the commenter token (to be known later).
ADD_KNOWN = "mutation($input: AddCommentInput!) { addComment(input: $input) { status comment { id } errors { code } commenterToken } }"
MODERATE = 'mutation($id: ID!) { moderateComment(id: $id, action: APPROVE) { errors { code } } }'


async def subscribe(base: str, query: str, article_id: str):
    ws = await websockets.connect(base.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"articleId": article_id}}}))
    await asyncio.sleep(0.5)  # the protocol has no acknowledgement for a subscription
    return ws


async def form_token(http: httpx.AsyncClient, article_id: str) -> str:
    """As a frontend does when it shows the comment form."""
    response = await http.post("/graphql", json={"query": FORM_TOKEN, "variables": {"id": article_id}})
    return response.json()["data"]["commentFormToken"]


async def add_comment(http: httpx.AsyncClient, contract, article_id: str, body: str, query: str | None = None, **extra) -> dict:
    response = await http.post("/graphql", json={"query": query or contract["AddComment"], "variables": {"input": {
        "articleId": article_id, "authorName": "Live reader", "authorEmail": "live@example.com", "body": body,
        "formToken": await form_token(http, article_id), **extra}}})
    return response.json()["data"]["addComment"]


async def post_comment(http: httpx.AsyncClient, contract, article_id: str, body: str) -> str:
    result = await add_comment(http, contract, article_id, body)
    assert result["status"] == "PENDING", result
    return result["comment"]["id"]


async def check_delivery(contract, subscriber_base: str, approver_base: str, database_url: str) -> None:
    token = run_cli("token", "create", "--role", "moderator", "--name", "live", database_url=database_url).stdout.strip().splitlines()[-1]
    async with httpx.AsyncClient(base_url=approver_base) as approver, httpx.AsyncClient(base_url=subscriber_base) as reader:
        page = (await reader.post("/graphql", json={"query": '{ page(urlPath: "%s") { id } }' % ARTICLE})).json()
        article_id = page["data"]["page"]["id"]
        ws = await subscribe(subscriber_base, contract["CommentAdded"], article_id)
        try:
            pending = await post_comment(approver, contract, article_id, "Watching this live")
            with pytest.raises(asyncio.TimeoutError):  # pending comments are not delivered
                await asyncio.wait_for(ws.recv(), 1)
            result = await approver.post("/graphql", json={"query": MODERATE, "variables": {"id": pending}},
                                         headers={"Authorization": f"Bearer {token}"})
            assert result.json()["data"]["moderateComment"]["errors"] == []
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["type"] == "next" and message["id"] == "1"
            added = message["payload"]["data"]["commentAdded"]
            assert added["id"] == pending and added["body"] == "Watching this live" and added["authorName"] == "Live reader"
            assert "email" not in json.dumps(message)
        finally:
            await ws.close()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_subscription_on_one_process(kind, scratch_database, serve, contract):
    url = await scratch_database(kind)
    server = serve(url, "--seed-demo")
    await check_delivery(contract, server.base, server.base, url)


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL is not reachable")
async def test_subscription_across_two_processes(scratch_database, serve, contract):
    url = await scratch_database("postgres")
    first = serve(url, "--seed-demo")
    second = serve(url, "--no-migrate")
    await asyncio.sleep(1)  # both processes LISTEN
    await check_delivery(contract, first.base, second.base, url)


async def test_subscription_rejects_a_bad_article_id(scratch_database, serve, contract):
    url = await scratch_database("sqlite")
    server = serve(url)
    ws = await websockets.connect(server.base.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"])
    try:
        await ws.send(json.dumps({"type": "connection_init"}))
        await ws.recv()
        await ws.send(json.dumps({"id": "9", "type": "subscribe", "payload": {"query": contract["CommentAdded"], "variables": {"articleId": "nope"}}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] in ("error", "next")
        assert "Invalid id" in json.dumps(message)
    finally:
        await ws.close()


def redis_running() -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not redis_running(), reason="Redis is not running on 127.0.0.1:6379")
async def test_redis_carries_events_and_rate_limits_across_processes(scratch_database, serve, contract):
    """With MASTHEAD_REDIS_URL, two processes on one SQLite file share live comments and limits."""
    import uuid

    url = await scratch_database("sqlite")
    env = {"MASTHEAD_REDIS_URL": "redis://127.0.0.1:6379/0", "MASTHEAD_COMMENT_RATE_CLIENT": "3/60",
           "MASTHEAD_SECRET_KEY": uuid.uuid4().hex}  # a fresh salt: fresh client keys in Redis
    first = serve(url, "--seed-demo", env=env)
    second = serve(url, "--no-migrate", env=env)
    await asyncio.sleep(1)
    await check_delivery(contract, first.base, second.base, url)  # one post so far, via the second
    async with httpx.AsyncClient(base_url=first.base) as a, httpx.AsyncClient(base_url=second.base) as b:
        article_id = (await a.post("/graphql", json={"query": '{ page(urlPath: "%s") { id } }' % ARTICLE})).json()["data"]["page"]["id"]
        await post_comment(a, contract, article_id, "Second from this client")
        await post_comment(b, contract, article_id, "Third from this client")
        (error,) = (await add_comment(a, contract, article_id, "Fourth", authorEmail="r4@example.com"))["errors"]
        assert error["code"] == "RATE_LIMITED"


async def test_auto_approved_comments_are_delivered_on_post(scratch_database, serve, contract):
    import sqlite3

    url = await scratch_database("sqlite")
    server = serve(url, "--seed-demo", env={"MASTHEAD_COMMENT_MIN_SECONDS": "0"})  # this test posts at once
    conn = sqlite3.connect(url.split("://", 1)[1])
    with conn:
        conn.execute("UPDATE site_settings SET auto_approve_known_commenters = 1")
    conn.close()
    moderator = run_cli("token", "create", "--role", "moderator", "--name", "m", database_url=url).stdout.strip().splitlines()[-1]
    async with httpx.AsyncClient(base_url=server.base) as http:
        article_id = (await http.post("/graphql", json={"query": '{ page(urlPath: "%s") { id } }' % ARTICLE})).json()["data"]["page"]["id"]
        first = await add_comment(http, contract, article_id, "My first words here", query=ADD_KNOWN)
        assert first["status"] == "PENDING" and first["commenterToken"]
        approved = await http.post("/graphql", json={"query": MODERATE, "variables": {"id": first["comment"]["id"]}},
                                   headers={"Authorization": f"Bearer {moderator}"})
        assert approved.json()["data"]["moderateComment"]["errors"] == []
        ws = await subscribe(server.base, contract["CommentAdded"], article_id)
        try:
            # Known by the token the first post returned, not by the email.
            result = await add_comment(http, contract, article_id, "Back again", query=ADD_KNOWN,
                                       commenterToken=first["commenterToken"])
            assert result["status"] == "APPROVED"
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["payload"]["data"]["commentAdded"]["id"] == result["comment"]["id"]
        finally:
            await ws.close()
