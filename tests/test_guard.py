"""Pay before work: the budget is charged before a document is read, and what would make
reading it slow is refused before the work starts (sizes, field selections, NUL strings)."""

from __future__ import annotations

import random
import socket

import httpx
import pytest
from graphql import get_introspection_query

from service import auth
from service.models import Role
from service.settings import Settings

GQL_RESPONSE = "application/graphql-response+json"
REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_running() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


BUDGETS = ["memory"] + (["redis"] if redis_running() else [])


def fresh_address() -> str:
    """A client address no earlier run used (Redis keeps buckets for a couple of minutes)."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


async def post(client, query: str, variables: dict | None = None, accept: str | None = None, **headers) -> httpx.Response:
    if accept:
        headers["Accept"] = accept
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


@pytest.mark.parametrize("budget", BUDGETS)
async def test_a_spent_budget_is_refused_before_the_request_is_read(demo_site, make_client, budget):
    limited = await make_client(rate_points=3, trusted_proxies=("127.0.0.1",), work_points_per_ms=0,
                                redis_url=REDIS_URL if budget == "redis" else None)
    client = {"X-Forwarded-For": fresh_address()}
    # Parse failures cost their point: three of them spend a budget of three.
    for _ in range(3):
        failed = await post(limited, "{ site { name ", **client)
        assert failed.status_code == 200 and code(failed) == "GRAPHQL_PARSE_FAILED"
    refused = await post(limited, "{ site { name ", **client)
    assert refused.status_code == 429 and code(refused) == "RATE_LIMITED" and int(refused.headers["Retry-After"]) >= 1
    # Not read at all: a body that is not even JSON gets the same 429, not a 400.
    junk = await limited.post("/graphql", content=b"this is not JSON", headers={"Content-Type": "application/json", **client})
    assert junk.status_code == 429 and code(junk) == "RATE_LIMITED"
    modern = await post(limited, "{ site { name } }", accept=GQL_RESPONSE, **client)
    assert modern.status_code == 429 and modern.headers["content-type"].startswith(GQL_RESPONSE)
    assert "data" not in modern.json()

    # Validation failures cost their point too.
    other = {"X-Forwarded-For": fresh_address()}
    for _ in range(3):
        assert code(await post(limited, "{ sectons { title } }", **other)) == "GRAPHQL_VALIDATION_FAILED"
    assert (await post(limited, "{ sectons { title } }", **other)).status_code == 429

    # Made-up tokens do not open new budgets: the address pays before any token is looked up.
    third = fresh_address()
    for n in range(3):
        answered = await post(limited, "{ __typename }", **{"X-Forwarded-For": third, "Authorization": f"Bearer junk-{n}"})
        assert answered.status_code == 200 and answered.json()["data"] == {"__typename": "Query"}
    flood = await post(limited, "{ __typename }", **{"X-Forwarded-For": third, "Authorization": "Bearer junk-4"})
    assert flood.status_code == 429
    assert (await post(limited, "{ __typename }", **{"X-Forwarded-For": fresh_address()})).status_code == 200


async def test_a_client_over_budget_waits_for_its_refusal_while_others_are_answered(demo_site, make_client):
    """MASTHEAD_RATE_LIMIT_DELAY: a flood from a few connections becomes a trickle of 429s; the wait
    is a timer, so another client's request on the same worker is answered meanwhile."""
    import asyncio
    import time

    limited = await make_client(rate_points=1, trusted_proxies=("127.0.0.1",), work_points_per_ms=0, rate_limit_delay=0.4)
    flooder = {"X-Forwarded-For": fresh_address()}
    assert (await post(limited, "{ __typename }", **flooder)).status_code == 200
    began = time.monotonic()
    refused = asyncio.create_task(post(limited, "{ __typename }", **flooder))
    other = await post(limited, "{ __typename }", **{"X-Forwarded-For": fresh_address()})
    assert other.status_code == 200 and not refused.done()  # answered while the refusal waits
    assert (await refused).status_code == 429
    assert time.monotonic() - began >= 0.4  # the refusal came no sooner than the delay


async def test_reading_a_new_document_is_charged_by_the_work_it_took(demo_site, make_client):
    limited = await make_client(rate_points=50, trusted_proxies=("127.0.0.1",), max_tokens=5000)
    client = {"X-Forwarded-For": fresh_address()}
    statuses = []
    for n in range(6):  # new every time (never cached); door fees alone would let 50 through
        document = "{ site { " + " ".join(f"n{n}" for _ in range(4000)) + " "  # 4,000 tokens, then a syntax error
        statuses.append((await post(limited, document, **client)).status_code)
    assert statuses[0] == 200 and 429 in statuses


def oversized(size: int) -> list[tuple[str, str]]:
    return [
        ("whitespace", "{ site { name } }" + " " * size),
        ("comment", "{ site { name } }\n#" + "x" * size),
        ("string", '{ redirect(path: "' + "x" * size + '") { target } }'),
        ("block string", '{ redirect(path: """' + "x\n" * (size // 4) + '""") { target } }'),
        ("syntax error", "{ site { name " + " " * size),
    ]


@pytest.mark.parametrize("name, document", oversized(60_000))
async def test_oversized_documents_are_refused_before_lexing(demo_site, name, document):
    response = await post(demo_site, document, accept=GQL_RESPONSE)
    assert response.status_code == 400 and code(response) == "DOCUMENT_TOO_LARGE", response.text[:300]
    assert response.json()["errors"][0]["extensions"]["limit"] == 16_384 and "data" not in response.json()


@pytest.mark.parametrize("name, document", oversized(1_000_000))
async def test_anonymous_megabyte_bodies_are_refused_before_they_are_read(demo_site, name, document):
    response = await post(demo_site, document, accept=GQL_RESPONSE)
    assert response.status_code == 413 and code(response) == "PAYLOAD_TOO_LARGE", response.text[:300]
    assert "data" not in response.json()


async def test_editors_may_send_larger_documents(demo_site):
    raw, _ = await auth.create_token(name="desk", role=Role.EDITOR)
    padded = "{ __typename }" + " " * 40_000
    assert code(await post(demo_site, padded)) == "DOCUMENT_TOO_LARGE"
    answered = await post(demo_site, padded, Authorization=f"Bearer {raw}")
    assert answered.json()["data"] == {"__typename": "Query"}
    too_large = await post(demo_site, padded + " " * 200_000, Authorization=f"Bearer {raw}")
    assert code(too_large) == "DOCUMENT_TOO_LARGE" and too_large.json()["errors"][0]["extensions"]["limit"] == 131_072


def fan_out(levels: int) -> str:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return "{ ...F0 nope } " + fragments + f" fragment F{levels} on Query {{ site {{ name }} }}"


# Each is also invalid (an unknown field): the guard's code coming back shows it ran before validation.
WIDE = [
    ("same field side by side", "{ site { " + " ".join("name" for _ in range(40)) + " } nope }"),
    ("same object side by side", "{ " + " ".join("site { name }" for _ in range(20)) + " nope }"),
    ("fragments side by side", "{ " + " ".join(f"...F{i}" for i in range(30)) + " nope } "
     + " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(30))),
    ("inline fragments side by side", "{ " + " ".join("... on Query { site { name } }" for _ in range(20)) + " nope }"),
    ("fragment fan-out", fan_out(12)),
    ("fragment fan-out, deep", fan_out(24)),
]


@pytest.mark.parametrize("name, document", WIDE, ids=[w[0] for w in WIDE])
async def test_selections_that_would_make_validation_quadratic_are_refused_before_it(demo_site, name, document):
    legacy = await post(demo_site, document)
    assert code(legacy) == "TOO_MANY_FIELDS", legacy.text[:300]
    modern = await post(demo_site, document, accept=GQL_RESPONSE)
    assert modern.status_code == 400 and code(modern) == "TOO_MANY_FIELDS" and "data" not in modern.json()


async def test_real_operations_and_introspection_fit_the_limits(demo_site, contract):
    from pathlib import Path

    guard_codes = {"TOO_MANY_FIELDS", "DOCUMENT_TOO_LARGE", "TOO_MANY_TOKENS", "QUERY_TOO_COMPLEX", "QUERY_TOO_DEEP"}
    operations = Path(__file__).resolve().parents[1] / "schema" / "operations"
    documents = [p.read_text() for p in sorted(operations.rglob("*.graphql"))] + list(contract.values())
    raw, _ = await auth.create_token(name="desk", role=Role.ADMIN)
    for document in documents:
        body = (await post(demo_site, document, Authorization=f"Bearer {raw}")).json()
        assert not {(e.get("extensions") or {}).get("code") for e in body.get("errors", [])} & guard_codes, (document, body)
    introspection = await post(demo_site, get_introspection_query(descriptions=True, directive_is_repeatable=True))
    assert "errors" not in introspection.json() and introspection.json()["data"]["__schema"]["types"]


NUL_LITERALS = [
    '{ redirect(path: "/a\\u0000b/") { target } }',
    '{ page(urlPath: "/\\u0000/") { title } }',
    '{ page(urlPath: "/world-news/", previewToken: "x\\u0000") { title } }',
    '{ articles(tag: "\\u0000") { totalCount } }',
    '{ search(query: "harbour\\u0000") { totalCount } }',
    '{ redirect(path: "/a\\u{0}b/") { target } }',
    '{ redirect(path: """/a\u0000b/""") { target } }',
    'query($p: String! = "\\u0000") { redirect(path: $p) { target } }',
    '{ site { name @include(if: true) } redirect(path: "\u0000") { target } }',
    'mutation { addComment(input: {articleId: "QXJ0aWNsZVBhZ2U6MQ==", authorName: "N\\u0000", authorEmail: "a@b.org", '
    'body: "Hi", formToken: "x"}) { status } }',
]


@pytest.mark.parametrize("document", NUL_LITERALS)
async def test_nul_characters_in_string_literals_are_bad_user_input(demo_site, document):
    legacy = await post(demo_site, document)
    assert legacy.status_code == 200 and code(legacy) == "BAD_USER_INPUT", legacy.text[:300]
    modern = await post(demo_site, document, accept=GQL_RESPONSE)
    assert modern.status_code == 400 and code(modern) == "BAD_USER_INPUT" and "data" not in modern.json()


async def test_a_block_string_escape_is_text_not_a_nul(demo_site):
    body = (await post(demo_site, '{ redirect(path: """/a\\u0000b/""") { target } }')).json()
    assert body["data"] == {"redirect": None} and "NUL" not in body["errors"][0]["message"]  # executed: its own error


@pytest.mark.parametrize("document, expected", [
    ("{ site { name ", "GRAPHQL_PARSE_FAILED"),
    ("{ sectons { title } }", "GRAPHQL_VALIDATION_FAILED"),
    ("query A { site { name } } query B { site { name } }", "BAD_REQUEST"),
    ("{ " + " ".join(f"a{i}: site {{ name }}" for i in range(31)) + " }", "TOO_MANY_ALIASES"),
    ("query($n: Int!) { articles(first: $n) { totalCount } }", "BAD_USER_INPUT"),
])
async def test_graphql_response_json_has_no_data_when_nothing_ran(demo_site, document, expected):
    response = await post(demo_site, document, accept=GQL_RESPONSE)
    assert response.status_code == 400 and code(response) == expected
    assert "data" not in response.json()
    legacy = await post(demo_site, document)  # older clients keep the shape they know
    assert legacy.status_code == 200 and code(legacy) == expected


@pytest.mark.skipif(not redis_running(), reason="Redis is not running on 127.0.0.1:6379")
async def test_processes_share_one_budget_through_redis(scratch_database, serve, backend):
    url = await scratch_database(backend)
    env = {"MASTHEAD_REDIS_URL": REDIS_URL, "MASTHEAD_RATE_POINTS": "4", "MASTHEAD_WORK_POINTS_PER_MS": "0",
           "MASTHEAD_TRUSTED_PROXIES": "127.0.0.1", "MASTHEAD_BACKGROUND_JOBS": "0", "MASTHEAD_RATE_LIMIT_DELAY": "0"}
    first, second = serve(url, "--no-migrate", env=env, wait=False), serve(url, "--no-migrate", env=env, wait=False)
    first.wait(), second.wait()
    client = {"X-Forwarded-For": fresh_address()}
    async with httpx.AsyncClient(base_url=first.base) as a, httpx.AsyncClient(base_url=second.base) as b:
        for _ in range(4):
            assert (await a.post("/graphql", json={"query": "{ __typename }"}, headers=client)).status_code == 200
        assert (await a.post("/graphql", json={"query": "{ __typename }"}, headers=client)).status_code == 429
        drained = await b.post("/graphql", json={"query": "{ __typename }"}, headers=client)
        assert drained.status_code == 429 and drained.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        other = await b.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Forwarded-For": fresh_address()})
        assert other.status_code == 200


async def _unsent_body(app, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    """Send only a request's head to the ASGI app: (the status it answers, whether it asked for the body).

    The body never comes: an app that waits for it hangs, which asyncio.wait_for turns into a failure."""
    import asyncio

    started: dict = {}
    asked = asyncio.Event()
    forever = asyncio.Event()

    async def receive():
        asked.set()
        await forever.wait()

    async def send(message):
        if message["type"] == "http.response.start":
            started["status"] = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    await asyncio.wait_for(app(scope, receive, send), 10)
    return started["status"], asked.is_set()


async def test_a_client_over_budget_is_answered_before_its_body_is_received(demo_site, make_client):
    limited = await make_client(rate_points=2, trusted_proxies=("127.0.0.1",), work_points_per_ms=0)
    address = fresh_address()
    for _ in range(2):
        assert (await post(limited, "{ __typename }", **{"X-Forwarded-For": address})).status_code == 200
    head = [(b"content-type", b"application/json"), (b"content-length", b"60000"),
            (b"x-forwarded-for", address.encode())]
    status, asked = await _unsent_body(limited._transport.app, head)
    assert status == 429 and not asked


async def test_anonymous_bodies_larger_than_anything_that_can_run_are_refused_unread(demo_site, make_client):
    client = await make_client()
    settings = Settings()
    too_big = str(settings.anonymous_body_bytes + 1).encode()
    status, asked = await _unsent_body(client._transport.app, [(b"content-type", b"application/json"),
                                                              (b"content-length", too_big)])
    assert status == 413 and not asked
    # With an Authorization header (an editor's larger documents) the body is read; this one is junk JSON.
    body = b'{"query": "{ __typename }", "pad": "' + b" " * settings.anonymous_body_bytes + b'"}'
    answered = await client.post("/graphql", content=body, headers={"Content-Type": "application/json",
                                                                    "Authorization": "Bearer junk"})
    assert answered.status_code == 200 and answered.json()["data"] == {"__typename": "Query"}
