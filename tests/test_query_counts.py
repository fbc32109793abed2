"""No N+1: each contract operation issues a fixed number of SQL statements,
whatever the number of articles, comments, tags, images or related items."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from service import comments, models, pages
from service.models import CommentStatus

# The bounds we promise (see README): single digits for the article page.
BOUNDS = {"ArticlePage": 9, "HomePage": 6, "SectionPage": 7, "ArticleList": 5, "Node": 1}
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


async def build(size: int):
    """A site whose every list grows with `size`."""
    home = await pages.create_home(title="Home")
    sections = [await pages.create_section(parent=home, title=f"Section {i}") for i in range(2)]
    child = await pages.create_section(parent=sections[0], title="Child")
    images = [await models.Image.create(url=f"/media/{i}.jpg", width=800, height=600, alt=f"i{i}") for i in range(size + 1)]
    authors = [await models.Author.create(name=f"A{i}", slug=f"a{i}") for i in range(size)]
    articles = []
    for n in range(3 * size + 2):
        body = [{"type": "paragraph", "value": {"html": "<p>Words.</p>"}}]
        body += [{"type": "image", "value": {"image_id": img.id}} for img in images[:size]]
        articles.append(
            await pages.create_article(
                section=[sections[0], sections[1], child][n % 3], title=f"Story {n}", body=body,
                published_at=T0 + timedelta(hours=n), authors=authors, tags=[f"t{i}" for i in range(size)],
                hero_image=images[-1],
            )
        )
    main = articles[-1]
    await pages.set_related(main, articles[:size])
    for c in range(size):
        top = await comments.store_comment(article=main, author_name=f"R{c}", author_email="r@example.com",
                                           body="Hi", status=CommentStatus.APPROVED, created_at=T0 + timedelta(minutes=c))
        for r in range(size):
            await comments.store_comment(article=main, parent=top, author_name=f"S{r}", author_email="s@example.com",
                                         body="Re", status=CommentStatus.APPROVED, created_at=T0 + timedelta(minutes=c, seconds=r + 1))
    return main


async def count_all(gql, contract, sql_counter, main) -> dict[str, int]:
    data = await gql('query($p: String!) { page(urlPath: $p) { id ... on ArticlePage { comments { edges { node { id } } } } } }', {"p": main.url_path})
    variables = {
        "ArticlePage": {"urlPath": main.url_path},
        "SectionPage": {"urlPath": "/section-0/"},
        "HomePage": {},
        "ArticleList": {"section": "section-0", "tag": "t0", "first": 50},
        "Node": {"id": data["page"]["comments"]["edges"][0]["node"]["id"]},
    }
    counts = {}
    for name, values in variables.items():
        sql_counter.reset()
        result = await gql(contract[name], values)
        assert result  # ran without errors
        counts[name] = sql_counter.count
    return counts


async def test_statement_counts_are_bounded_and_do_not_grow(client, gql, contract, sql_counter):
    small = await count_all(gql, contract, sql_counter, await build(2))
    from conftest import truncate

    await truncate()
    large = await count_all(gql, contract, sql_counter, await build(8))
    print(f"statements per operation: {large}")
    assert small == large, f"counts grew with the data: {small} -> {large}"
    for name, bound in BOUNDS.items():
        assert large[name] <= bound, f"{name}: {large[name]} statements, bound {bound}"


async def test_the_revision_history_reads_a_fixed_number_of_statements(client, sql_counter):
    """schema/operations/editorial/Revisions.graphql asks each revision for its changes and state."""
    from pathlib import Path

    from service import auth, drafts, ids

    query = (Path(__file__).resolve().parent.parent / "schema" / "operations" / "editorial" / "Revisions.graphql").read_text()
    raw, _ = await auth.create_token(name="history", role=models.Role.EDITOR)
    home = await pages.create_home(title="Home")
    section = await pages.create_section(parent=home, title="News")
    counts = []
    for saves in (3, 12):
        page, _ = await drafts.draft_article({"section_id": section.id, "title": f"History {saves}",
                                                  "body": [{"type": "paragraph", "value": {"html": "<p>v0</p>"}}]}, "desk")
        for n in range(1, saves):
            await drafts.update_page(await models.Page.get(id=page.id), {"summary": f"v{n}"}, "desk")
        sql_counter.reset()
        response = await client.post("/graphql", json={"query": query, "variables": {"pageId": ids.global_id(page)}},
                                     headers={"Authorization": f"Bearer {raw}"})
        body = response.json()
        assert "errors" not in body and len(body["data"]["revisions"]["edges"]) == saves
        assert body["data"]["revisions"]["edges"][-1]["node"]["changes"]  # the first revision: everything is new
        counts.append(sql_counter.count)
    assert counts[0] == counts[1] <= 8, counts
