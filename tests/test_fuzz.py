"""A bounded property-based fuzz of the whole schema against a real service in production mode.

hypothesis-graphql writes valid queries and mutations (any field, any argument
value its type admits, NUL characters included); the service must never answer
5xx (but 503/504 for an outage or a deadline) and never report an unexpected
internal error: every error a client sees carries a deliberate code.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes

from conftest import BACKENDS, run_cli

EXAMPLES = int(os.environ.get("MASTHEAD_FUZZ_EXAMPLES", "150"))
# Offsets up to +-14:00 (as ISO 8601 allows) on any day of the calendar, its ends included:
# 0001-01-01T00:00:00+14:00 parses but is in year 0 once in UTC.
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
EXTREME_DATETIMES = st.one_of(
    st.datetimes(timezones=OFFSETS),
    st.sampled_from([datetime.min, datetime.max]).flatmap(lambda d: OFFSETS.map(lambda tz: d.replace(tzinfo=tz))),
    st.datetimes(timezones=st.just(timezone.utc)),
).map(lambda d: d.isoformat())
HUGE_INTS = st.one_of(st.integers(2**31, 2**64 + 1), st.integers(10**15, 10**40), st.integers(-(10**20), -1),
                      st.integers(0, 10**6))
CURSOR_KINDS = st.sampled_from(["a", "s", "c", "r", "q", "x"])
# Forged cursors: the service's own shapes (kind:number, kind:time|id) with numbers and times no page gives out.
FORGED_CURSORS = st.one_of(
    st.tuples(CURSOR_KINDS, HUGE_INTS).map(lambda t: f"{t[0]}:{t[1]}"),
    st.tuples(CURSOR_KINDS, EXTREME_DATETIMES, HUGE_INTS).map(lambda t: f"{t[0]}:{t[1]}|{t[2]}"),
    st.tuples(CURSOR_KINDS, st.text(max_size=12)).map(lambda t: f"{t[0]}:{t[1]}"),
).map(lambda raw: base64.urlsafe_b64encode(raw.encode()).decode()) | st.text(max_size=16)
# Strings with control characters (C0, DEL, C1), as literals and as variables.
CONTROL_TEXT = st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "L", "Nd"]), max_size=24)
SCALARS = {
    "DateTime": EXTREME_DATETIMES.map(nodes.String),
    "JSON": st.text(max_size=20).map(nodes.String),
    "Upload": st.just(nodes.String("not-a-file")),
}


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(request, tmp_path_factory):
    """A seeded production service and an editor token (so mutations run their real checks)."""
    import asyncio

    from conftest import Server, create_postgres_database, drop_postgres_database, postgres_server_url

    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    else:
        url = asyncio.run(create_postgres_database(postgres_server_url()))
    run_cli("migrate", database_url=url)
    run_cli("seed", "--demo", database_url=url)
    token = run_cli("token", "create", "--role", "admin", "--name", "fuzz", database_url=url).stdout.strip().splitlines()[-1]
    server = Server(url, env={"MASTHEAD_ENV": "production", "MASTHEAD_SECRET_KEY": "fuzz-" + "x" * 40, "MASTHEAD_RATE_POINTS": "0", "MASTHEAD_BACKGROUND_JOBS": "0",
                              "MASTHEAD_COMMENT_RATE_CLIENT": "1000000/60", "MASTHEAD_MEDIA_DIR": str(tmp_path_factory.mktemp("media"))})
    server.wait()
    yield server.base, token
    server.stop()
    server.log.close()
    if request.param != "sqlite":
        asyncio.run(drop_postgres_database(url))


def _check(response: httpx.Response, document: str) -> None:
    if response.status_code >= 500 and os.environ.get("MASTHEAD_FUZZ_DUMP"):
        with open(os.environ["MASTHEAD_FUZZ_DUMP"], "a") as dump:
            dump.write(document + "\n=====\n")
    assert response.status_code < 500 or response.status_code in (503, 504), (response.status_code, document, response.text[:500])
    if response.headers.get("content-type", "").startswith("application/json"):
        for error in response.json().get("errors", []):
            code = (error.get("extensions") or {}).get("code")
            assert code and code != "INTERNAL_SERVER_ERROR", (document, error)


def test_fuzzing_the_schema_finds_no_internal_errors(fuzz_target):
    from schema import schema

    base, token = fuzz_target
    sdl = schema.as_str()
    with httpx.Client(base_url=base, timeout=30) as http:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(document=from_schema(sdl, custom_scalars=SCALARS), as_editor=st.booleans())
        def run(document: str, as_editor: bool) -> None:
            headers = {"Authorization": f"Bearer {token}"} if as_editor else {}
            _check(http.post("/graphql", json={"query": document}, headers=headers), document)

        run()


# Every argument that takes a cursor or a time, and a string argument, with the value in a variable.
TARGETED = [
    ("query($c: String, $t: String) { articles(first: 3, after: $c, search: $t) { edges { cursor node { id } } } }", {"c": FORGED_CURSORS, "t": CONTROL_TEXT | st.none()}),
    ("query($c: String, $p: String!) { page(urlPath: $p) { ... on ArticlePage { comments(first: 3, after: $c) { edges { node { id } } } } } }",
     {"c": FORGED_CURSORS, "p": st.just("/world-news/valdessa-korvany-leaders-meet-portaven-summit/") | CONTROL_TEXT}),
    ("query($c: String, $id: ID!) { revisions(pageId: $id, first: 3, after: $c) { edges { node { number } } } }", {"c": FORGED_CURSORS, "id": st.just("QXJ0aWNsZVBhZ2U6Mzg=")}),
    ("query($c: String) { commentQueue(first: 3, after: $c) { edges { node { id } } } }", {"c": FORGED_CURSORS}),
    ("query($a: DateTime, $b: DateTime) { articles(first: 3, publishedAfter: $a, publishedBefore: $b) { totalCount edges { node { id } } } }",
     {"a": EXTREME_DATETIMES | st.none(), "b": EXTREME_DATETIMES | st.none()}),
    ("mutation($id: ID!, $a: DateTime, $b: DateTime) { schedulePage(id: $id, goLiveAt: $a, expireAt: $b) { errors { code } } }",
     {"id": st.just("U2VjdGlvblBhZ2U6Mg=="), "a": EXTREME_DATETIMES | st.none(), "b": EXTREME_DATETIMES | st.none()}),
    ("mutation($id: ID!, $a: DateTime, $t: String) { updateArticle(id: $id, input: {publishedAt: $a, title: $t}) { errors { code } } }",
     {"id": st.just("QXJ0aWNsZVBhZ2U6Mzg="), "a": EXTREME_DATETIMES | st.none(), "t": CONTROL_TEXT}),
]


def _inline(document: str, variables: dict) -> str:
    """The same operation with its values written into the document as literals."""
    for name, value in variables.items():
        document = document.replace(f"${name}", json.dumps(value))
    head, _, body = document.partition("{")
    return "query {" + body if head.startswith("query") else "mutation {" + body


def test_fuzzing_cursors_dates_and_control_characters_finds_no_internal_errors(fuzz_target):
    """Forged cursors with huge numbers, times at the ends of the calendar, control characters:
    generated, in variables and inline, against every argument that decodes them."""
    base, token = fuzz_target
    with httpx.Client(base_url=base, timeout=30) as http:

        @settings(max_examples=max(20, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(data=st.data(), inline=st.booleans())
        def run(data, inline: bool) -> None:
            document, strategies = data.draw(st.sampled_from(TARGETED))
            variables = {name: data.draw(strategy, label=name) for name, strategy in strategies.items()}
            body = {"query": _inline(document, variables)} if inline else {"query": document, "variables": variables}
            _check(http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"}), json.dumps(body))

        run()
