"""WebSockets follow the rules of HTTP: a fresh context, token, checks, budget and deadline per operation.

Most tests speak graphql-transport-ws to the ASGI app directly (the session's
database, both backends); one runs a real `masthead serve` for what only the
server does (uvicorn's message size limit, the log).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import websockets

from conftest import BACKENDS, run_cli
from service import auth, events, ids, models
from service.app import create_app
from service.settings import Settings

ARTICLE = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
QUEUE = "{ commentQueue(first: 1) { edges { cursor } } }"
SECTION_OF = 'query($p: String!) { page(urlPath: $p) { ... on ArticlePage { section { title } } } }'
COMMENT_ADDED = "subscription($id: ID!) { commentAdded(articleId: $id) { id } }"


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code, self.reason = code, reason


class Socket:
    """A graphql-transport-ws client that speaks ASGI to the application itself."""

    def __init__(self, app, *, headers: dict | None = None, subprotocol: str = "graphql-transport-ws",
                 client: tuple[str, int] = ("203.0.113.7", 50123)) -> None:
        self.to_app: asyncio.Queue = asyncio.Queue()
        self.from_app: asyncio.Queue = asyncio.Queue()
        scope = {
            "type": "websocket", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
            "scheme": "ws", "server": ("testserver", 80), "client": client, "root_path": "",
            "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "subprotocols": [subprotocol],
            "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())],
            "state": {}, "extensions": {},
        }
        self.task = asyncio.create_task(app(scope, self.to_app.get, self.from_app.put))

    async def open(self, payload: dict | None = None) -> None:
        await self.to_app.put({"type": "websocket.connect"})
        assert (await self.event())["type"] == "websocket.accept"
        await self.send({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        assert (await self.recv())["type"] == "connection_ack"

    async def event(self) -> dict:
        return await asyncio.wait_for(self.from_app.get(), 10)

    async def send(self, message) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        await self.to_app.put({"type": "websocket.receive", "text": text})

    async def recv(self) -> dict:
        event = await self.event()
        if event["type"] == "websocket.close":
            raise Closed(event.get("code", 1000), event.get("reason", ""))
        assert event["type"] == "websocket.send", event
        return json.loads(event["text"])

    async def run(self, query: str, variables: dict | None = None, id: str = "1") -> dict:
        """Send an operation; its first answer (`next` or `error`)."""
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
        return await self.recv()

    async def query(self, query: str, variables: dict | None = None, id: str = "1") -> dict:
        first = await self.run(query, variables, id)
        if first["type"] == "next":
            assert (await self.recv()) == {"id": id, "type": "complete"}
        return first

    async def finish(self) -> None:
        """The client goes away; whatever the application raised is raised here."""
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def app_with(client, database_url):
    """An application with other settings on the session's (clean) database."""
    def make(**overrides):
        return create_app(replace(Settings(database_url=database_url, background_jobs=False, rate_points=0), **overrides))

    return make


async def moderator_token(**kwargs) -> tuple[str, models.ApiToken]:
    return await auth.create_token(name="socket", role=models.Role.MODERATOR, **kwargs)


def error_code(message: dict) -> str:
    assert message["type"] == "error", message
    return message["payload"][0]["extensions"]["code"]


# -- the token, every operation ---------------------------------------------------------

@pytest.mark.parametrize("carried", ["header", "connection_init"])
async def test_a_revoked_token_refuses_the_next_operation_and_closes_4403(app_with, carried):
    raw, token = await moderator_token()
    if carried == "header":
        socket = Socket(app_with(), headers={"Authorization": f"Bearer {raw}"})
        await socket.open()
    else:
        socket = Socket(app_with())
        await socket.open({"Authorization": f"Bearer {raw}"})
    answer = await socket.query(QUEUE)
    assert answer["type"] == "next" and "errors" not in answer["payload"], answer
    assert await auth.revoke_token(token.id)
    with pytest.raises(Closed) as closed:
        await socket.query(QUEUE, id="2")
    assert closed.value.code == 4403
    await socket.finish()


async def test_an_expired_token_refuses_the_next_operation_and_closes_4403(app_with):
    raw, token = await moderator_token(expires_in=timedelta(days=1))
    socket = Socket(app_with(), headers={"Authorization": f"Bearer {raw}"})
    await socket.open()
    assert "errors" not in (await socket.query(QUEUE))["payload"]
    await models.ApiToken.filter(id=token.id).update(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    with pytest.raises(Closed) as closed:
        await socket.query(QUEUE, id="2")
    assert closed.value.code == 4403
    await socket.finish()


async def test_a_dead_token_is_refused_at_connection_init(app_with):
    raw, token = await moderator_token()
    await auth.revoke_token(token.id)
    socket = Socket(app_with(), headers={"Authorization": f"Bearer {raw}"})
    await socket.to_app.put({"type": "websocket.connect"})
    assert (await socket.event())["type"] == "websocket.accept"
    await socket.send({"type": "connection_init"})
    with pytest.raises(Closed) as closed:
        await socket.recv()
    assert closed.value.code == 4403
    await socket.finish()


async def test_a_running_subscription_is_closed_4403_once_its_token_is_revoked(app_with, demo_site):
    raw, token = await moderator_token()
    socket = Socket(app_with(ws_token_recheck=0.2), headers={"Authorization": f"Bearer {raw}"})
    await socket.open()
    article = await models.Page.get(url_path=ARTICLE)
    await socket.send({"id": "live", "type": "subscribe", "payload": {
        "query": COMMENT_ADDED, "variables": {"id": ids.to_global_id("ArticlePage", article.id)}}})
    await auth.revoke_token(token.id)
    with pytest.raises(Closed) as closed:
        await socket.recv()  # no event comes: the socket is closed for the token
    assert closed.value.code == 4403
    await socket.finish()


# -- a fresh context per operation ------------------------------------------------------

async def test_each_operation_gets_fresh_loaders(app_with, demo_site):
    socket = Socket(app_with())
    await socket.open()
    first = await socket.query(SECTION_OF, {"p": ARTICLE})
    old = first["payload"]["data"]["page"]["section"]["title"]
    article = await models.Page.get(url_path=ARTICLE)
    await models.Page.filter(id=article.parent_id).update(title="Renamed between operations")
    second = await socket.query(SECTION_OF, {"p": ARTICLE}, id="2")
    assert old != "Renamed between operations"
    assert second["payload"]["data"]["page"]["section"]["title"] == "Renamed between operations"
    await socket.finish()


# -- the HTTP checks --------------------------------------------------------------------

async def test_a_50000_deep_json_message_closes_4400_without_a_recursion_error(app_with):
    socket = Socket(app_with())
    await socket.open()
    await socket.send("[" * 50_000 + "]" * 50_000)
    with pytest.raises(Closed) as closed:
        await socket.recv()
    assert closed.value.code == 4400
    await socket.finish()  # the application raised nothing (a RecursionError would surface here)


async def test_deep_nul_and_large_variables_are_refused_with_bad_user_input(app_with):
    socket = Socket(app_with())
    await socket.open()
    query = "query($p: String!) { redirect(path: $p) { target } }"
    deep: object = "x"
    for _ in range(500):
        deep = [deep]
    cases = {"deep": {"p": deep}, "nul": {"p": "/a\x00b"}, "large": {"p": "/" + "x" * 70_000}}
    for name, variables in cases.items():
        answer = await socket.run(query, variables, id=name)
        assert error_code(answer) == "BAD_USER_INPUT", (name, answer)
    nul_literal = await socket.run('{ redirect(path: "/a\x00b") { target } }', id="literal")
    assert error_code(nul_literal) == "BAD_USER_INPUT"
    assert (await socket.query("{ site { name } }", id="fine"))["type"] == "next"
    await socket.finish()


async def test_an_8_mb_message_closes_1009(app_with):
    socket = Socket(app_with())
    await socket.open()
    await socket.send({"id": "big", "type": "subscribe", "payload": {
        "query": "query($p: String!) { redirect(path: $p) { target } }", "variables": {"p": "x" * 8_000_000}}})
    with pytest.raises(Closed) as closed:
        await socket.recv()
    assert closed.value.code == 1009
    await socket.finish()


@pytest.mark.parametrize("message", [
    {"id": "1", "type": "subscribe", "payload": "{ site { name } }"},
    {"id": "1", "type": "subscribe", "payload": {"query": ["{ site { name } }"]}},
    {"id": "1", "type": "subscribe", "payload": {"query": "{ site { name } }", "variables": [1]}},
    {"id": ["1"], "type": "subscribe", "payload": {"query": "{ site { name } }"}},
    {"id": {}, "type": "complete"},
    ["subscribe"],
    {"type": 7},
])
async def test_malformed_messages_close_4400(app_with, message):
    socket = Socket(app_with())
    await socket.open()
    await socket.send(message)
    with pytest.raises(Closed) as closed:
        await socket.recv()
    assert closed.value.code == 4400
    await socket.finish()


async def test_the_cost_budget_and_rate_limit_apply_per_operation(app_with):
    app = app_with(rate_points=3, work_points_per_ms=0)  # a budget of 3 counts operations, not reading work
    socket = Socket(app)
    await socket.open()
    codes = []
    for n in range(5):
        answer = await socket.query("{ site { name } }", id=str(n))
        codes.append(error_code(answer) if answer["type"] == "error" else "ok")
    assert codes[:3] == ["ok"] * 3 and codes[3:] == ["RATE_LIMITED"] * 2, codes
    # A new socket from the same address draws on the same budget.
    again = Socket(app)
    await again.open()
    refused = await again.run("{ site { name } }")
    assert error_code(refused) == "RATE_LIMITED" and refused["payload"][0]["extensions"]["retryAfter"] > 0
    await again.finish()
    await socket.finish()


# Cancelling at the deadline leaves graphql-core's pending completion coroutines unawaited (a warning, no harm).
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
async def test_an_operation_past_its_deadline_is_stopped(app_with, demo_site, contract):
    socket = Socket(app_with(execution_timeout=0.000001))
    await socket.open()
    answer = await socket.run(contract["ArticlePage"], {"urlPath": ARTICLE})
    assert error_code(answer) == "TIMEOUT"
    article = await models.Page.get(url_path=ARTICLE)
    setup = await socket.run(COMMENT_ADDED, {"id": ids.to_global_id("ArticlePage", article.id)}, id="2")
    assert error_code(setup) == "TIMEOUT"  # a subscription's setup has the same deadline
    await socket.finish()


async def test_waiting_for_events_is_not_work_past_the_deadline(app_with, demo_site):
    socket = Socket(app_with(execution_timeout=0.3))
    await socket.open()
    article = await models.Page.get(url_path=ARTICLE)
    await socket.send({"id": "live", "type": "subscribe", "payload": {
        "query": COMMENT_ADDED, "variables": {"id": ids.to_global_id("ArticlePage", article.id)}}})
    with pytest.raises(asyncio.TimeoutError):  # quiet for three deadlines: no TIMEOUT, no close
        await asyncio.wait_for(socket.from_app.get(), 1)
    comment = await models.Comment.filter(article_id=article.id, status=models.CommentStatus.APPROVED).first()
    await events.comment_approved(comment)
    message = await socket.recv()
    assert message["type"] == "next" and message["payload"]["data"]["commentAdded"]["id"] == ids.global_id(comment)
    await socket.finish()


async def test_the_legacy_graphql_ws_protocol_is_not_offered(app_with):
    socket = Socket(app_with(), subprotocol="graphql-ws")
    await socket.to_app.put({"type": "websocket.connect"})
    accepted = await socket.event()
    assert accepted["type"] == "websocket.accept" and accepted.get("subprotocol") is None
    closed = await socket.event()
    assert closed["type"] == "websocket.close" and closed["code"] == 4406
    await socket.finish()


async def test_browsers_on_the_cors_origins_may_open_the_socket_and_pages_elsewhere_may_not(app_with):
    """A frontend on another origin (MASTHEAD_CORS_ORIGINS) subscribes from the browser; other sites' pages cannot."""
    app = app_with(cors_origins=("http://127.0.0.1:8001",))
    allowed = Socket(app, headers={"Origin": "http://127.0.0.1:8001"})
    await allowed.open()
    assert (await allowed.query("{ site { name } }"))["type"] == "next"
    await allowed.finish()
    for origin, settings in (("https://elsewhere.example", {"cors_origins": ("http://127.0.0.1:8001",)}),
                             ("http://127.0.0.1:8001", {})):
        refused = Socket(app_with(**settings), headers={"Origin": origin})
        await refused.to_app.put({"type": "websocket.connect"})
        closed = await refused.event()  # before any accept: the server answers the handshake with 403
        assert closed["type"] == "websocket.close", closed
        await asyncio.wait_for(refused.task, 10)
    native = Socket(app_with())  # no Origin: not a browser, nothing ambient to abuse
    await native.open()
    await native.finish()


# -- a real server ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", BACKENDS)
async def test_a_served_socket_refuses_huge_and_deep_messages_and_revoked_tokens(kind, scratch_database, serve):
    url = await scratch_database(kind)
    server = serve(url, env={"MASTHEAD_WS_TOKEN_RECHECK": "0.2"})
    endpoint = server.base.replace("http://", "ws://") + "/graphql"

    async def connect(**headers):
        ws = await websockets.connect(endpoint, subprotocols=["graphql-transport-ws"], additional_headers=headers,
                                      max_size=None)
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        return ws

    async def close_code(ws) -> int:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        return ws.close_code

    huge = await connect()
    await huge.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
        "query": "query($p: String!) { redirect(path: $p) { target } }", "variables": {"p": "x" * 8_000_000}}}))
    assert await close_code(huge) == 1009
    deep = await connect()
    await deep.send("[" * 50_000 + "]" * 50_000)
    assert await close_code(deep) == 4400

    created = run_cli("token", "create", "--role", "moderator", "--name", "socket", database_url=url).stdout.strip().splitlines()
    raw, token_id = created[-1], created[0].split(" token ")[1].split()[0]
    live = await connect(Authorization=f"Bearer {raw}")
    await live.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": QUEUE}}))
    answer = json.loads(await asyncio.wait_for(live.recv(), 10))
    assert answer["type"] == "next" and "errors" not in answer["payload"], answer
    assert (json.loads(await asyncio.wait_for(live.recv(), 10)))["type"] == "complete"
    run_cli("token", "revoke", token_id, database_url=url)
    assert await close_code(live) == 4403  # closed by the server's recheck, no operation sent
    log = server.output()
    assert "RecursionError" not in log and "Traceback" not in log, log
