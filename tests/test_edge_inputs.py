"""Inputs at the edges: forged cursors with huge numbers, dates at the ends of the calendar.

Each must be refused with a coded error (BAD_USER_INPUT, or a typed user error in
a payload), never an unexpected error, on either database; as a literal in the
document and as a variable.
"""

from __future__ import annotations

import base64

import pytest

from service import auth
from service.models import Role

EDGE_DATES = [
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T24:00:00Z",
]
HUGE = "9" * 40


def forged(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


FORGED_CURSORS = [
    forged(f"a:2024-01-01T00:00:00+00:00|{HUGE}"),
    forged(f"a:2024-01-01T00:00:00+00:00|{2**63}"),
    forged("a:2024-13-45T00:00:00+00:00|1"),
    forged("a:0000-01-01T00:00:00|1"),
    forged(f"a:9999-12-31T23:59:59+00:00|{2**63 - 1}"),
    forged(f"s:{HUGE}"),
    forged(f"s:{2**63 - 1}"),
    forged(f"c:2024-01-01T00:00:00+00:00|{HUGE}"),
    forged(f"r:{HUGE}"),
]


def assert_coded(body: dict) -> None:
    """No unexpected error: every error carries a deliberate code."""
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code and code != "INTERNAL_SERVER_ERROR", error


async def post(client, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert_coded(body)
    return body


@pytest.mark.parametrize("value", EDGE_DATES)
@pytest.mark.parametrize("argument", ["publishedAfter", "publishedBefore"])
async def test_edge_of_the_calendar_dates_are_refused_in_article_filters(demo_site, argument, value):
    literal = await post(demo_site, '{ articles(first: 2, %s: "%s") { totalCount edges { node { id } } } }' % (argument, value))
    variable = await post(demo_site, "query($d: DateTime) { articles(first: 2, %s: $d) { totalCount edges { node { id } } } }" % argument,
                          {"d": value})
    for body in (literal, variable):
        if body.get("errors"):
            assert {e["extensions"]["code"] for e in body["errors"]} <= {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}, body


@pytest.mark.parametrize("value", EDGE_DATES)
async def test_edge_of_the_calendar_dates_are_refused_in_editorial_mutations(demo_site, value):
    raw, _ = await auth.create_token(name="edge-desk", role=Role.ADMIN)
    page = (await post(demo_site, '{ page(urlPath: "/world-news/") { id } }'))["data"]["page"]["id"]
    article = (await post(demo_site, '{ articles(first: 1) { edges { node { id } } } }'))["data"]["articles"]["edges"][0]["node"]["id"]
    await post(demo_site, 'mutation { schedulePage(id: "%s", goLiveAt: "%s") { errors { code } } }' % (page, value), token=raw)
    await post(demo_site, "mutation($id: ID!, $d: DateTime) { schedulePage(id: $id, expireAt: $d) { errors { code } } }",
               {"id": page, "d": value}, token=raw)
    await post(demo_site, "mutation($id: ID!, $d: DateTime) { updateArticle(id: $id, input: {publishedAt: $d}) { errors { code } } }",
               {"id": article, "d": value}, token=raw)
    await post(demo_site, 'mutation($id: ID!) { updateArticle(id: $id, input: {publishedAt: "%s"}) { errors { code } } }' % value,
               {"id": article}, token=raw)
    # Whatever was refused or stored, the site still reads.
    body = await post(demo_site, '{ articles(first: 3) { edges { node { id publishedAt } } } page(urlPath: "/world-news/") { id } }')
    assert "errors" not in body, body


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
async def test_forged_cursors_with_huge_numbers_or_bad_dates_are_bad_user_input(demo_site, cursor):
    raw, _ = await auth.create_token(name="edge-editor", role=Role.EDITOR)
    article = (await post(demo_site, '{ articles(first: 1) { edges { node { id url } } } }'))["data"]["articles"]["edges"][0]["node"]
    queries = [
        ('query($c: String) { articles(first: 2, after: $c) { edges { node { id } } } }', None),
        ('query($c: String) { articles(first: 2, search: "summit", after: $c) { edges { node { id } } } }', None),
        ('query($c: String, $p: String!) { page(urlPath: $p) { ... on ArticlePage { comments(first: 2, after: $c) { edges { node { id } } } } } }', None),
        ('query($c: String, $id: ID!) { revisions(pageId: $id, first: 2, after: $c) { edges { node { number } } } }', raw),
    ]
    for query, token in queries:
        body = await post(demo_site, query, {"c": cursor, "p": article["url"], "id": article["id"]}, token=token)
        assert body.get("data") is None or "errors" in body or body["data"], body
        if body.get("errors"):
            assert {e["extensions"]["code"] for e in body["errors"]} <= {"BAD_USER_INPUT", "INVALID"}, body


UPLOAD = "mutation($file: Upload!) { uploadImage(file: $file, alt: \"x\") { errors { code message } } }"


@pytest.mark.parametrize("size", [2 * 1024 * 1024, 12 * 1024 * 1024])
@pytest.mark.parametrize("shape", ["file", "field", "operations"])
@pytest.mark.parametrize("authorization", ["Bearer junk", "Bearer " + "x" * 5000, "Basic \x7f\x01"])
async def test_multipart_with_a_junk_authorization_header_gets_a_clean_refusal(client, size, shape, authorization):
    import orjson

    big = b"\x89PNG\r\n\x1a\n" + b"\0" * size
    operations = orjson.dumps({"query": UPLOAD + " " * (size if shape == "operations" else 0), "variables": {"file": None}})
    files = {"operations": (None, operations, "application/json"),
             "map": (None, b'{"0": ["variables.file"]}', "application/json"),
             "0": ("big.png", big, "image/png") if shape == "file" else (None, big if shape == "field" else b"x", "image/png")}
    response = await client.post("/graphql", files=files, headers={"Authorization": authorization})
    assert response.status_code < 500, response.text[:500]
    if response.headers.get("content-type", "").startswith("application/json"):
        assert_coded(response.json())


@pytest.mark.parametrize("pk", [2**31, 2**31 - 1, 10**17])
async def test_ids_past_the_integer_column_are_not_found_not_500(demo_site, pk):
    raw, _ = await auth.create_token(name="edge-admin", role=Role.ADMIN)
    node = base64.b64encode(f"ArticlePage:{pk}".encode()).decode()
    cursor = forged(f"a:2000-01-01T00:00:00+00:00|{pk}")
    body = await post(demo_site, "query($id: ID!, $c: String) { node(id: $id) { id } articles(first: 1, after: $c) { edges { node { id } } } }",
                      {"id": node, "c": cursor})
    await post(demo_site, "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }", {"id": node}, token=raw)
    await post(demo_site, 'mutation($id: ID!) { addComment(input: {articleId: $id, authorName: "a", authorEmail: "a@example.org", body: "b"}) { errors { code } } }',
               {"id": node})
    assert body.get("errors") or body["data"]["node"] is None, body
