"""Related articles: editor's picks, then shared tags, then the same section."""

from __future__ import annotations

from collections.abc import Sequence

from service import content, db, models, visibility
from service.clock import now


MANUAL_RANK = 1_000_000
RELATED_CACHE_SIZE = 20_000
# Entries keep raw rows (dicts of plain values, which the garbage collector does not
# track) rather than models: thousands of cached objects would slow every full collection.
_related_cache: dict[tuple[int, int], tuple[int, list[dict], list[dict]]] = {}


async def related_articles(article: models.Page, limit: int) -> tuple[list[models.Page], list[models.Page]]:
    """Related articles (see _rank_related), reused while the content version stands.

    Ranking reads every article sharing a tag, the costliest read of an article page;
    its result changes only when content does, which bumps the version.
    """
    version = getattr(article, "content_version", None)
    key = (article.id, limit)
    cached = _related_cache.get(key)
    if version is not None and cached is not None and cached[0] == version:
        # A scheduled article may have expired since: then rank again.
        at = now()
        if all(content.is_public(row, at) for row in cached[1]):
            return content.pages_from_rows(dict(row) for row in cached[1]), content.pages_from_rows(dict(row) for row in cached[2])
    related, parents = await _rank_related(article, limit)
    if version is not None:
        if len(_related_cache) >= RELATED_CACHE_SIZE:
            _related_cache.clear()
        _related_cache[key] = (version, [dict(row) for row in related], [dict(row) for row in parents])
    return content.pages_from_rows(related), content.pages_from_rows(parents)


async def _rank_related(article: models.Page, limit: int) -> tuple[list[dict], list[dict]]:
    """Editor's picks in order, then most shared tags, then same section, newest first.

    Returns the articles and their parent pages (fetched in the same query, since
    article cards show their section).
    """
    if limit <= 0:
        return [], []
    # Ranking reads only article_tag's covering index (which copies each article's
    # live flag, date and section) and the section's newest articles; the full rows
    # are read for the winners alone. Unpublished picks are dropped after the inner
    # LIMIT, so it leaves room for every pick. Only the best of the tag matches can
    # win (joining the other lists never changes an article's score, section or date),
    # so they are cut before the outer grouping, which halves the statement at 10k articles.
    rows = await content.fetch(
        f"""
        SELECT {content.LIST_COLUMNS}, {content.PARENT_COLUMNS} FROM (
            SELECT u.id, MAX(u.score) AS score, MAX(u.same) AS same, MAX(u.at) AS at FROM (
                SELECT r.related_id AS id, {MANUAL_RANK} - r.position AS score, 0 AS same, NULL AS at
                    FROM article_relation r WHERE r.article_id = $1
                UNION ALL
                SELECT * FROM (
                    SELECT t2.article_id AS id, COUNT(*) AS score,
                           MAX(CASE WHEN t2.section_id = $2 THEN 1 ELSE 0 END) AS same, MAX(t2.published_at) AS at
                        FROM article_tag t1 JOIN article_tag t2 ON t2.tag_id = t1.tag_id AND t2.live = $live
                        JOIN page ts ON ts.id = t2.section_id AND ts.locale = $5
                        WHERE t1.article_id = $1 AND t2.article_id <> $1 GROUP BY t2.article_id
                        ORDER BY score DESC, same DESC, at DESC, id DESC
                        LIMIT $4 + (SELECT COUNT(*) FROM article_relation r WHERE r.article_id = $1)
                ) tagged
                UNION ALL
                SELECT recent.id, 0 AS score, 1 AS same, recent.published_at AS at FROM (
                    SELECT p.id, p.published_at FROM page p WHERE p.parent_id = $2 AND {content.LIVE_ARTICLE}
                    ORDER BY p.published_at DESC, p.id DESC LIMIT $3
                ) recent
            ) u WHERE u.id <> $1 GROUP BY u.id
            ORDER BY score DESC, same DESC, at DESC, u.id DESC
            LIMIT $4 + (SELECT COUNT(*) FROM article_relation r WHERE r.article_id = $1)
        ) top JOIN page p ON p.id = top.id JOIN page s ON s.id = p.parent_id
        WHERE {content.LIVE_ARTICLE}
        ORDER BY top.score DESC, top.same DESC, top.at DESC, top.id DESC
        LIMIT $4
        """,
        article.id,
        article.parent_id,
        limit + 1,
        limit,
        article.locale,  # articles sharing a tag, in the article's own locale (sections are narrow rows)
    )
    parents = [{k[3:]: row.pop(k) for k in list(row) if k.startswith("s__")} for row in rows]
    return rows, parents


async def related_articles_for_many(articles: Sequence[models.Page], limit: int) -> dict[int, tuple[list[models.Page], list[models.Page]]]:
    """related_articles for many articles at once: two statements, however many.

    The same ranking (editor's picks in order, then most shared tags, then same section,
    newest first), each article's list cut by a window function instead of a LIMIT.
    Returns, per article id, the related articles and their parent pages.
    """
    if not articles or limit <= 0:
        return {article.id: ([], []) for article in articles}
    params: list = []
    values = []
    for article in articles:
        params += [article.id, article.parent_id, article.locale]
        values.append(f"(CAST(${len(params) - 2} AS INTEGER), CAST(${len(params) - 1} AS INTEGER), CAST(${len(params)} AS TEXT))")
    params += [limit, True, now()]
    cut, live, at = (f"${len(params) - 2}", f"${len(params) - 1}", f"${len(params)}")
    tagged = visibility.visible("t2", live, at, "live")
    rows = await db.read(
        f"""
        WITH a(id, parent_id, locale) AS (VALUES {", ".join(values)}),
        u AS (
            SELECT a.id AS src, r.related_id AS id, {MANUAL_RANK} - r.position AS score, 0 AS same, NULL AS at
                FROM a JOIN article_relation r ON r.article_id = a.id
            UNION ALL
            SELECT a.id, t2.article_id, COUNT(*), MAX(CASE WHEN t2.section_id = a.parent_id THEN 1 ELSE 0 END), MAX(t2.published_at)
                FROM a JOIN article_tag t1 ON t1.article_id = a.id JOIN article_tag t2 ON t2.tag_id = t1.tag_id AND {tagged}
                JOIN page ts ON ts.id = t2.section_id AND ts.locale = a.locale
                GROUP BY a.id, a.parent_id, t2.article_id
            UNION ALL
            SELECT a.id, recent.id, 0, 1, recent.published_at FROM a JOIN (
                SELECT p.id, p.parent_id, p.published_at,
                       ROW_NUMBER() OVER (PARTITION BY p.parent_id ORDER BY p.published_at DESC, p.id DESC) AS n
                FROM page p WHERE p.parent_id IN (SELECT parent_id FROM a) AND p.kind = 'article' AND {visibility.visible("p", live, at)}
            ) recent ON recent.parent_id = a.parent_id AND recent.n <= {cut} + 1
        ),
        top AS (SELECT src, id, MAX(score) AS score, MAX(same) AS same, MAX(at) AS at FROM u WHERE id <> src GROUP BY src, id),
        ranked AS (
            SELECT top.*, ROW_NUMBER() OVER (PARTITION BY top.src ORDER BY score DESC, same DESC, at DESC, id DESC) AS n,
                   (SELECT COUNT(*) FROM article_relation r WHERE r.article_id = top.src) AS picks
            FROM top
        )
        SELECT ranked.src AS src, p.id AS id, p.parent_id AS parent_id FROM ranked JOIN page p ON p.id = ranked.id
        WHERE ranked.n <= {cut} + ranked.picks AND p.kind = 'article' AND {visibility.visible("p", live, at)}
        ORDER BY ranked.src, ranked.score DESC, ranked.same DESC, ranked.at DESC, ranked.id DESC
        """,
        *params,
    )
    chosen: dict[int, list[tuple[int, int]]] = {article.id: [] for article in articles}
    for row in rows:
        if len(chosen[row["src"]]) < limit:
            chosen[row["src"]].append((row["id"], row["parent_id"]))
    wanted = sorted({pk for pairs in chosen.values() for pair in pairs for pk in pair})
    found = await content.pages_by_ids(wanted) if wanted else {}
    return {
        src: ([found[pk] for pk, _ in pairs if pk in found], [found[parent] for _, parent in pairs if parent in found])
        for src, pairs in chosen.items()
    }
