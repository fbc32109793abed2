"""RSS 2.0 and Atom feeds over HTTP: each document parsed and held to its format's rules,
only what readers may see, one section's articles, 404s, and caching like the API."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from service import drafts, models, pages, publishing, purges, site, visibility
from service.clock import now

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
BODY = [{"type": "paragraph", "value": {"html": "<p>Words.</p>"}}]
TRICKY = 'Fish & chips < "crisps" > salad]]> \'at\' dawn'
BASE = "http://127.0.0.1:8001"


async def build():
    """Home > World (> Europe), Sport; public, draft, scheduled and expired articles, oldest first."""
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World", slug="world", description="Far and near")
    europe = await pages.create_section(parent=world, title="Europe", slug="europe")
    sport = await pages.create_section(parent=home, title="Sport", slug="sport")
    ria = await models.Author.create(name="Ria Reporter", slug="ria")
    ben = await models.Author.create(name="Ben Byline", slug="ben")
    start = now() - timedelta(days=10)
    site_pages = {"home": home, "world": world, "europe": europe, "sport": sport}
    specs = [
        ("harbour", world, {"authors": [ria, ben], "tags": ["harbour", "trade"], "summary": "Talks & more <b>news</b>"}),
        ("alps", europe, {"authors": [ben], "tags": ["alps"]}),
        ("derby", sport, {"headline": TRICKY}),
        ("draft", world, {"live": False}),
        ("scheduled", world, {}),
        ("expired", europe, {}),
    ]
    for n, (slug, section, extra) in enumerate(specs):
        site_pages[slug] = await pages.create_article(section=section, title=slug.title(), slug=slug, body=BODY,
                                                      published_at=start + timedelta(days=n), **extra)
    await publishing.schedule(site_pages["scheduled"], now() + timedelta(minutes=10), publishing.KEEP, "test")
    await models.Page.filter(id=site_pages["expired"].id).update(expire_at=now() - timedelta(days=1))
    await visibility.refresh(site_pages["expired"].id)
    return site_pages


def parse(response, media_type: str) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def rss_items(root: ET.Element) -> list[ET.Element]:
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required), required
    return channel.findall("item")


async def test_the_site_rss_feed_follows_rss_2(client):
    made = await build()
    root = parse(await client.get("/feeds/rss.xml"), "application/rss+xml")
    channel = root.find("channel")
    assert channel.findtext("title") == "Masthead" and channel.findtext("link") == f"{BASE}/"
    assert channel.findtext("language") == "en"
    self_link = channel.find(f"{ATOM}link")
    assert self_link.get("rel") == "self" and self_link.get("href") == f"{BASE}/feeds/rss.xml"
    items = rss_items(root)
    assert [item.findtext("link") for item in items] == [
        f"{BASE}{made[slug].url_path}" for slug in ("derby", "alps", "harbour")]  # newest first; only public ones
    guids = set()
    for item in items:
        assert item.findtext("title") and item.findtext("link").startswith(BASE)
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "false" and guid.text.startswith("tag:127.0.0.1,")
        guids.add(guid.text)
        published = parsedate_to_datetime(item.findtext("pubDate"))
        assert published.tzinfo is not None
    assert len(guids) == 3
    derby, alps, harbour = items
    assert derby.findtext("title") == TRICKY  # escaped on the way out, whole on the way in
    assert parsedate_to_datetime(harbour.findtext("pubDate")) == made["harbour"].published_at.replace(microsecond=0)
    assert harbour.findtext("description") == "Talks & more <b>news</b>"
    assert [c.text for c in harbour.findall(f"{DC}creator")] == ["Ria Reporter", "Ben Byline"]
    assert [c.text for c in harbour.findall("category")] == ["Harbour", "Trade"]
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == parsedate_to_datetime(derby.findtext("pubDate"))


async def test_the_site_atom_feed_follows_atom_1(client):
    made = await build()
    root = parse(await client.get("/feeds/atom.xml"), "application/atom+xml")
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == f"{BASE}/feeds/atom.xml" and root.findtext(f"{ATOM}title") == "Masthead"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"alternate": f"{BASE}/", "self": f"{BASE}/feeds/atom.xml"}
    assert root.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Masthead"  # covers unsigned entries
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link").get("href") for e in entries] == [
        f"{BASE}{made[slug].url_path}" for slug in ("derby", "alps", "harbour")]
    updated = [datetime.fromisoformat(e.findtext(f"{ATOM}updated")) for e in entries]
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == max(updated)
    for entry in entries:
        assert entry.findtext(f"{ATOM}id").startswith("tag:") and entry.findtext(f"{ATOM}title")
        assert entry.find(f"{ATOM}link").get("rel") == "alternate"
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}published")).tzinfo is not None
    derby, _, harbour = entries
    assert derby.findtext(f"{ATOM}title") == TRICKY
    assert [a.findtext(f"{ATOM}name") for a in harbour.findall(f"{ATOM}author")] == ["Ria Reporter", "Ben Byline"]
    assert [(c.get("term"), c.get("scheme")) for c in harbour.findall(f"{ATOM}category")] == [
        ("harbour", f"{BASE}/tags/"), ("trade", f"{BASE}/tags/")]
    assert harbour.findtext(f"{ATOM}summary") == "Talks & more <b>news</b>"
    # The same article keeps the same id in both formats.
    rss = parse(await client.get("/feeds/rss.xml"), "application/rss+xml")
    assert [i.findtext("guid") for i in rss_items(rss)] == [e.findtext(f"{ATOM}id") for e in entries]


async def test_a_section_feed_has_its_articles_and_its_sub_sections_only(client):
    made = await build()
    for name, links in (("rss", lambda root: [i.findtext("link") for i in rss_items(root)]),
                        ("atom", lambda root: [e.find(f"{ATOM}link").get("href") for e in root.findall(f"{ATOM}entry")])):
        media = "application/rss+xml" if name == "rss" else "application/atom+xml"
        world = parse(await client.get(f"/feeds/world/{name}.xml"), media)
        assert links(world) == [f"{BASE}{made['alps'].url_path}", f"{BASE}{made['harbour'].url_path}"]
        europe = parse(await client.get(f"/feeds/europe/{name}.xml"), media)
        assert links(europe) == [f"{BASE}{made['alps'].url_path}"]
        sport = parse(await client.get(f"/feeds/sport/{name}.xml"), media)
        assert links(sport) == [f"{BASE}{made['derby'].url_path}"]
    world = parse(await client.get("/feeds/world/rss.xml"), "application/rss+xml").find("channel")
    assert world.findtext("title") == "Masthead: World" and world.findtext("link") == f"{BASE}/world/"
    assert world.findtext("description") == "Far and near"
    assert world.find(f"{ATOM}link").get("href") == f"{BASE}/feeds/world/rss.xml"
    atom = parse(await client.get("/feeds/world/atom.xml"), "application/atom+xml")
    assert atom.findtext(f"{ATOM}id") == f"{BASE}/feeds/world/atom.xml"


async def test_an_unknown_or_hidden_section_is_a_plain_404(client):
    made = await build()
    draft_section, _ = await drafts.draft_section({"parent_id": made["home"].id, "title": "Hidden", "slug": "hidden"}, "t")
    await publishing.unpublish(made["sport"], "test")
    for path in ("/feeds/nowhere/rss.xml", "/feeds/nowhere/atom.xml", "/feeds/hidden/rss.xml", "/feeds/sport/atom.xml",
                 "/feeds/derby/rss.xml", "/feeds/home/rss.xml", "/feeds/world/europe/rss.xml"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/plain")
        assert response.headers["cache-control"] == "private, no-store"


async def test_a_feed_lists_the_newest_fifty(client):
    home = await pages.create_home(title="Home")
    desk = await pages.create_section(parent=home, title="Desk", slug="desk")
    start = now() - timedelta(days=60)
    for n in range(53):
        await pages.create_article(section=desk, title=f"Story {n}", slug=f"story-{n}", body=BODY,
                                   published_at=start + timedelta(hours=n))
    items = rss_items(parse(await client.get("/feeds/rss.xml"), "application/rss+xml"))
    assert [item.findtext("title") for item in items] == [f"Story {n}" for n in range(52, 2, -1)]


async def test_text_xml_cannot_carry_is_dropped_not_sent(client):
    home = await pages.create_home(title="Home")
    desk = await pages.create_section(parent=home, title="Desk", slug="desk")
    await pages.create_article(section=desk, title="Bell", slug="bell", body=BODY, headline="Bell\x07 rings\x1b twice",
                               summary="Tab\tand form\x0cfeed")
    item = rss_items(parse(await client.get("/feeds/rss.xml"), "application/rss+xml"))[0]
    assert item.findtext("title") == "Bell rings twice" and item.findtext("description") == "Tab\tand formfeed"


async def test_links_use_the_sites_base_url(client):
    made = await build()
    await site.update_site_settings({"base_url": "https://news.example.com", "name": "The Example", "locale": "fr-CA"})
    root = parse(await client.get("/feeds/europe/atom.xml"), "application/atom+xml")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-CA"
    assert root.findtext(f"{ATOM}title") == "The Example: Europe"
    entry = root.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href") == f"https://news.example.com{made['alps'].url_path}"
    assert entry.findtext(f"{ATOM}id").startswith("tag:news.example.com,")


async def test_feeds_are_cached_like_the_api(client):
    made = await build()
    first = await client.get("/feeds/world/rss.xml")
    control = first.headers["cache-control"]
    # The scheduled article goes live within ten minutes: no cache may keep the feed longer.
    max_age, shared = (int(v) for v in re.fullmatch(
        r"public, max-age=(\d+), s-maxage=(\d+), stale-while-revalidate=30, stale-if-error=86400", control).groups())
    assert 0 < max_age <= 30 and 500 < shared <= 600
    assert re.fullmatch(r'"[0-9a-f]{32}"', first.headers["etag"]) and first.headers["vary"] == "Accept-Encoding"
    keys = set(first.headers["surrogate-key"].split())
    authors = {f"author:{a.id}" for a in await models.Author.all()}
    assert keys == {f"articles:s:{made['world'].id}", "site"} | authors
    assert first.headers["cache-tag"] == ",".join(sorted(keys))
    again = await client.get("/feeds/world/rss.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    assert again.headers["surrogate-key"] == first.headers["surrogate-key"]
    other = await client.get("/feeds/world/rss.xml", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.content == first.content
    home = await client.get("/feeds/atom.xml")
    assert {"articles", "site"} <= set(home.headers["surrogate-key"].split())
    # What a change to an article in Europe purges reaches the World and site feeds' keys.
    purged = await purges.page_keys([made["alps"].id])
    assert f"articles:s:{made['world'].id}" in purged and "articles" in purged
    # With no schedule ahead, the full lifetimes.
    await publishing.delete(await models.Page.get(id=made["scheduled"].id), "test")
    assert (await client.get("/feeds/sport/rss.xml")).headers["cache-control"].startswith("public, max-age=30, s-maxage=3600,")


async def test_a_publish_purges_the_cached_feed(demo_site, make_client):
    cached = await make_client(response_cache_bytes=1 << 20)
    first = await cached.get("/feeds/rss.xml")
    assert first.headers["x-cache"] == "MISS"
    hit = await cached.get("/feeds/rss.xml?utm_source=reader")  # the query string does not make another document
    assert hit.headers["x-cache"] == "HIT" and hit.content == first.content and "age" in hit.headers
    not_modified = await cached.get("/feeds/rss.xml", headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.headers["x-cache"] == "HIT"
    assert (await cached.get("/feeds/rss.xml", headers={"Authorization": "Bearer x"})).headers["x-cache"] == "BYPASS"
    newest = (await models.Page.filter(kind=models.PageKind.ARTICLE).order_by("published_at").first())
    await drafts.update_page(newest, {"title": "Late & great", "headline": "Late & <great>",
                                      "published_at": now().isoformat()}, "test")
    await publishing.publish(await models.Page.get(id=newest.id), None, "test")
    fresh = await cached.get("/feeds/rss.xml")
    assert fresh.headers["x-cache"] == "MISS"
    assert rss_items(parse(fresh, "application/rss+xml"))[0].findtext("title") == "Late & <great>"
    section = await models.Page.get(id=newest.parent_id)
    assert (await cached.get(f"/feeds/{section.slug}/atom.xml")).headers["x-cache"] == "MISS"
    assert (await cached.get(f"/feeds/{section.slug}/atom.xml")).headers["x-cache"] == "HIT"
    await site.update_site_settings({"name": "Renamed Courier"})
    renamed = await cached.get(f"/feeds/{section.slug}/atom.xml")
    assert renamed.headers["x-cache"] == "MISS" and b"Renamed Courier" in renamed.content


async def test_head_answers_the_headers_alone(client):
    await build()
    response = await client.head("/feeds/rss.xml")
    assert response.status_code == 200 and response.content == b"" and response.headers["etag"]
