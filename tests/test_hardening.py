"""Abuse limits, GraphQL-over-HTTP conformance and production behaviour, through HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from service import auth
from service.app import create_app
from service.models import Role
from service.settings import Settings

GQL_RESPONSE = "application/graphql-response+json"


async def post(client, query: str, variables: dict | None = None, accept: str | None = None, **headers) -> httpx.Response:
    if accept:
        headers["Accept"] = accept
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def deep_query(levels: int) -> str:
    inner = "title"
    for _ in range(levels - 1):
        inner = f"parent {{ {inner} }}"
    return f"{{ page(urlPath: \"/\") {{ {inner} }} }}"


LIMIT_CASES = [
    ("depth", deep_query(13), "QUERY_TOO_DEEP"),
    ("aliases", "{ " + " ".join(f"a{i}: site {{ name }}" for i in range(31)) + " }", "TOO_MANY_ALIASES"),
    ("tokens", "{ site { " + " ".join("name" for _ in range(3001)) + " } }", "TOO_MANY_TOKENS"),
    ("directives", "{ site { name " + " ".join("@include(if: true)" for _ in range(6)) + " } }", "TOO_MANY_DIRECTIVES"),
    ("cost", "{ articles(first: 100) { edges { node { comments(first: 100) { edges { node { replies { id } } } } } } } }", "QUERY_TOO_COMPLEX"),
]


@pytest.mark.parametrize("name, query, code", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
async def test_documents_over_a_limit_are_refused_before_execution(demo_site, name, query, code):
    legacy = await post(demo_site, query)
    assert legacy.status_code == 200
    body = legacy.json()
    assert "data" not in body or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code, body
    modern = await post(demo_site, query, accept=GQL_RESPONSE)
    assert modern.status_code == 400 and modern.headers["content-type"].startswith(GQL_RESPONSE)
    assert modern.json()["errors"][0]["extensions"]["code"] == code


async def test_every_contract_operation_fits_and_reports_its_cost(demo_site, gql, contract):
    article = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
    node = (await gql('{ page(urlPath: "/world-news/") { id } }'))["page"]["id"]
    variables = {"ArticlePage": {"urlPath": article}, "SectionPage": {"urlPath": "/world-news/"}, "Node": {"id": node},
                 "ArticleList": {"tag": "diplomacy"}}
    costs = {}
    for name, text in contract.items():
        if name in ("AddComment", "CommentAdded"):
            continue
        body = (await post(demo_site, text, variables.get(name, {}))).json()
        assert "errors" not in body, (name, body)
        cost = body["extensions"]["cost"]
        assert 0 < cost["nodes"] <= cost["limit"] == 50_000 and cost["points"] == 1 + cost["nodes"] // 100
        assert cost["depth"] <= 12
        costs[name] = cost["nodes"]
    assert costs["ArticlePage"] < 1000 and costs["Node"] == 1  # the README's table states them


async def test_bigger_pages_cost_more_and_variables_count(demo_site):
    query = "query($n: Int!) { articles(first: $n) { edges { node { title } } } }"
    small = (await post(demo_site, query, {"n": 5})).json()["extensions"]["cost"]["nodes"]
    large = (await post(demo_site, query, {"n": 50})).json()["extensions"]["cost"]["nodes"]
    assert large > small * 5


async def test_body_variables_and_batching_caps(demo_site, make_client):
    huge = await demo_site.post("/graphql", content=b'{"query": "' + b" " * (1024 * 1024 + 10) + b'{ site { name } }"}',
                                headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    big_vars = await post(demo_site, "query($s: String!) { redirect(path: $s) { target } }", {"s": "/" + "x" * 70_000})
    assert big_vars.status_code == 413 and "Variables" in big_vars.text
    batch = [{"query": "{ site { name } }"}, {"query": "{ sections { title } }"}]
    refused = await demo_site.post("/graphql", json=batch)
    assert refused.status_code == 400 and "Batching" in refused.text
    batching = await make_client(batch_max=2)
    answered = await batching.post("/graphql", json=batch)
    assert answered.status_code == 200 and [bool(r["data"]) for r in answered.json()] == [True, True]
    too_many = await batching.post("/graphql", json=batch * 2)
    assert too_many.status_code == 400 and "at most 2" in too_many.text


# Cancelling at the deadline leaves graphql-core's pending completion coroutines unawaited (a warning, no harm).
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_request_past_its_deadline_ends_cleanly_and_others_are_served(demo_site, make_client, contract):
    hurried = await make_client(execution_timeout=0.000001)
    stopped = await post(hurried, contract["ArticlePage"], {"urlPath": "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"})
    assert stopped.status_code == 504 and stopped.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    fine = await post(demo_site, "{ site { name } }")
    assert fine.status_code == 200 and fine.json()["data"]["site"]["name"]


async def test_statement_timeout_stops_runaway_sql(app, backend):
    """PostgreSQL enforces statement_timeout on every pooled connection; on SQLite every connection
    stops a statement at the deadline: the inline reader, search's thread and the ORM's own."""
    from service import db

    if backend == "postgres":
        with pytest.raises(Exception, match="statement timeout"):
            await db.fetch("SELECT pg_sleep(8)")
    else:
        runaway = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
        with db.statement_timeout(0.5):  # as MASTHEAD_STATEMENT_TIMEOUT=0.5 would
            for run in (db.read, db.read_heavy, db.fetch):
                with pytest.raises(db.StatementTimeout):
                    await run(runaway)
                assert (await run("SELECT 1 AS one"))[0]["one"] == 1  # the connection still works
    assert (await db.fetch("SELECT 1 AS one"))[0]["one"] == 1  # the connection still works


async def test_cost_budget_per_client_with_retry_after(demo_site, make_client, contract):
    limited = await make_client(rate_points=10, trusted_proxies=("127.0.0.1",), work_points_per_ms=0)
    article = {"urlPath": "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"}
    first = await post(limited, contract["ArticlePage"], article, **{"X-Forwarded-For": "203.0.113.7"})
    assert first.status_code == 200 and first.json()["extensions"]["cost"]["points"] >= 6
    second = await post(limited, contract["ArticlePage"], article, **{"X-Forwarded-For": "203.0.113.7"})
    assert second.status_code == 429 and int(second.headers["Retry-After"]) >= 1
    assert second.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    other = await post(limited, contract["ArticlePage"], article, **{"X-Forwarded-For": "198.51.100.20"})
    assert other.status_code == 200 and other.json()["data"]["page"]
    spoofed = await post(await make_client(rate_points=10), "{ site { name } }", **{"X-Forwarded-For": "1.2.3.4"})
    assert spoofed.status_code == 200  # untrusted peers' X-Forwarded-For is ignored (the peer is the client)


async def test_graphql_over_http_status_codes_and_media_types(demo_site):
    ok = await post(demo_site, "{ site { name } }", accept=GQL_RESPONSE)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith(GQL_RESPONSE)
    legacy = await post(demo_site, "{ site { name } }")
    assert legacy.headers["content-type"].startswith("application/json")
    got = await demo_site.get("/graphql", params={"query": "{ site { name } }"}, headers={"Accept": GQL_RESPONSE})
    assert got.status_code == 200 and got.json()["data"]["site"]["name"]
    mutation = await demo_site.get("/graphql", params={"query": 'mutation { deleteRedirect(id: "1") { errors { code } } }'})
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"
    two_ops = await post(demo_site, "query A { site { name } } query B { sections { title } }", accept=GQL_RESPONSE)
    assert two_ops.status_code == 400
    malformed = await demo_site.post("/graphql", content=b'{"query": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and "JSON" in malformed.text
    wrong_type = "query($first: Int!) { articles(first: $first) { totalCount } }"
    assert (await post(demo_site, wrong_type, {"first": "ten"}, accept=GQL_RESPONSE)).status_code == 400
    assert (await post(demo_site, wrong_type, {"first": "ten"})).status_code == 200
    missing = await demo_site.post("/graphql", json={"variables": {}})
    assert missing.status_code == 400
    syntax = await post(demo_site, "{ site { name ", accept=GQL_RESPONSE)
    assert syntax.status_code == 400 and syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    execution_error = await post(demo_site, '{ articles(first: 500) { totalCount } }', accept=GQL_RESPONSE)
    assert execution_error.status_code == 200  # execution started: errors ride along with data


@pytest.mark.parametrize("content_type, body", [
    ("text/plain", '{"query": "mutation { addComment(input: {}) { errors { code } } }"}'),
    ("application/x-www-form-urlencoded", "query=%7B+site+%7B+name+%7D+%7D"),
])
async def test_simple_cross_site_posts_are_refused(demo_site, content_type, body):
    response = await demo_site.post("/graphql", content=body.encode(), headers={"Content-Type": content_type})
    assert response.status_code == 415


async def test_security_headers_and_cors_allowlist(demo_site, make_client):
    plain = await post(demo_site, "{ site { name } }")
    for header in ("x-content-type-options", "referrer-policy", "x-frame-options", "content-security-policy", "x-request-id"):
        assert header in plain.headers, header
    assert "access-control-allow-origin" not in plain.headers
    cors = await make_client(cors_origins=("https://www.example-news.org",))
    allowed = await cors.options("/graphql", headers={"Origin": "https://www.example-news.org", "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "content-type"})
    assert allowed.headers["access-control-allow-origin"] == "https://www.example-news.org"
    refused = await cors.options("/graphql", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.headers.get("access-control-allow-origin") != "https://evil.example"


async def test_production_hides_schema_details_from_anonymous_callers(demo_site, make_client):
    production = await make_client(env="production", secret_key="a-production-secret-for-the-tests-32")
    introspection = await post(production, "{ __schema { queryType { name } } }")
    assert introspection.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    raw, _ = await auth.create_token(name="docs", role=Role.EDITOR)
    as_editor = await post(production, "{ __schema { queryType { name } } }", Authorization=f"Bearer {raw}")
    assert as_editor.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    opened = await make_client(env="production", secret_key="a-production-secret-for-the-tests-32", introspection=True)
    assert (await post(opened, "{ __schema { queryType { name } } }")).json()["data"]
    typo = await post(production, "{ sectons { title } }")
    assert "Did you mean" not in typo.text and typo.json()["errors"]
    assert "Did you mean" in (await post(demo_site, "{ sectons { title } }")).text  # development keeps the hint
    ide = await production.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in ide.text.lower()
    assert "graphiql" in (await demo_site.get("/graphql", headers={"Accept": "text/html"})).text.lower()
    assert (await post(production, "{ __typename }")).json()["data"] == {"__typename": "Query"}


ADD = """mutation($input: AddCommentInput!) { addComment(input: $input) { status comment { id } errors { code field } } }"""


async def form_token(gql, article_id: str) -> str:
    """As a frontend does when it shows the comment form."""
    return (await gql("query($id: ID!) { commentFormToken(articleId: $id) }", {"id": article_id}))["commentFormToken"]


async def test_a_retried_comment_with_an_idempotency_key_is_stored_once(demo_site, gql):
    import asyncio

    from service import models

    article = (await gql('{ page(urlPath: "/world-news/valdessa-korvany-leaders-meet-portaven-summit/") { id } }'))["page"]["id"]
    comment = {"articleId": article, "authorName": "Retry", "authorEmail": "retry@example.org",
               "body": "Posted once, whatever the network does.", "idempotencyKey": "3f1c9a70-retry-key",
               "formToken": await form_token(gql, article)}
    before = await models.Comment.all().count()
    first, second = await asyncio.gather(post(demo_site, ADD, {"input": comment}), post(demo_site, ADD, {"input": comment}))
    again = await post(demo_site, ADD, {"input": comment})  # a retry after a timeout
    ids = {r.json()["data"]["addComment"]["comment"]["id"] for r in (first, second, again)}
    assert len(ids) == 1 and all(r.json()["data"]["addComment"]["errors"] == [] for r in (first, second, again))
    assert await models.Comment.all().count() == before + 1
    reused = await post(demo_site, ADD, {"input": {**comment, "body": "Something else."}})
    assert reused.json()["data"]["addComment"]["errors"] == [{"code": "CONFLICT", "field": "idempotencyKey"}]
    bad = await post(demo_site, ADD, {"input": {**comment, "idempotencyKey": "short"}})
    assert bad.json()["data"]["addComment"]["errors"][0]["field"] == "idempotencyKey"


async def test_trusted_documents(demo_site, make_client, database_url, tmp_path):
    import hashlib

    from tests.conftest import run_cli

    site = "query Chrome { site { name tagline } }"
    digest = hashlib.sha256(site.encode()).hexdigest()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": digest, "name": "Chrome", "type": "query", "body": site},
        {"id": "0" * 64, "name": "Forged", "type": "query", "body": "{ sections { title } }"},
    ]}))
    result = run_cli("operations", "register", str(manifest), database_url=database_url, check=False)
    assert "Registered 1 operations" in result.stdout and "not the SHA-256" in result.stderr
    assert digest in run_cli("operations", "list", database_url=database_url).stdout

    trusted = await make_client(trusted_documents="only")
    by_hash = await trusted.post("/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}})
    assert by_hash.status_code == 200 and by_hash.json()["data"]["site"]["name"]
    by_text = await post(trusted, site)
    assert by_text.json()["data"]["site"]["name"]
    other = await post(trusted, "{ sections { title } }")
    assert other.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"
    unknown = await trusted.post("/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    raw, _ = await auth.create_token(name="desk", role=Role.EDITOR)
    editor = await post(trusted, "{ sections { title } }", Authorization=f"Bearer {raw}")
    assert editor.json()["data"]["sections"]
    open_mode = await post(demo_site, "{ sections { title } }")  # the default: any document
    assert open_mode.json()["data"]["sections"]


async def test_production_masks_unexpected_errors_and_logs_them_under_a_request_id(scratch_database, serve):
    """A broken database table is the unexpected: the client gets a request id, the log the details."""
    import sqlite3

    url = await scratch_database("sqlite")
    server = serve(url, "--seed-demo", env={"MASTHEAD_ENV": "production", "MASTHEAD_SECRET_KEY": "s" * 40})
    with sqlite3.connect(url.split("://", 1)[1]) as conn:
        conn.execute("DROP TABLE site_settings")
    async with httpx.AsyncClient(base_url=server.base) as http:
        body = (await http.post("/graphql", json={"query": "{ site { name } }"})).json()
        # A read that needs no site settings (lists read the default locale from them).
        sections = (await http.post("/graphql", json={"query": '{ page(urlPath: "/world-news/") { title } }'})).json()
    error = body["errors"][0]
    assert error["message"] == "Unexpected error." and error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "site_settings" not in json.dumps(body)
    assert sections["data"]["page"]["title"]  # the rest of the API still answers
    log = server.stop()
    assert error["extensions"]["requestId"] in log and "no such table: site_settings" in log
    assert "Traceback" in log  # the unexpected keeps its traceback; clients' mistakes do not get one


CLIENT_MISTAKES = [
    ("parse", {"query": "{ site { name } # from jane@example.com\n sections { title "}, "GRAPHQL_PARSE_FAILED"),
    ("validation", {"query": '{ page(urlPath: "/jane@example.com/") { titel } }'}, "GRAPHQL_VALIDATION_FAILED"),
    ("argument", {"query": 'query($p: String!) { page(urlPath: $p) { title } articles(first: 1000) { totalCount } }',
                  "variables": {"p": "/jane@example.com/"}}, "BAD_USER_INPUT"),
    ("variables", {"query": "query($n: Int!) { articles(first: $n) { totalCount } }", "variables": {"n": "jane@example.com"}},
     "BAD_USER_INPUT"),
]


async def test_client_mistakes_are_logged_as_one_line_without_source_or_traceback(scratch_database, serve, backend):
    url = await scratch_database(backend)
    server = serve(url, "--seed-demo")
    ids = {}
    async with httpx.AsyncClient(base_url=server.base) as http:
        for name, body, code in CLIENT_MISTAKES:
            response = await http.post("/graphql", json=body)
            assert response.json()["errors"][0]["extensions"]["code"] == code
            ids[name] = (response.headers["X-Request-Id"], code)
        form = await http.post("/graphql", content=b"query=jane@example.com", headers={"Content-Type": "text/plain"})
        assert form.status_code == 415
        ids["form"] = (form.headers["X-Request-Id"], "HTTP 415")
    log = server.stop()
    assert "jane@example.com" not in log and "Traceback" not in log and "GraphQL request" not in log
    for name, (request_id, code) in ids.items():
        lines = [line for line in log.splitlines() if request_id in line]
        assert len(lines) == 1, (name, log)
        assert "client error" in lines[0] and lines[0].rstrip().endswith(code), lines


@pytest.mark.parametrize("env, secret, problem", [
    ("production", None, "must be set"), ("staging", None, "must be set"),
    ("production", "x" * 31, "must be at least 32 bytes"), ("staging", "ü" * 15, "must be at least 32 bytes"),
])
def test_production_refuses_the_development_secret_and_short_ones(tmp_path, env, secret, problem):
    settings = Settings(database_url=f"sqlite://{tmp_path / 'x.sqlite3'}", env=env, **({"secret_key": secret} if secret else {}))
    assert settings.production
    with pytest.raises(SystemExit, match=f"MASTHEAD_SECRET_KEY {problem}"):
        create_app(settings)


async def test_preview_tokens_signed_with_the_development_secret_count_only_in_development(demo_site, make_client):
    from service import previews
    from service.settings import DEV_SECRET

    page = (await post(demo_site, '{ page(urlPath: "/world-news/") { id } }')).json()["data"]["page"]["id"]
    from schema import ids

    forged, _ = previews.preview_token(DEV_SECRET, ids.from_global_id(page)[1], None)
    query = "query($t: String) { page(urlPath: \"/world-news/\", previewToken: $t) { title } }"
    development = (await post(demo_site, query, {"t": forged})).json()
    assert development["data"]["page"]["title"]  # development: the default secret works, as documented
    raw, _ = await auth.create_token(name="desk", role=Role.EDITOR)
    for env in ("test", "staging"):
        app = await make_client(env=env, **({} if env == "test" else {"secret_key": "k" * 32}))
        refused = (await post(app, query, {"t": forged})).json()
        assert refused["data"]["page"] is None
        assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "previewToken"}
    test_env = await make_client(env="test")
    made = (await post(test_env, "mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token } errors { code field } } }",
                       {"id": page}, Authorization=f"Bearer {raw}")).json()["data"]["createPreviewToken"]
    assert made == {"token": None, "errors": [{"code": "INVALID", "field": "previewToken"}]}


@pytest.mark.parametrize("depth", [40, 5000, 100_000])
async def test_deeply_nested_json_is_a_400_not_a_crash(demo_site, depth):
    body = '{"query": "query($t: [String]) { redirect(path: \\"/x/\\") { target } }", "variables": {"t": ' + "[" * depth + "]" * depth + "}}"
    response = await demo_site.post("/graphql", content=body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == (413 if len(body) > Settings().anonymous_body_bytes else 400)  # too big: unread
    nested_query = "{ page(urlPath: \"/\") { " + "parent { " * 900 + "title" + " }" * 900 + " } }"
    parsed = await post(demo_site, nested_query, accept=GQL_RESPONSE)
    assert parsed.status_code == 400 and parsed.json()["errors"][0]["extensions"]["code"] in ("GRAPHQL_PARSE_FAILED", "TOO_MANY_TOKENS")


async def test_what_a_second_reading_found_stays_fixed(demo_site, make_client, gql):
    import time

    # Fragments spread twice per level: refused at once, not walked 2^24 times.
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(24)) + " fragment F24 on Query { site { name } }"
    started = time.monotonic()
    exploded = (await post(demo_site, "{ ...F0 } " + fragments)).json()
    assert time.monotonic() - started < 2 and exploded["errors"][0]["extensions"]["code"] == "TOO_MANY_FIELDS"
    # A variable's default and an integral float count like a literal `first`.
    nested = "query($n: Int = 100) { articles(first: $n) { edges { node { comments(first: $n) { edges { node { replies { id } } } } } } } }"
    assert (await post(demo_site, nested)).json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert (await post(demo_site, nested, {"n": 100.0})).json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    # Introspection is counted too.
    aliased = "{ " + " ".join(f"s{i}: __schema {{ queryType {{ name }} }}" for i in range(31)) + " }"
    assert (await post(demo_site, aliased)).json()["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
    # Bodies of the wrong shape are 400s.
    for body in (b"5", b"null", b'"x"', b'{"query": 5}', b'{"query": "{ site { name } }", "variables": [1]}'):
        response = await demo_site.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
    batching = await make_client(batch_max=3)
    assert (await batching.post("/graphql", json=[5])).status_code == 400
    mixed = await batching.post("/graphql", json=[{"query": "{ site { name } }"}, {"query": "{ site {"}])
    assert mixed.status_code == 200 and mixed.json()[0]["data"]["site"]["name"]  # each item answers for itself
    # Subscriptions need a WebSocket.
    over_http = (await post(demo_site, 'subscription { commentAdded(articleId: "QXJ0aWNsZVBhZ2U6MQ==") { id } }')).json()
    assert over_http["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # Variable values the types refuse carry a code.
    bad_date = (await post(demo_site, "query($d: DateTime) { articles(publishedAfter: $d) { totalCount } }", {"d": "soon"})).json()
    assert bad_date["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_clients_behind_a_proxy_are_told_apart_by_every_forwarded_line(demo_site, make_client, contract, gql):
    limited = await make_client(rate_points=10, trusted_proxies=("127.0.0.1",), comment_rate_client=(1, 60), work_points_per_ms=0)
    query = contract["ArticlePage"]
    article = {"urlPath": "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"}
    spoofed_then_real = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.9")]
    first = await limited.post("/graphql", json={"query": query, "variables": article}, headers=spoofed_then_real)
    assert first.status_code == 200
    again = await limited.post("/graphql", json={"query": query, "variables": article},
                               headers=[("X-Forwarded-For", "7.7.7.7"), ("X-Forwarded-For", "203.0.113.9")])
    assert again.status_code == 429  # the proxy's own line names the client, whatever the client wrote
    # Comment limits follow the forwarded client too: two readers behind one CDN both get to post.
    article_id = (await gql('{ page(urlPath: "%s") { id } }' % article["urlPath"]))["page"]["id"]
    token = await form_token(gql, article_id)
    for n, reader in enumerate(("198.51.100.1", "198.51.100.2")):
        posted = await limited.post("/graphql", headers={"X-Forwarded-For": reader}, json={"query": ADD, "variables": {"input": {
            "articleId": article_id, "authorName": f"Reader {n}", "authorEmail": f"r{n}@example.org", "body": f"Hello {n}",
            "formToken": token}}})
        assert posted.json()["data"]["addComment"]["errors"] == []
    refused = await limited.post("/graphql", headers={"X-Forwarded-For": "198.51.100.1"}, json={"query": ADD, "variables": {"input": {
        "articleId": article_id, "authorName": "Reader 0", "authorEmail": "r0b@example.org", "body": "Again",
        "formToken": token}}})
    assert refused.json()["data"]["addComment"]["errors"][0]["code"] == "RATE_LIMITED"
