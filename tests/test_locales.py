"""Locales and translations (issue 13): a tree per locale, createTranslation, per-locale reads and search,
independent publishing, what moves and deletes do to translations, and the site's locale list."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from service import auth, ids, models, pages, purges, site
from service.models import Role

TRANSLATE = """mutation($id: ID!, $locale: String!) { createTranslation(pageId: $id, locale: $locale) {
  page { id url locale translationKey title } status { live hasUnpublishedChanges } revision { number }
  errors { field code message } } }"""
PUBLISH = "mutation($id: ID!) { publishPage(id: $id) { errors { code message } } }"
SCHEDULE = "mutation($id: ID!, $go: DateTime) { schedulePage(id: $id, goLiveAt: $go) { errors { code } } }"
MOVE = "mutation($id: ID!, $p: ID!) { movePage(id: $id, parentId: $p) { page { url } errors { code message } } }"
DELETE = "mutation($id: ID!) { deletePage(id: $id) { deletedIds errors { code } } }"
PREVIEW = "mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token urlPath } errors { code } } }"
SETTINGS = """mutation($input: SiteSettingsInput!) { updateSiteSettings(input: $input) {
  site { locale locales { code name isDefault homeUrl } } errors { field code message } } }"""
PAGE = """query($p: String!) { page(urlPath: $p) { id title url locale translationKey
  translations { locale url title } } }"""


async def _as(client, role: Role = Role.PUBLISHER):
    raw, _ = await auth.create_token(name=f"t-{role.value}", role=role)
    headers = {"Authorization": f"Bearer {raw}"}

    async def run(query: str, **variables) -> dict:
        body = (await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
        assert "errors" not in body, body
        return next(iter(body["data"].values()))

    return run


async def _site(locales=("fr",)):
    await site.update_site_settings({"name": "Courier", "locales": list(locales)})
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World", slug="world")
    story = await pages.create_article(section=world, title="Harbour reopens", slug="harbour-reopens",
                                       summary="The harbour reopened after the storms.",
                                       body=[{"type": "paragraph", "value": {"html": "<p>Ships sail again.</p>"}}])
    return home, world, story


def gid(page) -> str:
    return ids.global_id(page)


async def test_translations_are_drafts_in_the_locale_tree_until_published(client, gql):
    home, world, story = await _site()
    run = await _as(client)
    # The parent first: the error names it.
    refused = await run(TRANSLATE, id=gid(story), locale="fr")
    assert refused["errors"][0]["code"] == "PARENT_NOT_TRANSLATED" and "World (/world/)" in refused["errors"][0]["message"]
    fr_home = await run(TRANSLATE, id=gid(home), locale="fr")
    assert fr_home["page"]["url"] == "/fr/" and fr_home["status"]["live"] is True  # home pages are always live
    assert fr_home["page"]["translationKey"] == home.translation_key
    fr_world = await run(TRANSLATE, id=gid(world), locale="fr")
    assert fr_world["errors"] == [] and fr_world["page"]["url"] == "/fr/world/" and fr_world["status"]["live"] is False
    fr_story = await run(TRANSLATE, id=gid(story), locale="fr")
    assert fr_story["page"]["url"] == "/fr/world/harbour-reopens/" and fr_story["revision"]["number"] == 1
    assert fr_story["page"]["locale"] == "fr" and fr_story["page"]["translationKey"] == story.translation_key
    again = await run(TRANSLATE, id=gid(story), locale="fr")
    assert again["errors"][0]["code"] == "ALREADY_TRANSLATED"
    assert (await run(TRANSLATE, id=gid(story), locale="de"))["errors"][0]["code"] == "INVALID_LOCALE"
    assert (await run(TRANSLATE, id=gid(story), locale="en"))["errors"][0]["code"] == "INVALID_LOCALE"
    assert (await run(TRANSLATE, id=gid(story), locale="not a tag!"))["errors"][0]["code"] == "INVALID"
    editor = await _as(client, Role.READER)
    assert (await editor(TRANSLATE, id=gid(story), locale="fr"))["errors"][0]["code"] == "PERMISSION_DENIED"

    # Readers see no draft: neither at its path nor among the original's translations.
    assert (await gql(PAGE, {"p": "/fr/world/harbour-reopens/"}))["page"] is None
    original = (await gql(PAGE, {"p": "/world/harbour-reopens/"}))["page"]
    assert original["locale"] == "en" and original["translations"] == []
    assert (await gql(PAGE, {"p": "/"}))["page"]["translations"] == [{"locale": "fr", "url": "/fr/", "title": "Home"}]

    # Published independently: the section, then the article.
    assert (await run(PUBLISH, id=fr_world["page"]["id"]))["errors"] == []
    assert (await run(PUBLISH, id=fr_story["page"]["id"]))["errors"] == []
    french = (await gql(PAGE, {"p": "/fr/world/harbour-reopens/"}))["page"]
    assert french["locale"] == "fr"
    assert french["translations"] == [{"locale": "en", "url": "/world/harbour-reopens/", "title": "Harbour reopens"}]
    assert (await gql(PAGE, {"p": "/world/harbour-reopens/"}))["page"]["translations"] == [
        {"locale": "fr", "url": "/fr/world/harbour-reopens/", "title": "Harbour reopens"}]


async def test_lists_and_sections_default_to_the_default_locale(client, gql):
    home, world, story = await _site()
    run = await _as(client)
    await run(TRANSLATE, id=gid(home), locale="fr")
    fr_world = (await run(TRANSLATE, id=gid(world), locale="fr"))["page"]["id"]
    fr_story = (await run(TRANSLATE, id=gid(story), locale="fr"))["page"]["id"]
    await run(PUBLISH, id=fr_world)
    await run(PUBLISH, id=fr_story)
    lists = """query($l: String) { sections(locale: $l) { url locale }
      articles(locale: $l) { totalCount nodes { url locale } } }"""
    assert await gql(lists) == {"sections": [{"url": "/world/", "locale": "en"}],
                                "articles": {"totalCount": 1, "nodes": [{"url": "/world/harbour-reopens/", "locale": "en"}]}}
    assert await gql(lists, {"l": "FR"}) == {
        "sections": [{"url": "/fr/world/", "locale": "fr"}],
        "articles": {"totalCount": 1, "nodes": [{"url": "/fr/world/harbour-reopens/", "locale": "fr"}]}}
    assert (await gql(lists, {"l": "x y"}, errors=True))["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # A section slug is unique per locale: the French World shares the English one's.
    by_section = '{ articles(section: "world") { totalCount } }'
    assert (await gql(by_section))["articles"]["totalCount"] == 1


async def test_search_stems_per_language_and_ignores_diacritics(client, gql, backend):
    await site.update_site_settings({"locales": ["fr"]})
    home = await pages.create_home(title="Home")
    fr_home = await pages.create_home(title="Accueil", locale="fr", url_path="/fr/")
    world = await pages.create_section(parent=home, title="World", slug="world")
    monde = await pages.create_section(parent=fr_home, title="Monde", slug="monde")
    await pages.create_article(section=world, title="Running the marathons", slug="marathons",
                               body=[{"type": "paragraph", "value": {"html": "<p>The runners were running.</p>"}}])
    await pages.create_article(section=monde, title="Les élections régionales", slug="elections",
                               body=[{"type": "paragraph", "value": {"html": "<p>Les électeurs ont voté.</p>"}}])
    search = "query($q: String!, $l: String) { articles(search: $q, locale: $l) { nodes { url } } }"
    assert (await gql(search, {"q": "marathon"}))["articles"]["nodes"] == [{"url": "/world/marathons/"}]
    assert (await gql(search, {"q": "elections"}))["articles"]["nodes"] == []  # the default locale only
    assert (await gql(search, {"q": "électeurs", "l": "fr"}))["articles"]["nodes"] == [{"url": "/fr/monde/elections/"}]
    if backend == "sqlite":  # diacritic folding (remove_diacritics): without accents too
        assert (await gql(search, {"q": "elections regionales", "l": "fr"}))["articles"]["nodes"] == [
            {"url": "/fr/monde/elections/"}]
    else:  # french stemming: "régionale" and "régionales", "élection" and "élections" share their stems
        assert (await gql(search, {"q": "régionale élection", "l": "fr"}))["articles"]["nodes"] == [
            {"url": "/fr/monde/elections/"}]


async def test_translations_schedule_and_preview_independently(client, gql):
    home, world, story = await _site()
    run = await _as(client)
    await run(TRANSLATE, id=gid(home), locale="fr")
    await run(PUBLISH, id=(await run(TRANSLATE, id=gid(world), locale="fr"))["page"]["id"])
    fr_story = (await run(TRANSLATE, id=gid(story), locale="fr"))["page"]["id"]
    token = (await run(PREVIEW, id=fr_story))["token"]
    preview = await gql('query($p: String!, $t: String) { page(urlPath: $p, previewToken: $t) { url locale } }',
                        {"p": token["urlPath"], "t": token["token"]})
    assert preview["page"] == {"url": "/fr/world/harbour-reopens/", "locale": "fr"}
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert (await run(SCHEDULE, id=fr_story, go=tomorrow))["errors"] == []
    assert (await gql(PAGE, {"p": "/fr/world/harbour-reopens/"}))["page"] is None  # scheduled: not yet
    assert (await gql(PAGE, {"p": "/world/harbour-reopens/"}))["page"]["translations"] == []
    # The original stays as it was: live, unscheduled.
    row = await models.Page.get(id=story.id)
    assert row.live and row.go_live_at is None


async def test_moving_and_deleting_leave_translations_where_they_are(client, gql):
    home, world, story = await _site()
    business = await pages.create_section(parent=home, title="Business", slug="business")
    run = await _as(client)
    await run(TRANSLATE, id=gid(home), locale="fr")
    fr_world = (await run(TRANSLATE, id=gid(world), locale="fr"))["page"]["id"]
    await run(PUBLISH, id=fr_world)
    fr_story = (await run(TRANSLATE, id=gid(story), locale="fr"))["page"]["id"]
    await run(PUBLISH, id=fr_story)
    moved = await run(MOVE, id=gid(story), p=gid(business))
    assert moved["page"]["url"] == "/business/harbour-reopens/"
    french = (await gql(PAGE, {"p": "/fr/world/harbour-reopens/"}))["page"]
    assert french["translations"] == [{"locale": "en", "url": "/business/harbour-reopens/", "title": "Harbour reopens"}]
    # Never into another locale's tree.
    across = await run(MOVE, id=gid(story), p=fr_world)
    assert across["errors"][0]["code"] == "INVALID_PARENT"
    # Deleting the original leaves the translation, with its key.
    deleted = await run(DELETE, id=gid(story))
    assert deleted["errors"] == [] and len(deleted["deletedIds"]) == 1
    french = (await gql(PAGE, {"p": "/fr/world/harbour-reopens/"}))["page"]
    assert french["translations"] == [] and french["translationKey"] == story.translation_key


async def test_admins_edit_the_locales_and_cannot_remove_one_in_use(client, gql):
    home, world, story = await _site(locales=())
    admin = await _as(client, Role.ADMIN)
    changed = await admin(SETTINGS, input={"locales": ["fr", "pt-br", "fr"]})
    assert changed["site"]["locales"] == [
        {"code": "en", "name": "English", "isDefault": True, "homeUrl": "/"},
        {"code": "fr", "name": "Français", "isDefault": False, "homeUrl": "/fr/"},
        {"code": "pt-BR", "name": "Português (Brasil)", "isDefault": False, "homeUrl": "/pt-br/"},
    ]
    assert (await admin(SETTINGS, input={"locales": ["nope!"]}))["errors"][0]["code"] == "INVALID"
    publisher = await _as(client)
    await publisher(TRANSLATE, id=gid(home), locale="fr")
    refused = await admin(SETTINGS, input={"locales": ["pt-BR"]})
    assert refused["errors"][0]["code"] == "LOCALE_IN_USE" and "fr" in refused["errors"][0]["message"]
    assert (await admin(SETTINGS, input={"locale": "fr"}))["errors"][0]["code"] == "LOCALE_IN_USE"
    assert (await admin(SETTINGS, input={"locales": ["fr"]}))["errors"] == []
    # A new default locale takes over the tree at /: its pages change locale.
    assert (await admin(SETTINGS, input={"locale": "en-GB"}))["site"]["locale"] == "en-GB"
    assert (await gql(PAGE, {"p": "/world/"}))["page"]["locale"] == "en-GB"
    data = await gql('{ site { locales { code homeUrl } } articles { totalCount } }')
    assert data["site"]["locales"] == [{"code": "en-GB", "homeUrl": "/"}, {"code": "fr", "homeUrl": "/fr/"}]
    assert data["articles"]["totalCount"] == 1


async def test_a_published_translation_purges_the_pages_listing_it(client, gql):
    home, world, story = await _site()
    response = await client.get("/graphql", params={"query": PAGE, "variables": json.dumps({"p": "/world/harbour-reopens/"})},
                                headers={"Accept": "application/json"})
    assert f"tr:{story.translation_key}" in response.headers["Surrogate-Key"].split()
    run = await _as(client)
    await run(TRANSLATE, id=gid(home), locale="fr")
    await run(TRANSLATE, id=gid(world), locale="fr")
    fr_world = await models.Page.get(translation_key=world.translation_key, locale="fr")
    assert f"tr:{world.translation_key}" in await purges.page_keys([fr_world.id])


async def test_the_demo_has_a_french_edition(demo_site, gql):
    data = await gql("""{ site { locales { code homeUrl } } fr: page(urlPath: "/fr/") { title locale translations { url } }
      sections(locale: "fr") { url translations { url } } articles(locale: "fr") { totalCount nodes { translations { url } } } }""")
    assert data["site"]["locales"] == [{"code": "en", "homeUrl": "/"}, {"code": "fr", "homeUrl": "/fr/"}]
    assert data["fr"] == {"title": "Accueil", "locale": "fr", "translations": [{"url": "/"}]}
    assert [s["url"] for s in data["sections"]] == ["/fr/monde/", "/fr/sciences/"]
    assert [s["translations"] for s in data["sections"]] == [[{"url": "/world-news/"}], [{"url": "/science/"}]]
    assert data["articles"]["totalCount"] == 3
    assert all(len(node["translations"]) == 1 for node in data["articles"]["nodes"])


async def test_the_sections_sitemap_links_translations_with_hreflang(demo_site):
    from xml.etree import ElementTree

    response = await demo_site.get("/sitemaps/sections.xml")
    root = ElementTree.fromstring(response.content)
    sm, xhtml = "{http://www.sitemaps.org/schemas/sitemap/0.9}", "{http://www.w3.org/1999/xhtml}"
    links = {url.find(f"{sm}loc").text.split("/", 3)[3]: sorted((link.get("hreflang"), link.get("href").split("/", 3)[3])
                                                                for link in url.findall(f"{xhtml}link"))
             for url in root.findall(f"{sm}url")}
    assert links["fr/monde/"] == [("en", "world-news/"), ("fr", "fr/monde/")]
    assert links["world-news/"] == links["fr/monde/"] and links[""] == [("en", ""), ("fr", "fr/")]
    assert links["politics/"] == []  # not translated
