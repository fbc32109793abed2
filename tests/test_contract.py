"""Every contract operation, exactly as the frontend teams send it, against the demo site."""

from __future__ import annotations

from service import demo_content as demo

SUMMIT = next(a for a in demo.ARTICLES if a["slug"] == "valdessa-korvany-leaders-meet-portaven-summit")
SUMMIT_PATH = f"/world-news/{SUMMIT['slug']}/"


def newest(articles, n):
    return sorted(articles, key=lambda a: a["published_at"], reverse=True)[:n]


def approved_comments(article_slug: str) -> list[dict]:
    return [c for c in demo.COMMENTS if c["article"] == article_slug and c["status"] == "approved"]


async def test_home_page(demo_site, gql, contract):
    data = await gql(contract["HomePage"])
    assert data["site"]["name"] == demo.SITE["name"]
    assert data["site"]["socialLinks"] == [{"network": s["network"], "url": s["url"]} for s in demo.SITE["social_links"]]
    top = [s for s in demo.SECTIONS if s["parent"] is None]
    assert [s["title"] for s in data["sections"]] == [s["title"] for s in top]
    world = next(s for s in data["sections"] if s["url"] == "/world-news/")
    assert world["children"] == [
        {"title": s["title"], "url": f"/world-news/{s['slug']}/"} for s in demo.SECTIONS if s["parent"] == "world-news"
    ]
    articles = data["articles"]
    assert articles["totalCount"] == len(demo.ARTICLES)
    expected = newest(demo.ARTICLES, 10)
    assert [e["node"]["title"] for e in articles["edges"]] == [a["title"] for a in expected]
    first = articles["edges"][0]["node"]
    assert first["summary"] == expected[0]["summary"]
    assert first["section"]["url"].strip("/").split("/")[-1] == expected[0]["section"]



async def test_article_page_renders_the_whole_page(demo_site, gql, contract):
    data = await gql(contract["ArticlePage"], {"urlPath": SUMMIT_PATH})
    page = data["page"]
    assert page["__typename"] == "ArticlePage"
    assert page["title"] == SUMMIT["title"]
    assert page["headline"] == SUMMIT["headline"] != SUMMIT["title"]
    assert page["url"] == SUMMIT_PATH
    assert page["source"] == "By Agencies"
    assert page["publishedAt"].startswith(SUMMIT["published_at"][:16])
    assert [a["url"] for a in page["ancestors"]] == ["/", "/world-news/"]
    assert page["section"]["url"] == "/world-news/"
    assert [t["slug"] for t in page["tags"]] == SUMMIT["tags"]
    assert [a["slug"] for a in page["authors"]] == SUMMIT["authors"]
    assert page["readingTime"] >= 1
    # Body: one block per stored block, same order and types, with stable ids.
    assert [b["blockType"] for b in page["body"]] == [b["type"] for b in SUMMIT["body"]]
    assert all(b["id"] for b in page["body"])
    paragraphs = [b for b in page["body"] if b["__typename"] == "ParagraphBlock"]
    assert paragraphs[0]["html"].startswith("<p>") and "Portaven" in paragraphs[0]["html"]
    images = [b for b in page["body"] if b["__typename"] == "ImageBlock"]
    for block in images:
        assert block["image"]["url"].startswith("/media/") and block["image"]["width"] > 0
    # Comments: approved only, replies under their parent, email never there.
    approved = approved_comments(SUMMIT["slug"])
    top = [c for c in approved if c["parent"] is None]
    assert page["commentCount"] == len(approved)
    assert page["comments"]["totalCount"] == len(top)
    assert [e["node"]["authorName"] for e in page["comments"]["edges"]] == [
        c["author_name"] for c in sorted(top, key=lambda c: c["minutes_after"])
    ]
    replies = {e["node"]["authorName"]: [r["authorName"] for r in e["node"]["replies"]] for e in page["comments"]["edges"]}
    by_key = {c["key"]: c for c in approved}
    for comment in approved:
        parent = by_key.get(comment["parent"])
        if parent and parent["parent"] is None:
            assert comment["author_name"] in replies[parent["author_name"]]
    assert "@" not in str(page["comments"])
    # Related: editor's picks first, never itself, no duplicates, all live.
    related_urls = [r["url"] for r in page["related"]]
    assert len(related_urls) == 4 == len(set(related_urls))
    assert SUMMIT_PATH not in related_urls
    picks = [f"/{a['section'] if a['section'] != 'europe' else 'world-news/europe'}/{a['slug']}/"
             for s in SUMMIT["related"] for a in demo.ARTICLES if a["slug"] == s]
    assert related_urls[: len(picks)] == picks
    # The rest of the page chrome.
    assert [e["node"]["title"] for e in data["latest"]["edges"]] == [a["title"] for a in newest(demo.ARTICLES, 5)]
    assert data["site"]["tagline"] == demo.SITE["tagline"]


async def test_section_page_includes_sub_sections(demo_site, gql, contract):
    data = await gql(contract["SectionPage"], {"urlPath": "/world-news/"})
    page = data["page"]
    assert page["__typename"] == "SectionPage"
    assert page["ancestors"] == [{"title": "Home", "url": "/"}]
    assert page["children"] == [
        {"title": s["title"], "url": f"/world-news/{s['slug']}/"} for s in demo.SECTIONS if s["parent"] == "world-news"
    ]
    in_tree = [a for a in demo.ARTICLES if a["section"] in ("world-news", "europe")]
    assert page["articles"]["totalCount"] == len(in_tree)
    titles = [e["node"]["title"] for e in page["articles"]["edges"]]
    assert titles == [a["title"] for a in newest(in_tree, 10)]
    # Paging on from the end cursor gives the rest, with nothing repeated.
    if page["articles"]["pageInfo"]["hasNextPage"]:
        more = await gql(contract["SectionPage"], {"urlPath": "/world-news/", "after": page["articles"]["pageInfo"]["endCursor"]})
        rest = [e["node"]["title"] for e in more["page"]["articles"]["edges"]]
        assert titles + rest == [a["title"] for a in newest(in_tree, len(in_tree))][: len(titles) + len(rest)]


async def test_article_list_filters(demo_site, gql, contract):
    by_tag = await gql(contract["ArticleList"], {"tag": "diplomacy", "first": 50})
    expected = [a for a in demo.ARTICLES if "diplomacy" in a["tags"]]
    assert by_tag["articles"]["totalCount"] == len(expected)
    assert {e["node"]["title"] for e in by_tag["articles"]["edges"]} == {a["title"] for a in expected}
    for edge in by_tag["articles"]["edges"]:
        assert "diplomacy" in [t["slug"] for t in edge["node"]["tags"]]

    author = demo.AUTHORS[0]["slug"]
    by_author = await gql(contract["ArticleList"], {"author": author, "first": 50})
    assert by_author["articles"]["totalCount"] == sum(author in a["authors"] for a in demo.ARTICLES)

    europe = await gql(contract["ArticleList"], {"section": "europe", "first": 50})
    assert europe["articles"]["totalCount"] == sum(a["section"] == "europe" for a in demo.ARTICLES)
    assert {e["node"]["section"]["title"] for e in europe["articles"]["edges"]} == {"Europe"}

    window = await gql(
        contract["ArticleList"],
        {"publishedAfter": "2026-11-01T00:00:00Z", "publishedBefore": "2026-11-15T00:00:00Z", "first": 50},
    )
    inside = [a for a in demo.ARTICLES if "2026-11-01" <= a["published_at"][:10] < "2026-11-15"]
    assert window["articles"]["totalCount"] == len(inside)


async def test_article_list_pages_through_everything(demo_site, gql, contract):
    seen, after = [], None
    while True:
        data = await gql(contract["ArticleList"], {"first": 7, "after": after})
        conn = data["articles"]
        seen += [e["node"]["title"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [a["title"] for a in newest(demo.ARTICLES, len(demo.ARTICLES))]


async def test_node_fetches_pages_and_comments_by_global_id(demo_site, gql, contract):
    page = (await gql(contract["ArticlePage"], {"urlPath": SUMMIT_PATH}))["page"]
    article = (await gql(contract["Node"], {"id": page["id"]}))["node"]
    assert article == {"__typename": "ArticlePage", "id": page["id"], "title": SUMMIT["title"], "url": SUMMIT_PATH}
    section = (await gql(contract["Node"], {"id": await section_id(gql)}))["node"]
    assert section["__typename"] == "SectionPage" and section["url"] == "/world-news/"
    comment = page["comments"]["edges"][0]["node"]
    found = (await gql(contract["Node"], {"id": comment["id"]}))["node"]
    assert found == {"__typename": "Comment", "id": comment["id"], "authorName": comment["authorName"], "body": comment["body"]}


async def section_id(gql) -> str:
    data = await gql("{ page(urlPath: \"/world-news/\") { id } }")
    return data["page"]["id"]
