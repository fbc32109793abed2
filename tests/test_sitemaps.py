"""Sitemaps and the Google News sitemap over HTTP: each document parsed and held to the
protocol's rules, every public page once, nothing else, months split past the URL limit,
the news window, and caching like the API (streamed months included)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from service import models, pages, publishing, site, visibility
from service.clock import now

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
BODY = [{"type": "paragraph", "value": {"html": "<p>Words.</p>"}}]
BASE = "http://127.0.0.1:8001"
UTC = timezone.utc


async def build():
    """Home > World (> Europe), Sport, a draft section; articles in March and April 2025 and recent ones."""
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World", slug="world")
    europe = await pages.create_section(parent=world, title="Europe", slug="europe")
    sport = await pages.create_section(parent=home, title="Sport", slug="sport")
    hidden = await pages.create_section(parent=home, title="Hidden", slug="hidden")
    await publishing.unpublish(hidden, "test")
    made = {"home": home, "world": world, "europe": europe, "sport": sport, "hidden": hidden}
    specs = [
        ("march-1", world, datetime(2025, 3, 1, 0, 0, tzinfo=UTC), {}),
        ("march-2", europe, datetime(2025, 3, 15, 12, 0, tzinfo=UTC), {}),
        ("march-3", sport, datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC), {}),
        ("april-1", sport, datetime(2025, 4, 1, 0, 0, tzinfo=UTC), {}),
        ("march-draft", world, datetime(2025, 3, 20, tzinfo=UTC), {"live": False}),
        ("june-draft", world, datetime(2025, 6, 20, tzinfo=UTC), {"live": False}),
        ("march-hidden", hidden, datetime(2025, 3, 21, tzinfo=UTC), {}),
        ("fresh", europe, now() - timedelta(hours=3), {"headline": "Cod & <chips> \"tonight\""}),
        ("yesterday", world, now() - timedelta(days=1), {}),
        ("three-days", sport, now() - timedelta(days=3), {}),
        ("scheduled", sport, now() - timedelta(hours=1), {}),
        ("expired", sport, now() - timedelta(hours=2), {}),
    ]
    for slug, section, published, extra in specs:
        made[slug] = await pages.create_article(section=section, title=slug.title(), slug=slug, body=BODY,
                                                published_at=published, **extra)
    await publishing.schedule(made["scheduled"], now() + timedelta(minutes=20), publishing.KEEP, "test")
    await models.Page.filter(id=made["expired"].id).update(expire_at=now() - timedelta(minutes=1))
    await visibility.refresh(made["expired"].id)
    return made


def parse(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def urls(root: ET.Element) -> dict[str, datetime | None]:
    """<loc> -> <lastmod> of a urlset, checking the protocol's rules on the way."""
    assert root.tag == f"{SM}urlset"
    found = {}
    for url in root.findall(f"{SM}url"):
        loc = url.findtext(f"{SM}loc")
        assert loc.startswith(f"{BASE}/") and loc not in found
        lastmod = url.findtext(f"{SM}lastmod")
        found[loc] = datetime.fromisoformat(lastmod) if lastmod else None
        assert found[loc] is None or found[loc].tzinfo is not None
    assert len(found) <= 50_000
    return found


def sitemaps(root: ET.Element) -> list[tuple[str, datetime]]:
    assert root.tag == f"{SM}sitemapindex"
    return [(s.findtext(f"{SM}loc"), datetime.fromisoformat(s.findtext(f"{SM}lastmod"))) for s in root.findall(f"{SM}sitemap")]


def url_of(page) -> str:
    return f"{BASE}{page.url_path}"


async def test_the_index_points_at_sections_and_each_month_with_public_articles(client):
    made = await build()
    listed = sitemaps(parse(await client.get("/sitemap.xml")))
    this_month = now().strftime("%Y-%m")
    months = sorted({"2025-03", "2025-04", this_month, (now() - timedelta(days=3)).strftime("%Y-%m"),
                     (now() - timedelta(days=1)).strftime("%Y-%m")})
    assert [loc for loc, _ in listed] == [f"{BASE}/sitemaps/sections.xml"] + [f"{BASE}/sitemaps/pages-{m}.xml" for m in months]
    assert dict(listed)[f"{BASE}/sitemaps/pages-2025-04.xml"] == made["april-1"].last_published_at.replace(microsecond=0)
    # Every public page is in exactly one of them; nothing else is.
    everything: dict[str, datetime | None] = {}
    for loc, _ in listed:
        found = urls(parse(await client.get(loc.removeprefix(BASE))))
        assert not set(found) & set(everything)
        everything.update(found)
    public = ["home", "world", "europe", "sport", "march-1", "march-2", "march-3", "april-1", "fresh", "yesterday",
              "three-days"]
    assert set(everything) == {url_of(made[name]) for name in public}


async def test_a_month_lists_its_articles_oldest_first_with_lastmod(client):
    made = await build()
    march = urls(parse(await client.get("/sitemaps/pages-2025-03.xml")))
    assert list(march) == [url_of(made[n]) for n in ("march-1", "march-2", "march-3")]
    assert march[url_of(made["march-2"])] == made["march-2"].last_published_at.replace(microsecond=0)
    assert list(urls(parse(await client.get("/sitemaps/pages-2025-04.xml")))) == [url_of(made["april-1"])]


async def test_missing_and_malformed_sitemaps_are_a_plain_404(client):
    await build()
    for path in ("/sitemaps/pages-2025-06.xml", "/sitemaps/pages-2025-05.xml", "/sitemaps/pages-2025-13.xml",
                 "/sitemaps/pages-2025-00.xml", "/sitemaps/pages-2025-03-1.xml", "/sitemaps/pages-2025-03-2.xml",
                 "/sitemaps/pages-0000-01.xml", "/sitemaps/pages-9999-12.xml", "/sitemaps/pages-2025-3.xml",
                 "/sitemaps/other.xml", "/sitemaps/a/b.xml", "/sitemaps/pages-2025-03.xml.gz"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["cache-control"] == "private, no-store"


async def test_a_month_past_the_url_limit_is_split_in_parts(client, make_client):
    made = await build()
    for n in range(4):
        made[f"more-{n}"] = await pages.create_article(
            section=made["world"], title=f"More {n}", slug=f"more-{n}", body=BODY,
            published_at=datetime(2025, 3, 15, 12, 0, tzinfo=UTC))  # the same instant as march-2: ids order them
    small = await make_client(sitemap_max_urls=2)
    listed = [loc for loc, _ in sitemaps(parse(await small.get("/sitemap.xml")))]
    march = [loc for loc in listed if "2025-03" in loc]
    assert march == [f"{BASE}/sitemaps/pages-2025-03.xml", f"{BASE}/sitemaps/pages-2025-03-2.xml",
                     f"{BASE}/sitemaps/pages-2025-03-3.xml", f"{BASE}/sitemaps/pages-2025-03-4.xml"]
    parts = [list(urls(parse(await small.get(loc.removeprefix(BASE))))) for loc in march]
    assert [len(part) for part in parts] == [2, 2, 2, 1]
    expected = ["march-1", "march-2", "more-0", "more-1", "more-2", "more-3", "march-3"]
    assert [loc for part in parts for loc in part] == [url_of(made[n]) for n in expected]
    assert (await small.get("/sitemaps/pages-2025-03-5.xml")).status_code == 404


async def test_sections_sitemap_has_the_home_page_and_public_sections(client):
    made = await build()
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    await models.Page.filter(kind__in=["home", "section"]).update(last_published_at=long_ago)
    found = urls(parse(await client.get("/sitemaps/sections.xml")))
    assert list(found) == [url_of(made[n]) for n in ("home", "world", "sport", "europe")]
    # A listing changes when an article appears in it, or in a section below it.
    newest = {name: made[article].published_at.replace(microsecond=0)
              for name, article in (("home", "fresh"), ("world", "fresh"), ("europe", "fresh"), ("sport", "three-days"))}
    assert found == {url_of(made[name]): moment for name, moment in newest.items()}
    await models.Page.filter(id=made["sport"].id).update(last_published_at=now() + timedelta(days=1))
    assert urls(parse(await client.get("/sitemaps/sections.xml")))[url_of(made["sport"])] > newest["sport"]


async def test_news_sitemap_has_the_last_two_days_only(client):
    made = await build()
    await site.update_site_settings({"name": "The Courier & Post", "locale": "pt-BR"})
    made["post-dated"] = await pages.create_article(section=made["sport"], title="Later", slug="later", body=BODY,
                                                    published_at=now() + timedelta(minutes=15))
    response = await client.get("/sitemaps/news.xml")
    root = parse(response)
    entries = root.findall(f"{SM}url")
    assert [e.findtext(f"{SM}loc") for e in entries] == [url_of(made["fresh"]), url_of(made["yesterday"])]
    for entry, name in zip(entries, ("fresh", "yesterday")):
        news = entry.find(f"{NEWS}news")
        publication = news.find(f"{NEWS}publication")
        assert publication.findtext(f"{NEWS}name") == "The Courier & Post"
        assert publication.findtext(f"{NEWS}language") == "pt"
        published = datetime.fromisoformat(news.findtext(f"{NEWS}publication_date"))
        assert published == made[name].published_at.replace(microsecond=0)
    assert entries[0].find(f"{NEWS}news").findtext(f"{NEWS}title") == 'Cod & <chips> "tonight"'
    assert set(response.headers["surrogate-key"].split()) == {"articles", "sitemap", "site"}
    # The list changes by itself when the post-dated article's time comes (and when "yesterday"
    # leaves the two days): no cache keeps it past that.
    shared = int(re.search(r"s-maxage=(\d+)", response.headers["cache-control"])[1])
    assert 14 * 60 < shared <= 15 * 60
    await publishing.delete(made["post-dated"], "test")
    await publishing.delete(await models.Page.get(id=made["scheduled"].id), "test")
    assert "s-maxage=3600," in (await client.get("/sitemaps/news.xml")).headers["cache-control"]
    await pages.create_article(section=made["sport"], title="Leaving", slug="leaving", body=BODY,
                               published_at=now() - timedelta(days=2) + timedelta(minutes=10))
    response = await client.get("/sitemaps/news.xml")
    assert b"/sport/leaving/" in response.content
    assert 9 * 60 < int(re.search(r"s-maxage=(\d+)", response.headers["cache-control"])[1]) <= 10 * 60


async def test_news_language_codes(client):
    await build()
    for locale, code in (("en-GB", "en"), ("zh-Hant-TW", "zh-tw"), ("zh-HK", "zh-tw"), ("zh-CN", "zh-cn"),
                         ("zh", "zh-cn"), ("fr", "fr")):
        await site.update_site_settings({"locale": locale})
        root = parse(await client.get("/sitemaps/news.xml"))
        assert root.find(f"{SM}url/{NEWS}news/{NEWS}publication/{NEWS}language").text == code, locale


async def test_sitemaps_are_cached_like_the_api_and_streamed_months_revalidate(client):
    made = await build()
    for path in ("/sitemap.xml", "/sitemaps/sections.xml", "/sitemaps/pages-2025-03.xml"):
        first = await client.get(path)
        assert first.headers["cache-control"].startswith("public, max-age=") and first.headers["vary"] == "Accept-Encoding"
        assert int(re.search(r"s-maxage=(\d+)", first.headers["cache-control"])[1]) <= 20 * 60  # the schedule ahead
        assert set(first.headers["surrogate-key"].split()) == {"sitemap", "site"}
        assert re.fullmatch(r'"[0-9a-f]{32}"', first.headers["etag"])
        again = await client.get(path, headers={"If-None-Match": f'W/{first.headers["etag"]}'})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
        assert (await client.get(path)).content == first.content
    march = await client.get("/sitemaps/pages-2025-03.xml")
    # A publish changes the content version: the streamed month's validator moves with it.
    await publishing.publish(await models.Page.get(id=made["march-draft"].id), None, "test")
    moved = await client.get("/sitemaps/pages-2025-03.xml", headers={"If-None-Match": march.headers["etag"]})
    assert moved.status_code == 200 and moved.headers["etag"] != march.headers["etag"]
    assert url_of(made["march-draft"]) in urls(parse(moved))
    # Another base URL is another document.
    await site.update_site_settings({"base_url": "https://news.example.com"})
    rebased = await client.get("/sitemaps/pages-2025-03.xml", headers={"If-None-Match": moved.headers["etag"]})
    assert rebased.status_code == 200 and b"https://news.example.com/world/march-1/" in rebased.content
    head = await client.head("/sitemaps/pages-2025-03.xml")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == rebased.headers["etag"]


async def test_a_publish_purges_the_cached_sitemaps(demo_site, make_client):
    cached = await make_client(response_cache_bytes=1 << 20)
    index = await cached.get("/sitemap.xml")
    months = [loc for loc, _ in sitemaps(parse(index)) if "/pages-" in loc]
    month = months[-1].split("/sitemaps/", 1)[1]
    for path in ("/sitemap.xml", f"/sitemaps/{month}", "/sitemaps/news.xml", "/sitemaps/sections.xml"):
        assert (await cached.get(path)).headers["x-cache"] in ("MISS", "HIT")
        assert (await cached.get(path)).headers["x-cache"] == "HIT", path
    article = await models.Page.filter(kind=models.PageKind.ARTICLE).order_by("-published_at").first()
    await publishing.unpublish(article, "test")
    for path in ("/sitemap.xml", f"/sitemaps/{month}", "/sitemaps/news.xml", "/sitemaps/sections.xml"):
        fresh = await cached.get(path)
        assert fresh.headers["x-cache"] == "MISS", path
    assert url_of(article) not in urls(parse(await cached.get(f"/sitemaps/{month}")))
