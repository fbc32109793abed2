"""Full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL, ranked by relevance."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from service import db, pages

SEARCH = """query($s: String!, $first: Int = 10, $after: String, $section: String) {
  articles(search: $s, first: $first, after: $after, section: $section) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { title } }
  }
}"""
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def para(text: str) -> dict:
    return {"type": "paragraph", "value": {"html": f"<p>{text}</p>"}}


async def site():
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World")
    sport = await pages.create_section(parent=home, title="Sport")
    filler = "The council met again this week to discuss the budget and the roads."
    await pages.create_article(section=world, title="Harbour strike ends", summary="Dockers return to work.",
                               body=[para(filler)], published_at=T0)
    await pages.create_article(section=world, title="Council budget vote", headline="Budget passes",
                               body=[para("A long debate about the harbour, mentioned once.")], published_at=T0 + timedelta(days=1))
    await pages.create_article(section=sport, title="Regatta weekend", summary="Boats fill the harbour.",
                               body=[para("The harbour was full of boats. Harbour officials counted sailors in the harbour.")],
                               published_at=T0 + timedelta(days=2))
    await pages.create_article(section=sport, title="Cup final", body=[para("Nothing about boats here, only football matches.")],
                               published_at=T0 + timedelta(days=3))


async def titles(gql, text, **variables):
    data = await gql(SEARCH, {"s": text, **variables})
    return data["articles"]["totalCount"], [e["node"]["title"] for e in data["articles"]["edges"]]


async def test_search_matches_title_headline_summary_and_body(client, gql, backend):
    await site()
    count, found = await titles(gql, "harbour")
    assert count == 3
    assert set(found) == {"Harbour strike ends", "Council budget vote", "Regatta weekend"}
    # Title matches outrank a single mention deep in a body.
    assert found[-1] == "Council budget vote"
    assert (await titles(gql, "passes"))[1] == ["Council budget vote"]  # headline
    assert (await titles(gql, "dockers"))[1] == ["Harbour strike ends"]  # summary
    assert (await titles(gql, "football"))[1] == ["Cup final"]  # body
    # Stemming: "boat" finds "boats".
    assert set((await titles(gql, "boat"))[1]) == {"Regatta weekend", "Cup final"}
    # All terms must match.
    assert (await titles(gql, "harbour sailors"))[1] == ["Regatta weekend"]
    assert (await titles(gql, "zebra"))[0] == 0
    # The index kind is the one each database should use.
    if backend == "sqlite":
        assert await db.fetch("SELECT name FROM sqlite_master WHERE name = 'page_fts'")
    else:
        rows = await db.fetch("SELECT indexdef FROM pg_indexes WHERE indexname = 'page_search_vector_idx'")
        assert "gin" in rows[0]["indexdef"].lower()


async def test_search_combines_with_filters_and_pages(client, gql):
    await site()
    assert (await titles(gql, "harbour", section="sport"))[1] == ["Regatta weekend"]
    first = await gql(SEARCH, {"s": "harbour", "first": 2})
    assert first["articles"]["pageInfo"]["hasNextPage"] is True
    rest = await gql(SEARCH, {"s": "harbour", "first": 2, "after": first["articles"]["pageInfo"]["endCursor"]})
    got = [e["node"]["title"] for e in first["articles"]["edges"] + rest["articles"]["edges"]]
    assert len(got) == 3 == len(set(got))
    assert rest["articles"]["pageInfo"]["hasNextPage"] is False


async def test_search_index_follows_edits_and_deletes(client, gql):
    await site()
    page = await pages.models.Page.get(title="Cup final")
    await pages.models.Page.filter(id=page.id).update(title="Cup final replay", body_text="penalties decided it")
    assert (await titles(gql, "penalties"))[1] == ["Cup final replay"]
    assert (await titles(gql, "football"))[0] == 0
    await pages.models.Page.filter(id=page.id).delete()
    assert (await titles(gql, "penalties"))[0] == 0
