"""Real values from this site for the example operations GraphiQL opens with (schema/graphiql.py).

Read when the GraphiQL page is requested, so its tabs run against whatever the
database holds (the demo newsroom after `masthead seed --demo`): the newest public
article that has comments, its section, first tag and author, one of its comments,
its revisions, another section to move it to, a redirect. Only what readers may see
is picked, and only ids and paths are handed out (never drafts' content or emails).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service import content, models

_WORD = re.compile(r"[^\W\d_]{4,}")


@dataclass(frozen=True)
class ExampleSite:
    """What the example operations need; None where the site has nothing to offer yet."""

    article: models.Page | None = None
    section: models.Page | None = None  # the article's section
    other_section: models.Page | None = None  # where MovePage may move the article
    tag: str | None = None
    author: str | None = None
    comment_id: int | None = None  # a comment a moderator could approve (pending first)
    first_revision_id: int | None = None
    latest_revision_id: int | None = None
    redirect_path: str | None = None
    translated_path: str | None = None  # a public page with a public translation (Translations)
    other_locale: str | None = None  # a locale besides the default (LocaleHome, CreateTranslation)

    @property
    def search_word(self) -> str | None:
        """The longest word of the article's title: a search that finds at least that article."""
        words = _WORD.findall(self.article.title) if self.article is not None else []
        return max(words, key=len).lower() if words else None


async def example_site() -> ExampleSite:
    """The values above from the database: a handful of small reads."""
    rows = await content.fetch(
        f"SELECT {content.PAGE_COLUMNS} FROM page p WHERE {content.LIVE_ARTICLE} "
        f"ORDER BY p.thread_count > 0 DESC, p.published_at DESC, p.id DESC LIMIT 1"
    )
    if not rows:
        return ExampleSite()
    article = content.pages_from_rows(rows)[0]
    sections = await content.fetch(
        f"SELECT {content.LIST_COLUMNS} FROM page p WHERE p.kind = 'section' AND p.locale = $1 AND p.live = $live "
        f"ORDER BY p.depth, p.position, p.id", article.locale,
    )
    section_pages = content.pages_from_rows(sections)
    section = next((page for page in section_pages if page.id == article.parent_id), None)
    other = next((page for page in section_pages if page.id != article.parent_id), None)
    tags = (await content.tags_by_article_ids([article.id])).get(article.id, [])
    authors = (await content.authors_by_article_ids([article.id])).get(article.id, [])
    comment = await models.Comment.filter(article_id=article.id, status=models.CommentStatus.PENDING).order_by("id").first()
    if comment is None:
        comment = await models.Comment.filter(article_id=article.id).order_by("id").first()
    revisions = await models.PageRevision.filter(page_id=article.id).order_by("number").values_list("id", flat=True)
    redirect = await models.Redirect.all().order_by("-id").first()
    translated = await content.fetch(
        "SELECT p.url_path, t.locale FROM page p JOIN page t ON t.translation_key = p.translation_key AND t.id <> p.id "
        "WHERE p.locale = $1 AND p.live = $live AND t.live = $live ORDER BY p.kind = 'article' DESC, p.published_at DESC, "
        "p.id LIMIT 1", article.locale,
    )
    return ExampleSite(
        article=article, section=section, other_section=other,
        tag=tags[0].slug if tags else None, author=authors[0].slug if authors else None,
        comment_id=comment.id if comment is not None else None,
        first_revision_id=revisions[0] if revisions else article.live_revision_id,
        latest_revision_id=revisions[-1] if revisions else article.latest_revision_id,
        redirect_path=redirect.old_path if redirect is not None else None,
        translated_path=translated[0]["url_path"] if translated else None,
        other_locale=translated[0]["locale"] if translated else None,
    )
