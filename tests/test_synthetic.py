"""The contract operations on the generated benchmark site, checked against the database."""

from __future__ import annotations

from service import models, seed

ARTICLES, COMMENTS = 60, 3


async def newest_titles(n: int, **filters) -> list[str]:
    rows = await models.Page.filter(kind=models.PageKind.ARTICLE, live=True, **filters).order_by("-published_at", "-id").limit(n).values_list("title", flat=True)
    return list(rows)


async def test_contract_operations_on_the_synthetic_site(client, gql, contract):
    result = await seed.seed_synthetic(ARTICLES, COMMENTS, progress=False)
    assert result == {"sections": 12, "articles": ARTICLES, "comments": ARTICLES * COMMENTS}

    home = await gql(contract["HomePage"])
    assert home["site"]["name"] == "Synthetic Times"
    assert [s["title"] for s in home["sections"]] == [f"Section {i}" for i in range(1, 13)]
    assert home["articles"]["totalCount"] == ARTICLES
    assert [e["node"]["title"] for e in home["articles"]["edges"]] == await newest_titles(10)

    story = await models.Page.filter(kind=models.PageKind.ARTICLE).order_by("-id").first()
    page = (await gql(contract["ArticlePage"], {"urlPath": story.url_path}))["page"]
    assert page["title"] == story.title and page["source"] == "By Synthetic Wire"
    assert len([b for b in page["body"] if b["__typename"] == "ParagraphBlock"]) == 8
    assert len(page["tags"]) == 3 and len(page["authors"]) == 1
    assert page["commentCount"] == COMMENTS == page["comments"]["totalCount"] == len(page["comments"]["edges"])
    picks = await models.ArticleRelation.filter(article_id=story.id).order_by("position").values_list("related_id", flat=True)
    pick_paths = [p.url_path for p in sorted(await models.Page.filter(id__in=list(picks)), key=lambda p: list(picks).index(p.id))]
    assert [r["url"] for r in page["related"]] == pick_paths
    assert page["heroImage"]["width"] == 1600

    section = (await gql(contract["SectionPage"], {"urlPath": "/section-3/"}))["page"]
    section_row = await models.Page.get(url_path="/section-3/")
    assert section["articles"]["totalCount"] == ARTICLES // 12
    assert [e["node"]["title"] for e in section["articles"]["edges"]] == await newest_titles(10, parent_id=section_row.id)

    tag = await models.Tag.filter(article_links__article_id=story.id).first()
    listed = await gql(contract["ArticleList"], {"tag": tag.slug, "first": 100})
    expected = await models.ArticleTag.filter(tag_id=tag.id).count()
    assert listed["articles"]["totalCount"] == expected == len(listed["articles"]["edges"])

    node = (await gql(contract["Node"], {"id": page["id"]}))["node"]
    assert node["title"] == story.title and node["url"] == story.url_path
