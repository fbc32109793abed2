"""An editor's desk over the API, for the example site's tests: articles, images, previews, comments.

Everything goes through GraphQL over HTTP with a publisher's bearer token (publishers
may edit and moderate too), against the ASGI app or a real server alike.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx

from examples.newsroom.manifest import build

CREATE = """mutation($input: CreateArticleInput!) {
  createArticle(input: $input) { article { id url } errors { field code message } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, input: $input) { article { id url } errors { field code message } } }"""
PUBLISH = """mutation($id: ID!) { publishPage(id: $id) { page { url } errors { field code message } } }"""
PREVIEW = """mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token urlPath } errors { field code message } } }"""
UPLOAD = """mutation($file: Upload!, $alt: String!, $credit: String!) {
  uploadImage(file: $file, alt: $alt, credit: $credit) { image { id } errors { field code message } } }"""
# A reader's comment goes out as the example site sends it: its registered documents, which an
# API that accepts only registered documents from anonymous clients runs.
FORM_TOKEN = build()["CommentForm"].document
ADD = build()["AddComment"].document
# A moderator sends the moderation tool's operations (schema/operations), registered like the site's.
OPERATIONS = Path(__file__).resolve().parent.parent / "schema" / "operations"
MODERATE = (OPERATIONS / "ModerateComment.graphql").read_text()
QUEUE = (OPERATIONS / "ModerationQueue.graphql").read_text()
PAGE_ID = "query($path: String!) { page(urlPath: $path) { id } }"
AUTHORS = "{ authors { id slug } }"


def jpeg(width: int = 1600, height: int = 900, shade: int = 0) -> bytes:
    """A small real photograph stand-in: a gradient, so renditions have something to resize."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((40 + shade % 200, 90, 140), (0, 0, width // 3, height // 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class Desk:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.auth = {"Authorization": f"Bearer {token}"}

    async def query(self, query: str, *, anonymous: bool = False, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables},
                                        headers={} if anonymous else self.auth)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    async def run(self, query: str, **variables: Any) -> dict[str, Any]:
        """A mutation whose payload must have no errors; returns the payload."""
        (payload,) = (await self.query(query, **variables)).values()
        assert payload["errors"] == [], payload["errors"]
        return payload

    async def page_id(self, path: str) -> str:
        return (await self.query(PAGE_ID, path=path))["page"]["id"]

    async def upload(self, alt: str, credit: str, shade: int = 0) -> str:
        operations = {"query": UPLOAD, "variables": {"file": None, "alt": alt, "credit": credit}}
        response = await self.http.post("/graphql", headers=self.auth, data={
            "operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": ("photo.jpg", jpeg(shade=shade), "image/jpeg")})
        payload = response.json()["data"]["uploadImage"]
        assert payload["errors"] == [], payload
        return payload["image"]["id"]

    async def draft(self, section: str, title: str, **fields: Any) -> str:
        """A new unpublished article in the section at this path; its global id."""
        payload = await self.run(CREATE, input={"sectionId": await self.page_id(section), "title": title, **fields})
        return payload["article"]["id"]

    async def publish(self, page_id: str) -> str:
        return (await self.run(PUBLISH, id=page_id))["page"]["url"]

    async def article(self, section: str, title: str, **fields: Any) -> tuple[str, str]:
        """A published article: (global id, URL path)."""
        page_id = await self.draft(section, title, **fields)
        return page_id, await self.publish(page_id)

    async def update(self, page_id: str, **fields: Any) -> None:
        await self.run(UPDATE, id=page_id, input=fields)

    async def preview(self, page_id: str) -> tuple[str, str]:
        token = (await self.run(PREVIEW, id=page_id))["token"]
        return token["token"], token["urlPath"]

    async def comment(self, article_id: str, body: str, *, name: str = "Desk reader", parent: str | None = None,
                      approve: bool = True) -> str:
        """A reader's comment, posted as the form would (with its form token), then approved."""
        token = (await self.query(FORM_TOKEN, anonymous=True, articleId=article_id))["commentFormToken"]
        posted = (await self.query(ADD, anonymous=True, input={
            "articleId": article_id, "authorName": name, "authorEmail": "reader@example.com", "body": body,
            "parentId": parent, "formToken": token}))["addComment"]
        assert posted["errors"] == [], posted
        if approve:
            await self.approve(posted["comment"]["id"])
        return posted["comment"]["id"]

    async def approve(self, comment_id: str) -> None:
        await self.run(MODERATE, id=comment_id, action="APPROVE")

    async def pending_id(self, body: str) -> str:
        """The id of the pending comment with this text (the moderation queue)."""
        edges = (await self.query(QUEUE))["commentQueue"]["edges"]
        return next(edge["node"]["id"] for edge in edges if edge["node"]["body"] == body)

    async def author_ids(self, *slugs: str) -> list[str]:
        authors = {a["slug"]: a["id"] for a in (await self.query(AUTHORS))["authors"]}
        return [authors[slug] for slug in slugs]


async def full_article(desk: Desk, title: str, word: str, related: list[str]) -> tuple[str, str]:
    """An article with every kind of block, two uploaded images, a thread with a reply; (id, URL path).

    `word` stands once in its second paragraph and nowhere else, for search.
    """
    hero = await desk.upload("A harbour crane against an evening sky", "Photo: Test Desk", shade=1)
    inline = await desk.upload("Delegates walking along the quay", "Photo: Test Wire", shade=2)
    page_id, url = await desk.article(
        "/world-news/", title,
        headline=f"The display headline of {title}",
        summary="A standfirst for the test article.",
        source="By Agencies",
        tags=["diplomacy", "shipping"],
        authorIds=await desk.author_ids("joel-carver"),
        relatedIds=related,
        heroImageId=hero,
        body=[
            {"paragraph": {"html": "<p>The first paragraph sets the scene on the quay.</p>"}},
            {"heading": {"text": "What was agreed", "level": 2}},
            {"paragraph": {"html": f"<p>Negotiators signed a {word} accord after a long night.</p>"}},
            {"quote": {"text": "We will keep talking.", "attribution": "A spokesperson"}},
            {"image": {"imageId": inline, "caption": "Delegates on the quay after the signing."}},
            {"embed": {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "title": "Watch: the signing"}},
        ],
    )
    first = await desk.comment(page_id, "A first reader's view of the accord.", name="Ada Reader")
    await desk.comment(page_id, "A reply to the first reader.", name="Ben Reply", parent=first)
    await desk.comment(page_id, "A second thread on the same story.", name="Cy Second")
    return page_id, url
