"""Menus through the API: pages' showInMenus and the navigation that lists menu pages only.

Everything goes over HTTP (GraphQL) on the demo site, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from service import auth, models
from service.models import Role

PAGE = "query P($path: String!) { page(urlPath: $path) { id title url showInMenus } }"


class Desk:
    """GraphQL over HTTP, anonymous or with a token of a role."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[Role, str] = {}

    async def setup(self) -> Desk:
        for role in Role:
            self.tokens[role], _ = await auth.create_token(name=f"menus-{role.value}", role=role)
        return self

    async def __call__(self, query: str, variables: dict | None = None, role: Role | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, role: Role | None = None) -> dict:
        body = await self(query, variables, role)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def page(self, path: str) -> dict:
        return (await self.data(PAGE, {"path": path}))["page"]


@pytest.fixture
async def desk(demo_site) -> Desk:
    return await Desk(demo_site).setup()


SECTIONS_IN_MENU = "{ all: sections { url showInMenus } menu: sections(inMenu: true) { url } }"
CHILDREN = """query($p: String!) { page(urlPath: $p) {
  showInMenus all: children { url } menu: children(inMenu: true) { url showInMenus } } }"""


async def test_show_in_menus_defaults_is_settable_and_filters_navigation(desk):
    data = await desk.data(SECTIONS_IN_MENU)
    assert all(section["showInMenus"] for section in data["all"]) and data["menu"] == [{"url": s["url"]} for s in data["all"]]
    article = await models.Page.filter(kind=models.PageKind.ARTICLE, live=True, parent__slug="politics").order_by("id").first()
    assert (await desk.page(article.url_path))["showInMenus"] is False
    politics = await desk.page("/politics/")
    # A section hidden from menus: still a section (and in `sections`), not in `sections(inMenu: true)`.
    update_section = """mutation($id: ID!, $input: UpdateSectionInput!) { updateSection(id: $id, input: $input) {
      section { showInMenus } errors { code } } }"""
    drafted = (await desk.data(update_section, {"id": politics["id"], "input": {"showInMenus": False}}, Role.EDITOR))["updateSection"]
    assert drafted == {"section": {"showInMenus": False}, "errors": []}  # the draft says so ...
    assert "/politics/" in [s["url"] for s in (await desk.data(SECTIONS_IN_MENU))["menu"]]  # ... readers see it once published
    publish = "mutation($id: ID!) { publishPage(id: $id) { page { showInMenus } errors { code } } }"
    assert (await desk.data(publish, {"id": politics["id"]}, Role.PUBLISHER))["publishPage"] == {
        "page": {"showInMenus": False}, "errors": []}
    data = await desk.data(SECTIONS_IN_MENU)
    assert "/politics/" in [s["url"] for s in data["all"]] and "/politics/" not in [s["url"] for s in data["menu"]]
    # An article flagged for menus joins its section's children(inMenu: true), once published.
    update_article = """mutation($id: ID!) { updateArticle(id: $id, input: {showInMenus: true}) { article { showInMenus } errors { code } } }"""
    page_id = (await desk.page(article.url_path))["id"]
    assert (await desk.data(update_article, {"id": page_id}, Role.EDITOR))["updateArticle"]["article"]["showInMenus"] is True
    assert (await desk.data(CHILDREN, {"p": "/politics/"}))["page"]["menu"] == []
    await desk.data(publish, {"id": page_id}, Role.PUBLISHER)
    section = (await desk.data(CHILDREN, {"p": "/politics/"}))["page"]
    assert section["showInMenus"] is False and section["all"] == []  # `children` lists sections, as before
    assert section["menu"] == [{"url": article.url_path, "showInMenus": True}]
    # New pages: sections shown by default, articles not, either settable when created.
    world = await desk.page("/world-news/")
    create_section = """mutation($input: CreateSectionInput!) { createSection(input: $input) { section { id showInMenus } } }"""
    shown = (await desk.data(create_section, {"input": {"parentId": world["id"], "title": "Asia"}}, Role.EDITOR))["createSection"]["section"]
    hidden = (await desk.data(create_section, {"input": {"parentId": world["id"], "title": "Archive", "showInMenus": False}},
                              Role.EDITOR))["createSection"]["section"]
    assert shown["showInMenus"] is True and hidden["showInMenus"] is False
    for new in (shown, hidden):
        await desk.data(publish, {"id": new["id"]}, Role.PUBLISHER)
    world_children = (await desk.data(CHILDREN, {"p": "/world-news/"}))["page"]
    assert [c["url"] for c in world_children["all"]] == ["/world-news/europe/", "/world-news/asia/", "/world-news/archive/"]
    assert [c["url"] for c in world_children["menu"]] == ["/world-news/europe/", "/world-news/asia/"]
    create_article = """mutation($s: ID!) { createArticle(input: {sectionId: $s, title: "Flagged", showInMenus: true}) {
      article { showInMenus } } }"""
    assert (await desk.data(create_article, {"s": world["id"]}, Role.EDITOR))["createArticle"]["article"]["showInMenus"] is True
