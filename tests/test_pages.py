"""The page tree and article content, arranged through the service, read through the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from service import models, pages, visibility
from service.errors import ErrorCode, UserError

PARAGRAPH = {"type": "paragraph", "value": {"html": "<p>Some words about the news.</p>"}}
T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


async def make_tree():
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World News")
    europe = await pages.create_section(parent=world, title="Europe")
    sport = await pages.create_section(parent=home, title="Sport")
    return home, world, europe, sport


async def article(section, title, minutes=0, **kw):
    return await pages.create_article(section=section, title=title, body=[PARAGRAPH], published_at=T0 + timedelta(minutes=minutes), **kw)


async def urls(gql) -> dict[str, str]:
    data = await gql("{ articles(first: 100) { edges { node { title url } } } }")
    return {e["node"]["title"]: e["node"]["url"] for e in data["articles"]["edges"]}


async def test_url_paths_follow_the_tree(client, gql):
    home, world, europe, _ = await make_tree()
    await article(europe, "Talks in Vienna")
    assert home.url_path == "/" and world.url_path == "/world-news/" and europe.url_path == "/world-news/europe/"
    assert (await urls(gql)) == {"Talks in Vienna": "/world-news/europe/talks-in-vienna/"}
    data = await gql('{ page(urlPath: "/world-news/europe/talks-in-vienna/") { ancestors { url } depth } }')
    assert [a["url"] for a in data["page"]["ancestors"]] == ["/", "/world-news/", "/world-news/europe/"]
    assert data["page"]["depth"] == 4


async def test_moving_a_section_moves_its_whole_subtree(client, gql):
    home, world, europe, sport = await make_tree()
    await article(europe, "Talks in Vienna")
    await article(world, "Global markets")
    await pages.move_page(europe, sport)
    assert await urls(gql) == {
        "Talks in Vienna": "/sport/europe/talks-in-vienna/",
        "Global markets": "/world-news/global-markets/",
    }
    data = await gql('{ page(urlPath: "/sport/europe/talks-in-vienna/") { ancestors { title } } }')
    assert [a["title"] for a in data["page"]["ancestors"]] == ["Home", "Sport", "Europe"]
    assert (await gql('{ page(urlPath: "/world-news/europe/") { id } }'))["page"] is None
    # Section filters follow the new tree too.
    data = await gql('{ articles(section: "sport") { totalCount } }')
    assert data["articles"]["totalCount"] == 1


async def test_renaming_a_section_rewrites_descendant_urls(client, gql):
    _, world, europe, _ = await make_tree()
    await article(europe, "Talks in Vienna")
    await pages.rename_page(world, "world")
    assert await urls(gql) == {"Talks in Vienna": "/world/europe/talks-in-vienna/"}


async def test_moving_below_itself_or_an_article_is_refused(client):
    home, world, europe, sport = await make_tree()
    story = await article(europe, "Talks")
    with pytest.raises(UserError) as caught:
        await pages.move_page(world, europe)
    assert caught.value.code == ErrorCode.INVALID_PARENT
    with pytest.raises(UserError):
        await pages.move_page(sport, story)
    with pytest.raises(UserError):
        await pages.move_page(home, sport)


async def test_move_refuses_a_url_clash(client):
    _, world, europe, sport = await make_tree()
    await article(europe, "Same title")
    await article(sport, "Same title")
    story = (await models.Page.filter(title="Same title", parent_id=europe.id).first())
    with pytest.raises(UserError) as caught:
        await pages.move_page(story, sport)
    assert caught.value.code == ErrorCode.DUPLICATE


async def test_positions_order_children_and_move_reorders(client, gql):
    home, world, _, sport = await make_tree()
    culture = await pages.create_section(parent=home, title="Culture")
    data = await gql("{ sections { title position } }")
    assert [s["title"] for s in data["sections"]] == ["World News", "Sport", "Culture"]
    await pages.move_page(culture, home, position=0)
    data = await gql("{ sections { title position } }")
    assert [(s["title"], s["position"]) for s in data["sections"]] == [("Culture", 0), ("World News", 1), ("Sport", 2)]


async def test_section_slugs_are_unique_site_wide(client):
    home, world, _, sport = await make_tree()
    with pytest.raises(UserError) as caught:
        await pages.create_section(parent=sport, title="Europe")
    assert caught.value.code == ErrorCode.DUPLICATE


async def test_article_slug_is_derived_and_unique_in_its_section(client):
    _, world, _, _ = await make_tree()
    first = await article(world, "Élections : résultats!")
    assert first.slug == "elections-resultats"
    with pytest.raises(UserError) as caught:
        await article(world, "Élections : résultats!")
    assert caught.value.code == ErrorCode.DUPLICATE


@pytest.mark.parametrize(
    "block, message",
    [
        ({"type": "video", "value": {}}, "unknown block type"),
        ({"type": "heading", "value": {"text": "Hi", "level": 7}}, "'level' must be 2, 3 or 4"),
        ({"type": "heading", "value": {"text": "", "level": 2}}, "'text' is required"),
        ({"type": "paragraph", "value": {"html": "<script>alert(1)</script>"}}, "no text once sanitised"),
        ({"type": "paragraph", "value": {"html": "x", "colour": "red"}}, "unknown field"),
        ({"type": "embed", "value": {"url": "javascript:alert(1)"}}, "http(s) URL"),
        ({"type": "image", "value": {"image_id": 424242}}, "does not exist"),
        ({"type": "quote", "value": "just text"}, "must be an object"),
        ("paragraph", "must be an object"),
    ],
)
async def test_invalid_blocks_are_rejected_and_nothing_is_stored(client, block, message):
    _, world, _, _ = await make_tree()
    with pytest.raises(UserError) as caught:
        await pages.create_article(section=world, title="Bad body", body=[PARAGRAPH, block])
    assert caught.value.code == ErrorCode.INVALID_BLOCK
    assert message in caught.value.message and "Block 2" in caught.value.message
    assert not await models.Page.exists(title="Bad body")


async def test_paragraph_html_is_sanitised_and_blocks_keep_their_ids(client, gql):
    _, world, _, _ = await make_tree()
    body = [
        {"id": "intro", "type": "paragraph", "value": {"html": '<p onclick="x()">Hi <a href="javascript:y()">there</a> <b>all</b><script>z()</script></p>'}},
        {"type": "heading", "value": {"text": "Next", "level": 3}},
        {"type": "quote", "value": {"text": "Words.", "attribution": "Someone"}},
        {"type": "embed", "value": {"url": "https://video.example.org/v/1", "title": "Clip"}},
    ]
    await pages.create_article(section=world, title="Clean", body=body)
    data = await gql('{ page(urlPath: "/world-news/clean/") { ... on ArticlePage { body { id blockType ... on ParagraphBlock { html text } ... on HeadingBlock { level } ... on EmbedBlock { url } } } } }')
    blocks = data["page"]["body"]
    assert blocks[0]["id"] == "intro"
    assert "script" not in blocks[0]["html"] and "onclick" not in blocks[0]["html"] and "javascript" not in blocks[0]["html"]
    assert blocks[0]["text"] == "Hi there all"
    assert [b["blockType"] for b in blocks] == ["paragraph", "heading", "quote", "embed"]
    assert blocks[1]["level"] == 3 and blocks[3]["url"] == "https://video.example.org/v/1"
    assert len({b["id"] for b in blocks}) == 4


async def test_related_fills_with_shared_tags_then_section_never_self_or_unpublished(client, gql):
    _, world, europe, sport = await make_tree()
    main = await article(world, "Main", 100, tags=["a", "b", "c"])
    pick = await article(sport, "Editor pick", 1)
    two_tags = await article(sport, "Two tags", 2, tags=["a", "b"])
    one_tag = await article(sport, "One tag", 50, tags=["c"])
    same_section_old = await article(world, "Same section old", 3)
    same_section_new = await article(world, "Same section new", 60)
    await article(sport, "Unrelated", 90)
    await article(world, "Hidden", 95, tags=["a", "b", "c"], live=False)
    await pages.set_related(main, [pick, main, pick])
    query = '{ page(urlPath: "/world-news/main/") { ... on ArticlePage { related(first: %d) { title } } } }'
    data = await gql(query % 6)
    assert [r["title"] for r in data["page"]["related"]] == [
        "Editor pick", "Two tags", "One tag", "Same section new", "Same section old",
    ]
    data = await gql(query % 2)
    assert [r["title"] for r in data["page"]["related"]] == ["Editor pick", "Two tags"]
    assert same_section_old and same_section_new and two_tags and one_tag


async def test_unpublished_pages_are_invisible(client, gql):
    _, world, _, _ = await make_tree()
    await article(world, "Draft story", live=False)
    assert (await gql('{ page(urlPath: "/world-news/draft-story/") { id } }'))["page"] is None
    assert (await gql("{ articles { totalCount } }"))["articles"]["totalCount"] == 0


async def test_reading_time_counts_words(client, gql):
    _, world, _, _ = await make_tree()
    words = " ".join(["word"] * 700)
    await pages.create_article(section=world, title="Long read", body=[{"type": "paragraph", "value": {"html": f"<p>{words}</p>"}}])
    data = await gql('{ page(urlPath: "/world-news/long-read/") { ... on ArticlePage { readingTime } } }')
    assert data["page"]["readingTime"] == 4


async def test_related_stays_exact_while_content_changes(client, gql):
    """Related lists are cached per content version; any content change shows at once."""
    _, world, _, sport = await make_tree()
    main = await article(world, "Main", 100, tags=["harbour"])
    await article(sport, "Older harbour story", 1, tags=["harbour"])
    query = '{ page(urlPath: "/world-news/main/") { ... on ArticlePage { related(first: 1) { title } } } }'
    assert (await gql(query))["page"]["related"] == [{"title": "Older harbour story"}]
    newer = await article(sport, "Newer harbour story", 50, tags=["harbour"])
    assert (await gql(query))["page"]["related"] == [{"title": "Newer harbour story"}]
    await models.Page.filter(id=newer.id).update(live=False)
    await visibility.refresh(newer.id)  # what every domain operation that changes `live` does
    assert (await gql(query))["page"]["related"] == [{"title": "Older harbour story"}]
    await pages.set_related(main, [newer])  # an unpublished pick is skipped
    assert (await gql(query))["page"]["related"] == [{"title": "Older harbour story"}]


async def test_comment_counters_do_not_bump_the_content_version(client):
    from service import comments, db

    _, world, _, _ = await make_tree()
    story = await article(world, "Story")

    async def version() -> int:
        return (await db.fetch("SELECT value FROM content_version WHERE id = 1"))[0]["value"]

    before = await version()
    await comments.store_comment(article=story, author_name="A", author_email="a@example.com", body="Hi",
                                 status=models.CommentStatus.APPROVED)
    assert await version() == before
    await pages.rename_page(story, "story-renamed")
    assert await version() > before
