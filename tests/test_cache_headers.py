"""HTTP caching of /graphql: Cache-Control, ETag and 304, Vary, and the surrogate keys of each answer."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from service import auth, comments, ids, models, pages, previews, publishing, site
from service.clock import now
from service.models import CommentStatus, Role
from service.settings import DEV_SECRET

PUBLIC = "public, max-age=30, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400"
PRIVATE = "private, no-store"
BODY = [{"type": "paragraph", "value": {"html": "<p>Words.</p>"}}]
CARDS = "query($first: Int!) { articles(first: $first) { edges { node { id } } } }"


async def build():
    """Home > World (> Europe); an article in World with a tag, an author and a comment, one in Europe."""
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World", slug="world")
    europe = await pages.create_section(parent=world, title="Europe", slug="europe")
    ria = await models.Author.create(name="Ria Reporter", slug="ria")
    article = await pages.create_article(section=world, title="Harbour talks", body=BODY, tags=["harbour"], authors=[ria])
    await pages.create_article(section=europe, title="Alpine pass", body=BODY, tags=["harbour"])
    comment = await comments.store_comment(article=article, author_name="R", author_email="r@example.com",
                                           body="Hi", status=CommentStatus.APPROVED)
    return home, world, europe, article, comment


async def post(client, query: str, variables: dict | None = None, **headers):
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


async def get(client, query: str, variables: dict | None = None, **headers):
    headers.setdefault("Accept", "application/json")
    return await client.get("/graphql", params={"query": query, "variables": json.dumps(variables or {})}, headers=headers)


def keys(response) -> set[str]:
    return set(response.headers["Surrogate-Key"].split(" "))


def assert_public(response) -> None:
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    assert response.headers["Cache-Control"] == PUBLIC
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])
    assert response.headers["Vary"] == "Accept, Accept-Encoding"
    assert response.headers["Cache-Tag"] == ",".join(response.headers["Surrogate-Key"].split(" "))


def assert_private(response) -> None:
    assert response.headers["Cache-Control"] == PRIVATE, (response.status_code, response.text)
    for name in ("ETag", "Surrogate-Key", "Cache-Tag"):
        assert name not in response.headers


async def test_contract_queries_are_public_over_get_and_post(client, contract):
    _, world, _, article, comment = await build()
    variables = {
        "ArticlePage": {"urlPath": article.url_path},
        "SectionPage": {"urlPath": world.url_path},
        "HomePage": {},
        "ArticleList": {"tag": "harbour"},
        "Node": {"id": ids.global_id(comment)},
    }
    for name, values in variables.items():
        by_post = await post(client, contract[name], values)
        assert_public(by_post)
        for accept in ("application/json", "application/graphql-response+json"):
            by_get = await get(client, contract[name], values, Accept=accept)
            assert_public(by_get)
            assert keys(by_get) == keys(by_post), name
        assert by_get.headers["ETag"] != by_post.headers["ETag"]  # another media type: another representation
    digest = hashlib.sha256(contract["HomePage"].encode()).hexdigest()
    await client.post("/graphql", json={"query": contract["HomePage"],
                                        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}})
    persisted = await client.get("/graphql", params={"documentId": f"sha256:{digest}"}, headers={"Accept": "application/json"})
    assert_public(persisted)
    assert "articles" in keys(persisted)


async def test_surrogate_keys_name_what_the_answer_was_built_from(client, contract):
    home, world, europe, article, comment = await build()
    tag = await models.Tag.get(slug="harbour")
    ria = await models.Author.get(slug="ria")

    article_keys = keys(await post(client, contract["ArticlePage"], {"urlPath": article.url_path}))
    assert {f"p:{article.id}", f"p:{world.id}", f"p:{home.id}", f"c:{article.id}",
            f"tag:{tag.id}", f"articles:s:{world.id}"} <= article_keys

    home_keys = keys(await post(client, contract["HomePage"]))
    assert {"articles", "site", "sections", f"p:{world.id}", f"p:{article.id}"} <= home_keys

    section_keys = keys(await post(client, contract["SectionPage"], {"urlPath": world.url_path}))
    assert {f"articles:s:{world.id}", f"p:{world.id}", f"p:{article.id}", "sections"} <= section_keys
    assert "articles" not in section_keys

    by_tag = keys(await post(client, contract["ArticleList"], {"tag": "harbour"}))
    assert f"tag:{tag.id}" in by_tag and "articles" not in by_tag
    by_author = keys(await post(client, contract["ArticleList"], {"author": "ria"}))
    assert f"author:{ria.id}" in by_author and "articles" not in by_author
    by_section = keys(await post(client, contract["ArticleList"], {"section": "europe"}))
    assert f"articles:s:{europe.id}" in by_section and "articles" not in by_section
    searched = keys(await post(client, "{ articles(search: \"harbour\") { edges { node { id } } } }"))
    assert "search" in searched
    # A filtered list whose section, tag or author cannot be named without more SQL: every publish purges `articles`.
    assert keys(await post(client, contract["ArticleList"], {"tag": "nothing-here"})) == {"articles"}

    assert keys(await post(client, contract["Node"], {"id": ids.global_id(comment)})) == {f"c:{article.id}"}
    assert keys(await post(client, '{ page(urlPath: "/no-such-page/") { id } }')) == {"pages"}


async def test_page_keys_collapse_beyond_64(client):
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World")
    for n in range(66):
        await pages.create_article(section=world, title=f"Story {n}", body=BODY)
    few = await post(client, CARDS, {"first": 3})
    assert len([key for key in keys(few) if key.startswith("p:")]) == 3
    many = await post(client, CARDS, {"first": 66})
    assert_public(many)
    assert keys(many) == {"articles", "pages"}


async def test_everything_else_is_private_no_store(client, make_client):
    _, world, _, article, _ = await build()
    page = "query($p: String!) { page(urlPath: $p) { title } }"
    raw, _ = await auth.create_token(name="desk", role=Role.EDITOR)
    assert_private(await post(client, page, {"p": article.url_path}, Authorization=f"Bearer {raw}"))
    assert_private(await get(client, page, {"p": article.url_path}, Authorization=f"Bearer {raw}"))
    token, _ = previews.preview_token(DEV_SECRET, article.id, None)
    preview = await post(client, "query($p: String!, $t: String) { page(urlPath: $p, previewToken: $t) { title } }",
                         {"p": article.url_path, "t": token})
    assert preview.json()["data"]["page"]["title"] == "Harbour talks"
    assert_private(preview)
    mutation = await post(client, "mutation($input: AddCommentInput!) { addComment(input: $input) { status } }",
                          {"input": {"articleId": ids.global_id(world), "authorName": "R", "authorEmail": "r@example.com",
                                     "body": "Hi", "formToken": "x"}})
    assert mutation.status_code == 200
    assert_private(mutation)
    assert_private(await post(client, '{ page(urlPath: "/a/", previewToken: "forged") { title } }'))  # an error
    assert_private(await post(client, "{ page(urlPath: "))  # never executed
    assert_private(await get(client, "mutation { x }"))  # 405
    assert_private(await client.post("/graphql", data={"query": "{ site { name } }"}))  # 415
    assert_private(await client.post("/graphql", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"}))  # 413
    batching = await make_client(batch_max=5)
    batch = await batching.post("/graphql", json=[{"query": "{ site { name } }"}, {"query": "{ site { tagline } }"}])
    assert batch.status_code == 200 and len(batch.json()) == 2
    assert_private(batch)
    limited = await make_client(rate_points=10, rate_limit_delay=0, work_points_per_ms=0)
    for _ in range(40):
        answer = await post(limited, "{ site { name } }")
        if answer.status_code == 429:
            break
    assert answer.status_code == 429
    assert_private(answer)
    ide = await client.get("/graphql", headers={"Accept": "text/html"})
    assert ide.headers["content-type"].startswith("text/html") and "public" not in ide.headers.get("Cache-Control", "")


async def test_etag_and_304(client, contract):
    await build()
    first = await get(client, contract["HomePage"])
    tag = first.headers["ETag"]
    for condition in (tag, f"W/{tag}", f'"other", {tag}', f'W/"other" , W/{tag}', "*"):
        again = await get(client, contract["HomePage"], **{"If-None-Match": condition})
        assert again.status_code == 304 and again.content == b"", condition
        for name in ("ETag", "Cache-Control", "Vary", "Surrogate-Key"):
            assert again.headers[name] == first.headers[name]
    other = await get(client, contract["HomePage"], **{"If-None-Match": '"other", W/"another"'})
    assert other.status_code == 200 and other.json() == first.json()
    by_post = await client.post("/graphql", json={"query": contract["HomePage"]}, headers={"If-None-Match": "*"})
    assert by_post.status_code == 200 and by_post.json() == first.json()  # a POST always runs
    same = await get(client, contract["HomePage"])
    assert same.headers["ETag"] == tag  # the same bytes, the same validator

    await site.update_site_settings({"name": "The Renamed Gazette"})
    changed = await get(client, contract["HomePage"], **{"If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["data"]["site"]["name"] == "The Renamed Gazette"
    assert changed.headers["ETag"] != tag


async def test_max_age_stops_at_the_next_scheduled_change(client, contract):
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World")
    await pages.create_article(section=world, title="Out now", body=BODY)
    before = await get(client, contract["SectionPage"], {"urlPath": world.url_path})
    assert before.headers["Cache-Control"] == PUBLIC

    embargoed = await pages.create_article(section=world, title="Embargoed", body=BODY, live=False)
    await publishing.schedule(embargoed, now() + timedelta(seconds=120), None, "test")
    section = await get(client, contract["SectionPage"], {"urlPath": world.url_path})
    assert "Embargoed" not in section.text
    control = dict(part.strip().partition("=")[::2] for part in section.headers["Cache-Control"].split(","))
    assert "public" in control and 0 < int(control["max-age"]) <= 120 and 0 < int(control["s-maxage"]) <= 120
    assert control["stale-if-error"] == "86400"
