"""Menus through the API: pages' showInMenus, named menus editors keep, what readers get, and the cache.

Everything goes over HTTP (GraphQL) on the demo site, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from service import auth, demo_content, models
from service.models import Role

MENU = """
query Menu($name: String!) {
  menu(name: $name) { name items { label url pageId children { label url pageId children { label } } } }
}"""
SET = """
mutation Set($name: String!, $items: [MenuItemInput!]!) {
  setMenu(name: $name, items: $items) {
    menu { name items { label url pageId visible children { label url pageId visible } } }
    errors { field code message }
  }
}"""
DELETE = "mutation Delete($name: String!) { deleteMenu(name: $name) { name errors { field code message } } }"
MENUS = "{ menus { name items { label url pageId visible children { label url pageId visible } } } }"
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

    async def menu(self, name: str) -> dict | None:
        return (await self.data(MENU, {"name": name}))["menu"]

    async def set(self, name: str, items: list[dict], role: Role | None = Role.EDITOR) -> dict:
        return (await self.data(SET, {"name": name, "items": items}, role))["setMenu"]

    async def page(self, path: str) -> dict:
        return (await self.data(PAGE, {"path": path}))["page"]


@pytest.fixture
async def desk(demo_site) -> Desk:
    return await Desk(demo_site).setup()


def labels(items: list[dict]) -> list:
    return [(item["label"], [child["label"] for child in item["children"]]) for item in items]


async def test_the_demo_site_has_a_main_and_a_footer_menu(desk):
    main = await desk.menu("main")
    tops = [s for s in demo_content.SECTIONS if s["parent"] is None]
    assert [item["url"] for item in main["items"]] == [f"/{s['slug']}/" for s in tops]
    assert [item["label"] for item in main["items"]] == [s["title"] for s in tops]  # no label: the page's title
    world = main["items"][0]
    assert [child["url"] for child in world["children"]] == ["/world-news/europe/"]
    assert world["pageId"] == (await desk.page("/world-news/"))["id"]
    footer = await desk.menu("footer")
    assert footer["items"][0]["label"] == "The Courier" and footer["items"][0]["url"] == "/"
    links = [child["url"] for child in footer["items"][0]["children"]]
    assert links[0].startswith("mailto:") and all(child["pageId"] is None for child in footer["items"][0]["children"])
    assert footer["items"][-1] == {"label": "Aldwater tide tables", "url": "https://tides.aldwater.example.org/",
                                   "pageId": None, "children": []}


async def test_an_editor_sets_a_menu_and_readers_read_it_in_order(desk):
    world, europe = await desk.page("/world-news/"), await desk.page("/world-news/europe/")
    saved = await desk.set("header", [
        {"pageId": europe["id"], "label": "Europe desk"},
        {"url": "https://example.org/live", "label": "Live", "children": [
            {"pageId": world["id"]},
            {"url": "mailto:desk@example.org", "label": "Write to us"},
        ]},
    ])
    assert saved["errors"] == []
    expected = [
        {"label": "Europe desk", "url": "/world-news/europe/", "pageId": europe["id"], "children": []},
        {"label": "Live", "url": "https://example.org/live", "pageId": None, "children": [
            {"label": world["title"], "url": "/world-news/", "pageId": world["id"], "children": []},
            {"label": "Write to us", "url": "mailto:desk@example.org", "pageId": None, "children": []},
        ]},
    ]
    assert (await desk.menu("header")) == {"name": "header", "items": expected}
    assert all(item["visible"] for item in saved["menu"]["items"])
    # Setting it again replaces every item.
    again = await desk.set("header", [{"pageId": world["id"], "label": "World"}])
    assert again["errors"] == [] and labels((await desk.menu("header"))["items"]) == [("World", [])]
    assert [menu["name"] for menu in (await desk.data(MENUS, role=Role.EDITOR))["menus"]] == ["footer", "header", "main"]
    deleted = (await desk.data(DELETE, {"name": "header"}, Role.EDITOR))["deleteMenu"]
    assert deleted == {"name": "header", "errors": []} and await desk.menu("header") is None
    missing = (await desk.data(DELETE, {"name": "header"}, Role.EDITOR))["deleteMenu"]
    assert missing["errors"][0]["code"] == "NOT_FOUND" and missing["errors"][0]["field"] == "name"


async def test_a_page_item_follows_a_rename_and_a_move(desk):
    article = await models.Page.filter(kind=models.PageKind.ARTICLE, live=True).order_by("id").first()
    page = await desk.page(article.url_path)
    await desk.set("top", [{"pageId": page["id"]}, {"pageId": page["id"], "label": "Kept label"}])
    update = """mutation($id: ID!, $input: UpdateArticleInput!) { updateArticle(id: $id, input: $input) { errors { code } } }"""
    assert (await desk.data(update, {"id": page["id"], "input": {"title": "Renamed story", "slug": "renamed-story"}},
                            Role.EDITOR))["updateArticle"]["errors"] == []
    # A draft changes nothing readers see, the menu included.
    assert (await desk.menu("top"))["items"][0] == {"label": page["title"], "url": page["url"], "pageId": page["id"], "children": []}
    publish = "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }"
    assert (await desk.data(publish, {"id": page["id"]}, Role.PUBLISHER))["publishPage"]["errors"] == []
    section = page["url"].split("/")[1]
    items = (await desk.menu("top"))["items"]
    assert items[0]["label"] == "Renamed story" and items[0]["url"] == f"/{section}/renamed-story/"
    assert items[1]["label"] == "Kept label" and items[1]["url"] == f"/{section}/renamed-story/"
    move = "mutation($id: ID!, $to: ID!) { movePage(id: $id, parentId: $to) { errors { code } } }"
    culture = await desk.page("/culture/")
    assert (await desk.data(move, {"id": page["id"], "to": culture["id"]}, Role.PUBLISHER))["movePage"]["errors"] == []
    assert [item["url"] for item in (await desk.menu("top"))["items"]] == ["/culture/renamed-story/"] * 2


async def test_items_readers_may_not_see_are_left_out_with_their_children(desk):
    business, markets = await desk.page("/business/"), await desk.page("/business/markets/")
    draft = (await desk.data("""mutation($s: ID!) { createArticle(input: {sectionId: $s, title: "Not yet"}) { article { id } } }""",
                             {"s": business["id"]}, Role.EDITOR))["createArticle"]["article"]
    await desk.set("side", [
        {"pageId": draft["id"], "label": "Draft", "children": [{"url": "https://example.org/a", "label": "Under the draft"}]},
        {"pageId": business["id"], "children": [{"pageId": markets["id"]}, {"url": "https://example.org/b", "label": "B"}]},
        {"url": "https://example.org/c", "label": "C"},
    ])
    assert labels((await desk.menu("side"))["items"]) == [("Business", ["Markets", "B"]), ("C", [])]
    # Editors see every item, and which ones readers get.
    side = next(m for m in (await desk.data(MENUS, role=Role.EDITOR))["menus"] if m["name"] == "side")
    assert [(i["label"], i["visible"], [c["visible"] for c in i["children"]]) for i in side["items"]] == [
        ("Draft", False, [False]), ("Business", True, [True, True]), ("C", True, [])]
    # Unpublishing a section takes its item (and its sub-section's) out of readers' menu.
    unpublish = "mutation($id: ID!) { unpublishPage(id: $id) { errors { code } } }"
    assert (await desk.data(unpublish, {"id": markets["id"]}, Role.PUBLISHER))["unpublishPage"]["errors"] == []
    assert labels((await desk.menu("side"))["items"]) == [("Business", ["B"]), ("C", [])]
    assert (await desk.data(unpublish, {"id": business["id"]}, Role.PUBLISHER))["unpublishPage"]["errors"] == []
    assert labels((await desk.menu("side"))["items"]) == [("C", [])]
    publish = "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }"
    assert (await desk.data(publish, {"id": business["id"]}, Role.PUBLISHER))["publishPage"]["errors"] == []
    assert labels((await desk.menu("side"))["items"]) == [("Business", ["B"]), ("C", [])]  # Markets: still unpublished
    # A page scheduled for later appears when its window opens, not before.
    later = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    schedule = "mutation($id: ID!, $at: DateTime) { schedulePage(id: $id, goLiveAt: $at) { errors { code } } }"
    assert (await desk.data(schedule, {"id": draft["id"], "at": later}, Role.PUBLISHER))["schedulePage"]["errors"] == []
    assert labels((await desk.menu("side"))["items"]) == [("Business", ["B"]), ("C", [])]
    # A deleted page leaves its item without a target: readers never see it, editors do.
    delete = "mutation($id: ID!) { deletePage(id: $id) { errors { code } } }"
    assert (await desk.data(delete, {"id": draft["id"]}, Role.PUBLISHER))["deletePage"]["errors"] == []
    side = next(m for m in (await desk.data(MENUS, role=Role.EDITOR))["menus"] if m["name"] == "side")
    assert side["items"][0] == {"label": "Draft", "url": "", "pageId": None, "visible": False,
                                "children": [{"label": "Under the draft", "url": "https://example.org/a", "pageId": None, "visible": False}]}
    assert labels((await desk.menu("side"))["items"]) == [("Business", ["B"]), ("C", [])]


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.org/",
    "//example.org/", "/relative/", "http://", "https:///path", "mailto:", "mailto:nobody", "https://exa mple.org/",
])
async def test_external_links_are_http_https_or_mailto(desk, url):
    before = await desk.menu("footer")
    result = await desk.set("footer", [{"url": "https://example.org/", "label": "Fine"}, {"url": url, "label": "Bad"}])
    assert result["menu"] is None
    assert result["errors"] == [{"field": "items.1.url", "code": "INVALID_URL", "message": result["errors"][0]["message"]}]
    assert await desk.menu("footer") == before  # nothing stored


async def test_items_are_checked_and_nothing_is_stored_on_a_mistake(desk):
    world = await desk.page("/world-news/")
    before = await desk.menu("main")
    mistakes = [
        ("main", [{"url": "https://example.org/", "children": []}], "items.0.label", "REQUIRED"),
        ("main", [{"pageId": world["id"], "url": "https://example.org/", "label": "Both"}], "items.0", "INVALID"),
        ("main", [{"label": "Neither"}], "items.0", "INVALID"),
        ("main", [{"pageId": "bm90LWFuLWlk"}], "items.0.pageId", "NOT_FOUND"),
        ("main", [{"pageId": "U2VjdGlvblBhZ2U6OTk5OTk="}], "items.0.pageId", "NOT_FOUND"),  # SectionPage:99999
        ("main", [{"pageId": world["id"], "label": "x" * 256}], "items.0.label", "TOO_LONG"),
        ("Main Menu", [], "name", "INVALID"),
        ("main", [{"url": f"https://example.org/{n}", "label": "n"} for n in range(101)], "items", "INVALID"),
    ]
    for name, items, field, code in mistakes:
        result = await desk.set(name, items)
        assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)], (items, result)
    assert await desk.menu("main") == before


async def test_menus_nest_one_level(desk):
    world = await desk.page("/world-news/")
    before = await desk.menu("main")
    deep = [{"pageId": world["id"], "children": [
        {"url": "https://example.org/", "label": "Child", "children": [{"url": "https://example.org/g", "label": "Grandchild"}]},
    ]}]
    result = await desk.set("main", deep)
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("items.0.children.0.children", "INVALID")]
    assert "one level" in result["errors"][0]["message"]
    assert await desk.menu("main") == before


async def test_an_unknown_menu_is_null(desk):
    for name in ("sidebar", "Not a name!", "x" * 300, ""):
        assert await desk.menu(name) is None


async def test_only_editors_change_menus(desk):
    items = [{"url": "https://example.org/", "label": "Mine"}]
    anonymous = await desk.set("footer", items, role=None)
    assert anonymous["menu"] is None and [e["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    moderator = await desk.set("footer", items, role=Role.MODERATOR)
    assert [e["code"] for e in moderator["errors"]] == ["PERMISSION_DENIED"]
    deleting = (await desk.data(DELETE, {"name": "footer"}))["deleteMenu"]
    assert deleting["name"] is None and [e["code"] for e in deleting["errors"]] == ["UNAUTHENTICATED"]
    assert (await desk.menu("footer"))["items"][-1]["label"] == "Aldwater tide tables"  # untouched
    listing = await desk(MENUS)
    assert listing["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and listing["data"] is None
    assert (await desk(MENUS, role=Role.READER))["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_two_editors_setting_a_menu_at_once_leave_one_whole_menu(desk):
    first = [{"url": f"https://example.org/a{n}", "label": f"A{n}"} for n in range(20)]
    second = [{"url": f"https://example.org/b{n}", "label": f"B{n}", "children": [{"url": "https://example.org/c", "label": "C"}]}
              for n in range(20)]
    for _ in range(3):
        results = await asyncio.gather(desk.set("race", first), desk.set("race", second))
        assert all(result["errors"] == [] for result in results)
        read = labels((await desk.menu("race"))["items"])
        assert read in (labels(results[0]["menu"]["items"]), labels(results[1]["menu"]["items"]))


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


async def get(http, query: str, **variables):
    return await http.get("/graphql", params={"query": query, "variables": json.dumps(variables)}, headers={"Accept": "application/json"})


async def test_the_response_cache_is_purged_by_set_menu_and_by_a_page_rename(desk, make_client):
    cached = await make_client(response_cache_bytes=1 << 20)  # the suite's app runs without the response cache
    editor = {"Authorization": f"Bearer {desk.tokens[Role.EDITOR]}"}
    publisher = {"Authorization": f"Bearer {desk.tokens[Role.PUBLISHER]}"}
    first = await get(cached, MENU, name="main")
    world = first.json()["data"]["menu"]["items"][0]
    assert first.headers["x-cache"] == "MISS"
    keys = first.headers["surrogate-key"].split()
    pk = await models.Page.get(url_path="/world-news/").values_list("id", flat=True)
    assert "menu:main" in keys and f"p:{pk}" in keys
    assert (await get(cached, MENU, name="main")).headers["x-cache"] == "HIT"
    # setMenu purges menu:main once committed.
    changed = await cached.post("/graphql", headers=editor, json={"query": SET, "variables": {
        "name": "main", "items": [{"pageId": world["pageId"], "label": "The world"}]}})
    assert changed.headers["x-cache"] == "BYPASS" and changed.json()["data"]["setMenu"]["errors"] == []
    after = await get(cached, MENU, name="main")
    assert after.headers["x-cache"] == "MISS" and labels(after.json()["data"]["menu"]["items"]) == [("The world", [])]
    assert (await get(cached, MENU, name="main")).headers["x-cache"] == "HIT"
    # A rename of a page the menu shows purges it through p:<id>.
    update = "mutation($id: ID!) { updateSection(id: $id, input: {slug: \"international\"}) { errors { code } } }"
    assert (await cached.post("/graphql", headers=editor, json={"query": update, "variables": {"id": world["pageId"]}})).json()[
        "data"]["updateSection"]["errors"] == []
    assert (await get(cached, MENU, name="main")).headers["x-cache"] == "HIT"  # a draft changes nothing readers see
    publish = "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }"
    await cached.post("/graphql", headers=publisher, json={"query": publish, "variables": {"id": world["pageId"]}})
    renamed = await get(cached, MENU, name="main")
    assert renamed.headers["x-cache"] == "MISS" and renamed.json()["data"]["menu"]["items"][0]["url"] == "/international/"
    # An unknown menu's null is keyed by its name too: creating it purges it.
    assert (await get(cached, MENU, name="later")).json()["data"]["menu"] is None
    assert (await get(cached, MENU, name="later")).headers["x-cache"] == "HIT"
    await cached.post("/graphql", headers=editor, json={"query": SET, "variables": {
        "name": "later", "items": [{"url": "https://example.org/", "label": "Now"}]}})
    created = await get(cached, MENU, name="later")
    assert created.headers["x-cache"] == "MISS" and created.json()["data"]["menu"]["name"] == "later"
    await cached.post("/graphql", headers=editor, json={"query": DELETE, "variables": {"name": "later"}})
    gone = await get(cached, MENU, name="later")
    assert gone.headers["x-cache"] == "MISS" and gone.json()["data"]["menu"] is None
