"""Unknown things are null; bad arguments are clear GraphQL errors, never a 500."""

from __future__ import annotations

import base64

import pytest

ARTICLES = "query($first: Int!, $after: String) { articles(first: $first, after: $after) { edges { node { title } } } }"


async def test_unknown_path_and_id_are_null(demo_site, gql, contract):
    assert (await gql(contract["ArticlePage"], {"urlPath": "/no/such/page/"}))["page"] is None
    missing = base64.b64encode(b"ArticlePage:999999").decode()
    assert (await gql(contract["Node"], {"id": missing}))["node"] is None
    # A section's id under the article type name is not that section.
    section = (await gql('{ page(urlPath: "/world-news/") { id } }'))["page"]["id"]
    raw = base64.b64decode(section).decode().replace("SectionPage", "ArticlePage")
    assert (await gql(contract["Node"], {"id": base64.b64encode(raw.encode()).decode()}))["node"] is None


async def test_paths_without_slashes_are_found(demo_site, gql):
    data = await gql('{ page(urlPath: "world-news") { url } }')
    assert data["page"]["url"] == "/world-news/"


@pytest.mark.parametrize("first", [-1, 101, 10_000])
async def test_first_out_of_range_is_a_clear_error(demo_site, gql, first):
    body = await gql(ARTICLES, {"first": first}, errors=True)
    assert body["data"] is None
    (error,) = body["errors"]
    assert "between 0 and 100" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_first_zero_returns_no_items_but_counts(demo_site, gql):
    data = await gql("{ articles(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } } }")
    assert data["articles"]["edges"] == [] and data["articles"]["totalCount"] > 0
    assert data["articles"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!!", base64.b64encode(b"a:yesterday|1").decode(), base64.b64encode(b"c:2024-01-01 00:00:00+00:00|1").decode(), "", "YQ=="],
)
async def test_malformed_cursor_is_a_clear_error(demo_site, gql, cursor):
    body = await gql(ARTICLES, {"first": 5, "after": cursor}, errors=True)
    assert "Invalid cursor" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_comment_cursor_is_a_clear_error(demo_site, gql):
    query = '{ page(urlPath: "/world-news/valdessa-korvany-leaders-meet-portaven-summit/") { ... on ArticlePage { comments(first: 2, after: "bad") { totalCount } } } }'
    body = await gql(query, errors=True)
    assert "Invalid cursor" in body["errors"][0]["message"]


@pytest.mark.parametrize("value", ["not-an-id", base64.b64encode(b"User:1").decode(), base64.b64encode(b"ArticlePage:abc").decode(), "A" * 500])
async def test_malformed_id_is_a_clear_error(demo_site, gql, contract, value):
    body = await gql(contract["Node"], {"id": value}, errors=True)
    assert body["data"]["node"] is None if body.get("data") else True
    assert "Invalid id" in body["errors"][0]["message"]


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45T00:00:00Z", "12345"])
async def test_invalid_date_is_a_clear_error(demo_site, client, contract, value):
    response = await client.post("/graphql", json={"query": contract["ArticleList"], "variables": {"publishedAfter": value}})
    assert response.status_code in (200, 400)
    body = response.json()
    assert body["errors"] and "publishedAfter" in body["errors"][0]["message"]


async def test_date_without_time_zone_is_refused(demo_site, gql, contract):
    body = await gql(contract["ArticleList"], {"publishedAfter": "2026-11-01T00:00:00"}, errors=True)
    assert "time zone" in body["errors"][0]["message"]


async def test_related_first_is_bounded(demo_site, gql):
    query = '{ page(urlPath: "/world-news/valdessa-korvany-leaders-meet-portaven-summit/") { ... on ArticlePage { related(first: 500) { id } } } }'
    body = await gql(query, errors=True)
    assert "between 0 and 20" in body["errors"][0]["message"]


async def test_oversized_arguments_are_refused(demo_site, gql):
    body = await gql("query($p: String!) { page(urlPath: $p) { id } }", {"p": "/" + "a" * 5000}, errors=True)
    assert "longer than" in body["errors"][0]["message"]
    body = await gql("query($s: String!) { articles(search: $s) { totalCount } }", {"s": "x" * 1000}, errors=True)
    assert "longer than" in body["errors"][0]["message"]


async def test_search_syntax_from_readers_never_breaks_the_query(demo_site, gql):
    for text in ['"unbalanced', "OR AND NOT", "*", "a:b", "NEAR(x y)", "'; DROP TABLE page; --", "%_%", ""]:
        data = await gql("query($s: String!) { articles(search: $s) { totalCount } }", {"s": text})
        assert data["articles"]["totalCount"] >= 0
