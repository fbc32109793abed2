"""The editorial workflow through the API, with the reader's view checked at every step.

draft -> edit (and a stale edit refused) -> preview -> publish -> edit while live ->
rename (redirect) -> schedule -> unpublish -> revert -> delete, plus every role rule.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta, timezone

import pytest

from service import auth, demo_content, models, previews
from service.models import Role
from service.settings import Settings

ARTICLE_FIELDS = """
    id title headline summary source publishedAt url
    section { title url } tags { slug name } authors { name }
    body { __typename ... on ParagraphBlock { html } ... on HeadingBlock { text level } }
"""
CREATE = """
mutation Create($input: CreateArticleInput!) {
  createArticle(input: $input) {
    article { %s }
    revision { id number createdBy }
    errors { field code message }
  }
}""" % ARTICLE_FIELDS
UPDATE = """
mutation Update($id: ID!, $input: UpdateArticleInput!, $base: ID) {
  updateArticle(id: $id, input: $input, baseRevisionId: $base) {
    article { %s }
    revision { id number }
    errors { field code message }
  }
}""" % ARTICLE_FIELDS
PUBLISH = """
mutation Publish($id: ID!, $rev: ID) {
  publishPage(id: $id, revisionId: $rev) {
    page { url title }
    status { live hasUnpublishedChanges visible }
    revision { number }
    errors { code message }
  }
}"""
READ = "query Read($path: String!) { page(urlPath: $path) { title ... on ArticlePage { headline tags { slug } } } }"
STATUS = "query S($id: ID!) { pageStatus(id: $id) { live visible hasUnpublishedChanges goLiveAt expireAt urlPath latestRevision { number } liveRevision { number } } }"


class Editorial:
    """GraphQL over HTTP with a token per role."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def setup(self) -> None:
        for role in Role:
            raw, _ = await auth.create_token(name=f"{role.value}-desk", role=role)
            self.tokens[role.value] = raw

    async def __call__(self, query: str, variables: dict | None = None, role: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, role: str | None = None) -> dict:
        body = await self(query, variables, role)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def reader_sees(self, path: str) -> dict | None:
        return (await self.data(READ, {"path": path}))["page"]


@pytest.fixture
async def desk(demo_site) -> Editorial:
    helper = Editorial(demo_site)
    await helper.setup()
    return helper


async def _section_id(desk: Editorial, path: str = "/world-news/") -> str:
    return (await desk.data('query($p: String!) { page(urlPath: $p) { id } }', {"p": path}))["page"]["id"]


async def _author_id(desk: Editorial) -> str:
    return str((await models.Author.all().order_by("id").first()).id)


def _draft_input(section_id: str, author_id: str, **extra) -> dict:
    return {
        "sectionId": section_id,
        "title": "Harbour talks resume",
        "headline": "Harbour talks resume after a week of silence",
        "summary": "Negotiators are back at the table.",
        "publishedAt": "2024-07-16T09:00:00Z",
        "source": "By Agencies",
        "tags": ["harbour-talks", "diplomacy"],
        "authorIds": [author_id],
        "body": [
            {"heading": {"text": "Back at the table", "level": 2}},
            {"paragraph": {"html": "<p>Talks resumed on <strong>Monday</strong>.<script>alert(1)</script></p>"}},
        ],
        **extra,
    }


async def test_the_whole_workflow_with_the_readers_view_at_every_step(desk):
    section_id, author_id = await _section_id(desk), await _author_id(desk)

    # Draft: stored, sanitised, invisible to readers.
    created = (await desk.data(CREATE, {"input": _draft_input(section_id, author_id)}, "editor"))["createArticle"]
    assert created["errors"] == []
    article, rev1 = created["article"], created["revision"]
    assert rev1["number"] == 1 and rev1["createdBy"] == "editor-desk"
    assert article["url"] == "/world-news/harbour-talks-resume/"
    assert article["headline"] == "Harbour talks resume after a week of silence"
    assert [t["slug"] for t in article["tags"]] == ["harbour-talks", "diplomacy"]
    assert "<script>" not in article["body"][1]["html"] and "<strong>Monday</strong>" in article["body"][1]["html"]
    path = article["url"]
    assert await desk.reader_sees(path) is None
    assert (await desk.data("query($id: ID!) { node(id: $id) { id } }", {"id": article["id"]}))["node"] is None
    listed = await desk.data('{ articles(section: "world-news", first: 100) { edges { node { url } } } }')
    assert path not in [e["node"]["url"] for e in listed["articles"]["edges"]]

    # Edit on top of revision 1; a second edit still based on revision 1 is refused.
    edit = {"id": article["id"], "input": {"title": "Harbour talks resume in Portaven"}, "base": rev1["id"]}
    updated = (await desk.data(UPDATE, edit, "editor"))["updateArticle"]
    assert updated["errors"] == [] and updated["revision"]["number"] == 2
    rev2 = updated["revision"]
    stale = (await desk.data(UPDATE, {**edit, "input": {"summary": "Overwrites?"}}, "editor"))["updateArticle"]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["revision"] is None
    revisions = await desk.data(
        "query($id: ID!) { revisions(pageId: $id) { totalCount edges { node { number } } } }", {"id": article["id"]}, "editor"
    )
    assert revisions["revisions"]["totalCount"] == 2  # the stale edit stored nothing

    # Preview: the draft, for this page only, with a signed token.
    token = (await desk.data(
        "mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token urlPath expiresAt } errors { code } } }",
        {"id": article["id"]}, "editor",
    ))["createPreviewToken"]["token"]
    preview = await desk.data(
        "query($p: String!, $t: String) { page(urlPath: $p, previewToken: $t) { title ... on ArticlePage { tags { slug } } } }",
        {"p": path, "t": token["token"]},
    )
    assert preview["page"] == {"title": "Harbour talks resume in Portaven", "tags": [{"slug": "harbour-talks"}, {"slug": "diplomacy"}]}
    node_preview = await desk.data(
        "query($id: ID!, $t: String) { node(id: $id, previewToken: $t) { ... on ArticlePage { title } } }",
        {"id": article["id"], "t": token["token"]},
    )
    assert node_preview["node"]["title"] == "Harbour talks resume in Portaven"
    tampered = token["token"][:-3] + ("AAA" if not token["token"].endswith("AAA") else "BBB")
    bad = await desk("query($p: String!, $t: String) { page(urlPath: $p, previewToken: $t) { title } }", {"p": path, "t": tampered})
    assert bad["data"]["page"] is None and "signature" in bad["errors"][0]["message"]
    foreign = await desk("query($p: String!, $t: String) { page(urlPath: $p, previewToken: $t) { title } }",
                         {"p": "/world-news/", "t": token["token"]})
    assert foreign["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    expired, _ = previews.preview_token(Settings().secret_key, await _pk(article["id"]), None, seconds=-5)
    old = await desk("query($p: String!, $t: String) { page(urlPath: $p, previewToken: $t) { title } }", {"p": path, "t": expired})
    assert old["errors"][0]["extensions"]["code"] == "EXPIRED"

    # Publish: readers see revision 2.
    published = (await desk.data(PUBLISH, {"id": article["id"]}, "publisher"))["publishPage"]
    assert published["errors"] == [] and published["status"] == {"live": True, "hasUnpublishedChanges": False, "visible": True}
    seen = await desk.reader_sees(path)
    assert seen["title"] == "Harbour talks resume in Portaven"
    assert [t["slug"] for t in seen["tags"]] == ["harbour-talks", "diplomacy"]

    # Edit while live: readers keep the live version until the next publish.
    rev3 = (await desk.data(UPDATE, {"id": article["id"], "input": {"title": "Harbour deal within reach"}, "base": rev2["id"]}, "editor"))["updateArticle"]["revision"]
    assert (await desk.reader_sees(path))["title"] == "Harbour talks resume in Portaven"
    status = (await desk.data(STATUS, {"id": article["id"]}, "editor"))["pageStatus"]
    assert status["hasUnpublishedChanges"] and status["latestRevision"]["number"] == 3 and status["liveRevision"]["number"] == 2

    # Rename (a new slug, published): the old path redirects permanently.
    await desk.data(UPDATE, {"id": article["id"], "input": {"slug": "harbour-deal"}, "base": rev3["id"]}, "editor")
    await desk.data(PUBLISH, {"id": article["id"]}, "publisher")
    new_path = "/world-news/harbour-deal/"
    assert await desk.reader_sees(path) is None
    assert (await desk.reader_sees(new_path))["title"] == "Harbour deal within reach"
    redirect = await desk.data("query($p: String!) { redirect(path: $p) { target isPermanent } }", {"p": path})
    assert redirect["redirect"] == {"target": new_path, "isPermanent": True}

    # Schedule: invisible before goLiveAt, gone after expireAt; no job runs in between.
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    SCHEDULE = "mutation($id: ID!, $go: DateTime, $exp: DateTime) { schedulePage(id: $id, goLiveAt: $go, expireAt: $exp) { status { visible goLiveAt } errors { code field } } }"
    scheduled = (await desk.data(SCHEDULE, {"id": article["id"], "go": soon.isoformat()}, "publisher"))["schedulePage"]
    assert scheduled["errors"] == [] and scheduled["status"]["visible"] is False
    assert await desk.reader_sees(new_path) is None
    expiring = datetime.now(timezone.utc) + timedelta(seconds=1.5)
    # A left-out argument keeps that end of the window; an explicit null clears it.
    kept = (await desk.data(SCHEDULE, {"id": article["id"], "exp": (soon + timedelta(hours=1)).isoformat()}, "publisher"))["schedulePage"]
    assert kept["status"]["goLiveAt"] is not None and kept["status"]["visible"] is False
    await desk.data(SCHEDULE, {"id": article["id"], "go": None, "exp": expiring.isoformat()}, "publisher")
    assert (await desk.reader_sees(new_path))["title"] == "Harbour deal within reach"
    await asyncio.sleep(max(0.0, (expiring - datetime.now(timezone.utc)).total_seconds()) + 0.3)
    assert await desk.reader_sees(new_path) is None
    backwards = (await desk.data(SCHEDULE, {"id": article["id"], "go": soon.isoformat(), "exp": (soon - timedelta(minutes=5)).isoformat()}, "publisher"))["schedulePage"]
    assert backwards["errors"][0]["code"] == "INVALID" and backwards["errors"][0]["field"] == "expireAt"
    await desk.data(SCHEDULE, {"id": article["id"], "go": None, "exp": None}, "publisher")  # clear the window
    assert (await desk.reader_sees(new_path)) is not None

    # Unpublish: gone for readers, drafts kept.
    unpublished = (await desk.data("mutation($id: ID!) { unpublishPage(id: $id) { status { live } errors { code } } }", {"id": article["id"]}, "publisher"))["unpublishPage"]
    assert unpublished == {"status": {"live": False}, "errors": []}
    assert await desk.reader_sees(new_path) is None

    # Revert to revision 1 (a new draft), compare, publish: readers see revision 1's content.
    reverted = (await desk.data(
        "mutation($id: ID!, $r: ID!) { revertToRevision(id: $id, revisionId: $r) { revision { id number message } errors { code } } }",
        {"id": article["id"], "r": rev1["id"]}, "publisher",
    ))["revertToRevision"]
    assert reverted["revision"]["message"] == "Reverted to revision 1"
    changes = (await desk.data(
        "query($p: ID!, $a: ID!, $b: ID!) { compareRevisions(pageId: $p, fromRevisionId: $a, toRevisionId: $b) { field change before after } }",
        {"p": article["id"], "a": rev1["id"], "b": rev2["id"]}, "editor",
    ))["compareRevisions"]
    assert {"field": "title", "change": "changed", "before": "Harbour talks resume", "after": "Harbour talks resume in Portaven"} in changes
    await desk.data(PUBLISH, {"id": article["id"]}, "publisher")
    assert (await desk.reader_sees(path))["title"] == "Harbour talks resume"  # slug reverted too
    redirect = await desk.data("query($p: String!) { redirect(path: $p) { target } }", {"p": new_path})
    assert redirect["redirect"]["target"] == path
    assert (await desk.data("query($p: String!) { redirect(path: $p) { target } }", {"p": path}))["redirect"] is None


async def _pk(global_id: str) -> int:
    from schema import ids

    return ids.from_global_id(global_id)[1]


async def test_every_editorial_mutation_checks_the_role(desk):
    section_id, author_id = await _section_id(desk), await _author_id(desk)
    article_id = await _section_id(desk, "/world-news/valdessa-korvany-leaders-meet-portaven-summit/")
    operations = {
        "createArticle": (CREATE, {"input": _draft_input(section_id, author_id, slug="role-check")}),
        "updateArticle": (UPDATE, {"id": article_id, "input": {"summary": "x"}}),
        "createSection": ("mutation($p: ID!) { createSection(input: {parentId: $p, title: \"Role check\"}) { errors { code } } }", {"p": section_id}),
        "publishPage": (PUBLISH, {"id": article_id}),
        "unpublishPage": ("mutation($id: ID!) { unpublishPage(id: $id) { errors { code } } }", {"id": article_id}),
        "schedulePage": ("mutation($id: ID!) { schedulePage(id: $id) { errors { code } } }", {"id": article_id}),
        "movePage": ("mutation($id: ID!, $p: ID!) { movePage(id: $id, parentId: $p) { errors { code } } }", {"id": article_id, "p": section_id}),
        "deletePage": ("mutation($id: ID!) { deletePage(id: $id) { errors { code } } }", {"id": article_id}),
        "revertToRevision": ("mutation($id: ID!) { revertToRevision(id: $id, revisionId: \"UGFnZVJldmlzaW9uOjE=\") { errors { code } } }", {"id": article_id}),
        "createPreviewToken": ("mutation($id: ID!) { createPreviewToken(pageId: $id) { errors { code } } }", {"id": article_id}),
        "createRedirect": ("mutation { createRedirect(oldPath: \"/x/\", targetPath: \"/y/\") { errors { code } } }", {}),
        "registerWebhook": ("mutation { registerWebhook(url: \"http://127.0.0.1:9/\", events: [PAGE_PUBLISHED]) { errors { code } } }", {}),
    }
    needed = {"createArticle": "editor", "updateArticle": "editor", "createSection": "editor", "createPreviewToken": "editor",
              "createRedirect": "editor", "publishPage": "publisher", "unpublishPage": "publisher", "schedulePage": "publisher",
              "movePage": "publisher", "deletePage": "publisher", "revertToRevision": "publisher", "registerWebhook": "admin"}
    order = [r.value for r in Role]
    for name, (query, variables) in operations.items():
        anonymous = await desk(query, variables)
        assert anonymous["data"][name]["errors"][0]["code"] == "UNAUTHENTICATED", name
        below = order[order.index(needed[name]) - 1]
        denied = await desk(query, variables, below)
        assert denied["data"][name]["errors"][0]["code"] == "PERMISSION_DENIED", (name, below)
    # The article was never touched by any refused call.
    assert (await desk.reader_sees("/world-news/valdessa-korvany-leaders-meet-portaven-summit/")) is not None
    assert await models.PageRevision.all().count() == 0
    assert await models.Webhook.all().count() == 0


async def test_editor_only_queries_refuse_anonymous_and_expired_tokens(desk):
    article_id = await _section_id(desk, "/world-news/valdessa-korvany-leaders-meet-portaven-summit/")
    queries = [
        ("query($id: ID!) { revisions(pageId: $id) { totalCount } }", {"id": article_id}),
        (STATUS, {"id": article_id}),
        ("{ redirects { oldPath } }", {}),
        ("{ webhooks { url } }", {}),
    ]
    raw, _ = await auth.create_token(name="old", role=Role.ADMIN, expires_in=timedelta(seconds=-1))
    revoked_raw, revoked = await auth.create_token(name="gone", role=Role.ADMIN)
    await auth.revoke_token(revoked.id)
    for query, variables in queries:
        body = await desk(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", query
        for secret in (raw, revoked_raw):
            response = await desk.client.post("/graphql", json={"query": query, "variables": variables},
                                              headers={"Authorization": f"Bearer {secret}"})
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await desk("{ webhooks { url } }", {}, "publisher")
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"body": [{"paragraph": {"html": "<script>x</script>"}}]}, "body.0", "INVALID_BLOCK"),
        ({"body": [{"heading": {"text": "Too deep", "level": 6}}]}, "body.0", "INVALID_BLOCK"),
        ({"body": [{"image": {"imageId": "999999"}}]}, "body.0", "INVALID_BLOCK"),
        ({"body": [{"embed": {"url": "javascript:alert(1)"}}]}, "body.0", "INVALID_BLOCK"),
        ({"title": "   "}, "title", "REQUIRED"),
        ({"authorIds": ["999999"]}, "authorIds", "NOT_FOUND"),
        ({"relatedIds": ["bm90LWFuLWlk"]}, "relatedIds", "NOT_FOUND"),
        ({"heroImageId": "999999"}, "heroImageId", "NOT_FOUND"),
        ({"sectionId": "U2VjdGlvblBhZ2U6OTk5OTk5"}, "sectionId", "NOT_FOUND"),
        ({"summary": "x" * 2001}, "summary", "TOO_LONG"),
    ],
)
async def test_bad_article_input_is_a_typed_error_and_nothing_is_stored(desk, change, field, code):
    section_id, author_id = await _section_id(desk), await _author_id(desk)
    result = (await desk.data(CREATE, {"input": _draft_input(section_id, author_id, **change)}, "editor"))["createArticle"]
    assert result["article"] is None
    assert result["errors"][0]["code"] == code and result["errors"][0]["field"] == field, result["errors"]
    assert not await models.Page.exists(slug="harbour-talks-resume")


async def test_one_of_body_blocks_need_exactly_one_type(desk):
    section_id, author_id = await _section_id(desk), await _author_id(desk)
    body = await desk(CREATE, {"input": _draft_input(section_id, author_id, body=[{"paragraph": {"html": "<p>a</p>"}, "heading": {"text": "b"}}])}, "editor")
    assert body["errors"] and "exactly one" in body["errors"][0]["message"].lower()


async def test_moves_leave_redirects_that_follow_the_page(desk):
    article = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
    article_id = await _section_id(desk, article)
    sections = (await desk.data("{ sections { id url } }"))["sections"]
    targets = [s for s in sections if s["url"] != "/world-news/"][:2]
    MOVE = "mutation($id: ID!, $p: ID!) { movePage(id: $id, parentId: $p) { page { url } errors { code message } } }"
    first = (await desk.data(MOVE, {"id": article_id, "p": targets[0]["id"]}, "publisher"))["movePage"]
    second = (await desk.data(MOVE, {"id": article_id, "p": targets[1]["id"]}, "publisher"))["movePage"]
    final = second["page"]["url"]
    assert final.startswith(targets[1]["url"])
    assert (await desk.reader_sees(final)) is not None and await desk.reader_sees(article) is None
    for old in (article, first["page"]["url"]):  # chains collapse: both old paths lead to the final one
        redirect = (await desk.data("query($p: String!) { redirect(path: $p) { target isPermanent } }", {"p": old}))["redirect"]
        assert redirect == {"target": final, "isPermanent": True}
    # Moving a section takes its articles along, and their old paths redirect too.
    world = await _section_id(desk)
    home = (await desk.data('{ page(urlPath: "/") { id } }'))["page"]["id"]
    nested = (await desk.data("{ sections { url children { id url } } }"))["sections"]
    child = next(c for s in nested for c in s["children"])
    moved = (await desk.data(MOVE, {"id": child["id"], "p": home}, "publisher"))["movePage"]
    assert moved["errors"] == [] and moved["page"]["url"].count("/") == 2
    assert (await desk.data("query($p: String!) { redirect(path: $p) { target } }", {"p": child["url"]}))["redirect"]["target"] == moved["page"]["url"]
    into_itself = (await desk.data(MOVE, {"id": world, "p": world}, "publisher"))["movePage"]
    assert into_itself["errors"][0]["code"] == "INVALID_PARENT"


async def test_manual_redirects_refuse_loops_and_collapse_chains(desk):
    CREATE_REDIRECT = "mutation($o: String!, $t: String!) { createRedirect(oldPath: $o, targetPath: $t, isPermanent: false) { redirect { id oldPath target } errors { code message } } }"
    a = (await desk.data(CREATE_REDIRECT, {"o": "/old-a", "t": "/old-b/"}, "editor"))["createRedirect"]
    assert a["errors"] == [] and a["redirect"]["oldPath"] == "/old-a/"
    await desk.data(CREATE_REDIRECT, {"o": "/old-b/", "t": "/world-news/"}, "editor")
    chain = (await desk.data("query { redirect(path: \"/old-a/\") { target isPermanent } }"))["redirect"]
    assert chain == {"target": "/world-news/", "isPermanent": False}
    loop = (await desk.data(CREATE_REDIRECT, {"o": "/world-news/", "t": "/old-a/"}, "editor"))["createRedirect"]
    assert loop["errors"][0]["code"] == "INVALID" and "loop" in loop["errors"][0]["message"]
    self_loop = (await desk.data(CREATE_REDIRECT, {"o": "/x/", "t": "/x"}, "editor"))["createRedirect"]
    assert self_loop["errors"][0]["code"] == "INVALID"
    bad = (await desk.data(CREATE_REDIRECT, {"o": "https://evil.example/", "t": "/x/"}, "editor"))["createRedirect"]
    assert bad["errors"][0]["code"] == "INVALID"
    listed = (await desk.data("{ redirects { oldPath } }", {}, "editor"))["redirects"]
    assert {r["oldPath"] for r in listed} == {"/old-a/", "/old-b/", *(old for old, _ in demo_content.REDIRECTS)}
    deleted = (await desk.data("mutation($id: ID!) { deleteRedirect(id: $id) { errors { code } } }", {"id": a["redirect"]["id"]}, "editor"))
    assert deleted["deleteRedirect"]["errors"] == []
    assert (await desk.data("query { redirect(path: \"/old-a/\") { target } }"))["redirect"] is None
    assert (await desk.data("query { redirect(path: \"/nowhere/\") { target } }"))["redirect"] is None


async def test_deleting_a_section_takes_its_subtree(desk):
    nested = (await desk.data("{ sections { id url children { id url } } }"))["sections"]
    parent = next(s for s in nested if s["children"])
    before = (await desk.data("query($s: String!) { articles(section: $s) { totalCount } }", {"s": parent["url"].strip("/")}))
    assert before["articles"]["totalCount"] > 0
    result = (await desk.data("mutation($id: ID!) { deletePage(id: $id) { deletedIds errors { code } } }", {"id": parent["id"]}, "publisher"))["deletePage"]
    assert result["errors"] == [] and parent["id"] in result["deletedIds"] and parent["children"][0]["id"] in result["deletedIds"]
    assert len(result["deletedIds"]) >= before["articles"]["totalCount"] + 2
    assert await desk.reader_sees(parent["url"]) is None
    home = (await desk.data('{ page(urlPath: "/") { id } }'))["page"]["id"]
    refused = (await desk.data("mutation($id: ID!) { deletePage(id: $id) { errors { code } } }", {"id": home}, "publisher"))["deletePage"]
    assert refused["errors"][0]["code"] == "INVALID"


async def test_sections_are_drafted_and_published_like_articles(desk):
    home = (await desk.data('{ page(urlPath: "/") { id } }'))["page"]["id"]
    made = (await desk.data(
        'mutation($p: ID!) { createSection(input: {parentId: $p, title: "Climate Desk", description: "Heat and policy."}) '
        "{ section { id url description } revision { number } errors { code } } }", {"p": home}, "editor",
    ))["createSection"]
    assert made["errors"] == [] and made["section"]["url"] == "/climate-desk/"
    assert await desk.reader_sees("/climate-desk/") is None
    await desk.data(PUBLISH, {"id": made["section"]["id"]}, "publisher")
    assert (await desk.reader_sees("/climate-desk/"))["title"] == "Climate Desk"
    updated = (await desk.data(
        'mutation($id: ID!) { updateSection(id: $id, input: {title: "Climate"}) { section { title } errors { code } } }',
        {"id": made["section"]["id"]}, "editor",
    ))["updateSection"]
    assert updated == {"section": {"title": "Climate"}, "errors": []}
    assert (await desk.reader_sees("/climate-desk/"))["title"] == "Climate Desk"
    duplicate = (await desk.data(
        'mutation($p: ID!) { createSection(input: {parentId: $p, title: "World News"}) { errors { code field } } }', {"p": home}, "editor",
    ))["createSection"]
    assert duplicate["errors"][0]["code"] == "DUPLICATE"


async def test_concurrent_edits_on_the_same_revision_store_exactly_one(desk):
    section_id, author_id = await _section_id(desk), await _author_id(desk)
    created = (await desk.data(CREATE, {"input": _draft_input(section_id, author_id)}, "editor"))["createArticle"]
    article, base = created["article"]["id"], created["revision"]["id"]
    results = await asyncio.gather(*(
        desk.data(UPDATE, {"id": article, "input": {"summary": f"Version {n}"}, "base": base}, "editor") for n in range(6)
    ))
    payloads = [r["updateArticle"] for r in results]
    saved = [p for p in payloads if not p["errors"]]
    assert len(saved) == 1
    assert all(p["errors"][0]["code"] == "CONFLICT" for p in payloads if p["errors"])
    assert await models.PageRevision.filter(page_id=await _pk(article)).count() == 2


async def test_publish_scheduled_records_transitions_and_queues_webhooks(desk, database_url):
    from tests.conftest import run_cli

    await desk.data('mutation { registerWebhook(url: "http://8.8.8.8:9/", events: [PAGE_PUBLISHED, PAGE_UNPUBLISHED]) { errors { code } } }', {}, "admin")
    article = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
    article_id = await _section_id(desk, article)
    expiring = datetime.now(timezone.utc) + timedelta(seconds=4)  # room for the CLI to start on a busy machine
    SCHEDULE = "mutation($id: ID!, $exp: DateTime) { schedulePage(id: $id, expireAt: $exp) { errors { code } } }"
    assert (await desk.data(SCHEDULE, {"id": article_id, "exp": expiring.isoformat()}, "publisher"))["schedulePage"]["errors"] == []
    assert "0 went live, 0 expired" in run_cli("publish-scheduled", database_url=database_url).stdout
    await asyncio.sleep(max(0.0, (expiring - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    assert await desk.reader_sees(article) is None  # already, before anything recorded it
    assert "0 went live, 1 expired" in run_cli("publish-scheduled", database_url=database_url).stdout
    status = (await desk.data(STATUS, {"id": article_id}, "editor"))["pageStatus"]
    assert status["live"] is False and status["expireAt"] is None
    events = await models.WebhookDelivery.all().values_list("event", flat=True)
    assert events == ["page.unpublished"]


async def test_admins_manage_tokens_and_site_settings(desk):
    made = (await desk.data(
        'mutation { createApiToken(name: "night desk", role: EDITOR, expiresInDays: 30) { token { id role active expiresAt } secret errors { code } } }',
        {}, "admin",
    ))["createApiToken"]
    assert made["errors"] == [] and made["token"]["role"] == "EDITOR" and made["token"]["active"] and made["secret"].startswith("mh_")
    whoami = await desk.client.post("/graphql", json={"query": "{ redirects { oldPath } }"}, headers={"Authorization": f"Bearer {made['secret']}"})
    assert "errors" not in whoami.json()
    listed = (await desk.data("{ apiTokens { name role active } }", {}, "admin"))["apiTokens"]
    assert {"name": "night desk", "role": "EDITOR", "active": True} in listed
    assert all("secret" not in t and "tokenHash" not in t for t in listed)
    revoked = (await desk.data("mutation($id: ID!) { revokeApiToken(id: $id) { token { active } errors { code } } }", {"id": made["token"]["id"]}, "admin"))["revokeApiToken"]
    assert revoked == {"token": {"active": False}, "errors": []}
    after = await desk.client.post("/graphql", json={"query": "{ redirects { oldPath } }"}, headers={"Authorization": f"Bearer {made['secret']}"})
    assert after.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    denied = (await desk.data('mutation { createApiToken(name: "x", role: ADMIN) { errors { code } } }', {}, "publisher"))["createApiToken"]
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    assert (await desk("{ apiTokens { name } }", {}, "publisher"))["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"

    UPDATE_SITE = "mutation($i: SiteSettingsInput!) { updateSiteSettings(input: $i) { site { name tagline socialLinks { network url } } errors { field code } } }"
    changed = (await desk.data(UPDATE_SITE, {"i": {"tagline": "News from the lowlands", "socialLinks": [{"network": "RSS", "url": "https://example.org/feed"}]}}, "admin"))["updateSiteSettings"]
    assert changed["errors"] == [] and changed["site"]["tagline"] == "News from the lowlands"
    assert changed["site"]["socialLinks"] == [{"network": "rss", "url": "https://example.org/feed"}]
    assert (await desk.data("{ site { tagline } }"))["site"]["tagline"] == "News from the lowlands"
    bad = (await desk.data(UPDATE_SITE, {"i": {"socialLinks": [{"network": "x", "url": "javascript:alert(1)"}]}}, "admin"))["updateSiteSettings"]
    assert bad["errors"] == [{"field": "socialLinks.0", "code": "INVALID_URL"}]
    assert (await desk.data(UPDATE_SITE, {"i": {"name": "Nope"}}, "publisher"))["updateSiteSettings"]["errors"][0]["code"] == "PERMISSION_DENIED"


async def test_editors_list_authors_and_images(desk):
    authors = (await desk.data("{ authors { id name slug } }"))["authors"]
    assert authors and all(a["id"].isdigit() for a in authors)
    assert (await desk("{ images { id } }"))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    images = (await desk.data("{ images(first: 5) { id url width } }", {}, "editor"))["images"]
    assert len(images) == min(5, await models.Image.all().count())


async def test_schedules_in_any_offset_hold_on_every_database(desk):
    """Times come in with offsets; stored in UTC, an expiry at +05:00 ends on time (SQLite compares text)."""
    article = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
    article_id = await _section_id(desk, article)
    east = timezone(timedelta(hours=5))
    expiring = datetime.now(timezone.utc) + timedelta(seconds=1.2)
    SCHEDULE = "mutation($id: ID!, $go: DateTime, $exp: DateTime) { schedulePage(id: $id, goLiveAt: $go, expireAt: $exp) { errors { code field } } }"
    assert (await desk.data(SCHEDULE, {"id": article_id, "exp": expiring.astimezone(east).isoformat()}, "publisher"))["schedulePage"]["errors"] == []
    assert await desk.reader_sees(article) is not None
    await asyncio.sleep(max(0.0, (expiring - datetime.now(timezone.utc)).total_seconds()) + 0.3)
    assert await desk.reader_sees(article) is None
    west = timezone(timedelta(hours=-7))
    later = datetime.now(timezone.utc) + timedelta(minutes=30)
    await desk.data(SCHEDULE, {"id": article_id, "go": later.astimezone(west).isoformat()}, "publisher")
    assert await desk.reader_sees(article) is None  # 30 minutes early, whatever the offset
    home = (await desk.data('{ page(urlPath: "/") { id } }'))["page"]["id"]
    refused = (await desk.data(SCHEDULE, {"id": home, "exp": later.isoformat()}, "publisher"))["schedulePage"]
    assert refused["errors"][0]["code"] == "INVALID"
    past = (await desk.data(SCHEDULE, {"id": article_id, "go": (later - timedelta(hours=2)).isoformat(), "exp": (later - timedelta(hours=1)).isoformat()}, "publisher"))["schedulePage"]
    assert past["errors"] == [{"code": "INVALID", "field": "expireAt"}]


async def test_a_section_schedule_covers_its_articles_and_drafts_stay_hidden(desk):
    SCHEDULE = "mutation($id: ID!, $exp: DateTime) { schedulePage(id: $id, expireAt: $exp) { errors { code } } }"
    nested = (await desk.data("{ sections { id url children { id url } } }"))["sections"]
    section = next(s for s in nested if s["url"] == "/world-news/")
    first_article = (await desk.data('{ articles(section: "world-news", first: 1) { edges { node { url } } } }'))["articles"]["edges"][0]["node"]["url"]
    expiring = datetime.now(timezone.utc) + timedelta(seconds=1)
    await desk.data(SCHEDULE, {"id": section["id"], "exp": expiring.isoformat()}, "publisher")
    await asyncio.sleep(max(0.0, (expiring - datetime.now(timezone.utc)).total_seconds()) + 0.3)
    assert await desk.reader_sees(section["url"]) is None
    assert await desk.reader_sees(first_article) is None  # below the expired section
    assert (await desk.data('{ articles(section: "world-news") { totalCount } }'))["articles"]["totalCount"] == 0

    # A draft section: a live article cannot move into it, and redirects do not reveal its path.
    home = (await desk.data('{ page(urlPath: "/") { id } }'))["page"]["id"]
    draft = (await desk.data('mutation($p: ID!) { createSection(input: {parentId: $p, title: "Secret desk"}) { section { id } } }', {"p": home}, "editor"))["createSection"]["section"]["id"]
    live_article = (await desk.data('{ articles(section: "business", first: 1) { edges { node { id url } } } }'))["articles"]["edges"][0]["node"]
    MOVE = "mutation($id: ID!, $p: ID!) { movePage(id: $id, parentId: $p) { errors { code } } }"
    assert (await desk.data(MOVE, {"id": live_article["id"], "p": draft}, "publisher"))["movePage"]["errors"][0]["code"] == "INVALID_PARENT"
    await desk.data('mutation { createRedirect(oldPath: "/tip-line/", targetPath: "/business/") { errors { code } } }', {}, "editor")
    business = await _section_id(desk, "/business/")
    await desk.data("mutation($id: ID!) { unpublishPage(id: $id) { errors { code } } }", {"id": business}, "publisher")
    moved_away = (await desk.data(MOVE, {"id": business, "p": draft}, "publisher"))["movePage"]
    assert moved_away["errors"] == []  # an unpublished section may move into a draft one
    assert (await desk.data('{ redirect(path: "/business/") { target } }'))["redirect"] is None  # not /secret-desk/business/


async def test_deleting_a_related_article_does_not_block_its_citers(desk):
    articles = (await desk.data('{ articles(first: 2) { edges { node { id url } } } }'))["articles"]["edges"]
    citer, cited = articles[0]["node"], articles[1]["node"]
    await desk.data(UPDATE, {"id": citer["id"], "input": {"relatedIds": [cited["id"]]}}, "editor")
    await desk.data("mutation($id: ID!) { deletePage(id: $id) { errors { code } } }", {"id": cited["id"]}, "publisher")
    saved = (await desk.data(UPDATE, {"id": citer["id"], "input": {"title": "Still editable"}}, "editor"))["updateArticle"]
    assert saved["errors"] == []
    published = (await desk.data(PUBLISH, {"id": citer["id"]}, "publisher"))["publishPage"]
    assert published["errors"] == [] and (await desk.reader_sees(citer["url"]))["title"] == "Still editable"


async def test_hostile_ids_and_text_are_clear_errors(desk):
    article_id = await _section_id(desk, "/world-news/valdessa-korvany-leaders-meet-portaven-summit/")
    weird = "QXJ0aWNsZVBhZ2U6wrI="  # base64 of "ArticlePage:²"
    body = await desk("query($id: ID!) { node(id: $id) { id } }", {"id": weird})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    deleted = (await desk.data('mutation { deleteRedirect(id: "²") { errors { code } } }', {}, "editor"))["deleteRedirect"]
    assert deleted["errors"][0]["code"] == "INVALID"
    cursor = await desk("query($id: ID!) { revisions(pageId: $id, after: \"cjrCsg==\") { totalCount } }", {"id": article_id}, "editor")
    assert cursor["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    token = (await desk.data("mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token } } }", {"id": article_id}, "editor"))["createPreviewToken"]["token"]["token"]
    odd_path = await desk("query($t: String) { page(urlPath: \"/a?b\", previewToken: $t) { title } }", {"t": token})
    assert odd_path["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for query, variables in (('query($p: String!) { redirect(path: $p) { target } }', {"p": "/a\u0000b/"}),
                             ('query($p: String!) { page(urlPath: $p) { title } }', {"p": "/\u0000/"})):
        response = await desk.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 400 and "NUL" in response.text
    not_a_file = await desk('mutation { uploadImage(file: "abc", alt: "x") { errors { code field } } }', {}, "editor")
    assert not_a_file.get("errors") or not_a_file["data"]["uploadImage"]["errors"][0]["field"] == "file"


PREVIEW = "query($p: String!, $t: String) { page(urlPath: $p, previewToken: $t) { title } }"


async def test_a_malformed_or_forged_preview_token_is_bad_user_input(desk):
    path = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
    article_id = await _section_id(desk, path)
    token = (await desk.data("mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token } } }",
                             {"id": article_id}, "editor"))["createPreviewToken"]["token"]["token"]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in ("not-a-token", "", forged):
        body = await desk(PREVIEW, {"p": path, "t": bad})
        assert body["data"]["page"] is None
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "previewToken"}, bad
    node = await desk("query($id: ID!, $t: String) { node(id: $id, previewToken: $t) { id } }", {"id": article_id, "t": "x.y"})
    assert node["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_ids_in_editor_queries_are_bad_user_input_and_unknown_ones_not_found(desk):
    article_id = await _section_id(desk, "/world-news/valdessa-korvany-leaders-meet-portaven-summit/")
    unknown_page = base64.b64encode(b"ArticlePage:999999").decode()
    cases = [
        ("query($id: ID!) { pageStatus(id: $id) { live } }", {"id": "garbage"}, "BAD_USER_INPUT", "id"),
        ("query($id: ID!) { revisions(pageId: $id) { totalCount } }", {"id": "garbage"}, "BAD_USER_INPUT", "pageId"),
        ("query($id: ID!) { revisions(pageId: $id) { totalCount } }", {"id": unknown_page}, "NOT_FOUND", "pageId"),
        ("query($id: ID!, $r: ID!) { compareRevisions(pageId: $id, fromRevisionId: $r, toRevisionId: $r) { field } }",
         {"id": article_id, "r": "garbage"}, "BAD_USER_INPUT", "fromRevisionId"),
        ("query($id: ID!, $r: ID!) { compareRevisions(pageId: $id, fromRevisionId: $r, toRevisionId: $r) { field } }",
         {"id": article_id, "r": base64.b64encode(b"Revision:999999").decode()}, "NOT_FOUND", "fromRevisionId"),
    ]
    for query, variables, code, argument in cases:
        error = (await desk(query, variables, "editor"))["errors"][0]
        assert (error["extensions"]["code"], error["extensions"].get("argument")) == (code, argument), (query, variables)
    assert (await desk("query { pageStatus(id: \"garbage\") { live } }"))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revision_ids_say_revision_and_old_page_revision_ids_still_work(desk):
    section_id, author_id = await _section_id(desk), await _author_id(desk)
    created = (await desk.data(CREATE, {"input": _draft_input(section_id, author_id)}, "editor"))["createArticle"]
    article_id, rev1 = created["article"]["id"], created["revision"]
    kind, _, number = base64.b64decode(rev1["id"]).decode().partition(":")
    assert kind == "Revision" and number.isdigit()
    old_rev1 = base64.b64encode(f"PageRevision:{number}".encode()).decode()

    # An id made before the rename is still a revision id everywhere one is taken.
    updated = (await desk.data(UPDATE, {"id": article_id, "input": {"summary": "New"}, "base": old_rev1}, "editor"))["updateArticle"]
    assert updated["errors"] == [] and updated["revision"]["number"] == 2
    rev2 = updated["revision"]["id"]
    assert base64.b64decode(rev2).decode().startswith("Revision:")
    stale = (await desk.data(UPDATE, {"id": article_id, "input": {"summary": "Again"}, "base": old_rev1}, "editor"))["updateArticle"]
    assert stale["errors"][0]["code"] == "CONFLICT"
    changes = await desk.data(
        "query($id: ID!, $a: ID!, $b: ID!) { compareRevisions(pageId: $id, fromRevisionId: $a, toRevisionId: $b) { field } }",
        {"id": article_id, "a": old_rev1, "b": rev2}, "editor",
    )
    assert [c["field"] for c in changes["compareRevisions"]] == ["summary"]
    published = (await desk.data(PUBLISH, {"id": article_id, "rev": old_rev1}, "publisher"))["publishPage"]
    assert published["errors"] == [] and published["revision"]["number"] == 1
    preview = (await desk.data("mutation($id: ID!, $r: ID) { createPreviewToken(pageId: $id, revisionId: $r) { errors { code } } }",
                               {"id": article_id, "r": old_rev1}, "editor"))["createPreviewToken"]
    assert preview["errors"] == []
    listed = await desk.data("query($id: ID!) { revisions(pageId: $id) { edges { node { id number } } } }", {"id": article_id}, "editor")
    assert {base64.b64decode(e["node"]["id"]).decode().split(":")[0] for e in listed["revisions"]["edges"]} == {"Revision"}
    # A wrong kind of id is still refused, naming the type the API uses.
    wrong = (await desk.data(PUBLISH, {"id": article_id, "rev": article_id}, "publisher"))["publishPage"]
    assert wrong["errors"][0]["code"] == "NOT_FOUND" and "Revision" in wrong["errors"][0]["message"]
    assert "PageRevision" not in wrong["errors"][0]["message"]


async def test_each_mutation_of_a_document_reads_what_the_ones_before_it_wrote(desk):
    # Loaders cache rows for a request; a second mutation must not see the page row its
    # predecessor's payload read before the second one changed it.
    section_id, author_id = await _section_id(desk), await _author_id(desk)
    created = (await desk.data(CREATE, {"input": _draft_input(section_id, author_id)}, "editor"))["createArticle"]
    twice = await desk.data(
        """mutation Twice($id: ID!) {
          a: updateArticle(id: $id, input: {summary: "One"}) { revision { number isLatest } errors { code } }
          b: updateArticle(id: $id, input: {summary: "Two"}) { revision { number isLatest } errors { code } }
        }""",
        {"id": created["article"]["id"]},
        "editor",
    )
    assert twice["a"] == {"revision": {"number": 2, "isLatest": True}, "errors": []}
    assert twice["b"] == {"revision": {"number": 3, "isLatest": True}, "errors": []}


@pytest.fixture
async def cached_desk(demo_site, make_client) -> Editorial:
    helper = Editorial(await make_client(response_cache_bytes=1 << 20))
    await helper.setup()
    return helper


async def test_the_whole_workflow_through_the_response_cache(cached_desk):
    # Every reader's read goes through the in-process response cache: after each step of the
    # workflow, none may answer what the page was before it.
    await test_the_whole_workflow_with_the_readers_view_at_every_step(cached_desk)
    read = {"query": READ, "variables": {"path": "/world-news/"}}
    first = await cached_desk.client.post("/graphql", json=read)
    again = await cached_desk.client.post("/graphql", json=read)
    assert first.headers["x-cache"] in {"MISS", "HIT"} and again.headers["x-cache"] == "HIT"
    assert again.json() == first.json()
