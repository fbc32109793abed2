"""Per-request DataLoaders: every relation a query touches costs one batch query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from service import content, models, related, threads


def _by_key(fetch, default=None):
    """Wrap a fetch(keys) -> {key: value} into a DataLoader batch function."""

    async def load(keys: Sequence) -> list:
        found = await fetch(list(keys))
        return [found.get(key, default() if callable(default) else default) for key in keys]

    return load


def load_now(loader: DataLoader, key):
    """The value itself when the loader already holds it, else the loader's future.

    A resolved future still costs graphql-core a coroutine and a task to read; an
    article page reads ~25 primed values (replies, the related articles' sections).
    """
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return loader.load(key)


async def load_related(keys: Sequence[tuple[models.Page, int]]) -> list[tuple[list[models.Page], list[models.Page]]]:
    # Ranking is per article: one query per (article, limit), none repeated in a request.
    return [await related.related_articles(article, limit) for article, limit in keys]


@dataclass
class Loaders:
    page_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(content.pages_by_ids)))
    navigation_children: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(content.navigation_children, list))
    )
    authors_by_article_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(content.authors_by_article_ids, list))
    )
    tags_by_article_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(content.tags_by_article_ids, list))
    )
    body_by_page_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(content.bodies_by_page_ids, list)))
    image_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(content.images_by_ids)))
    replies_by_comment_id: DataLoader = field(
        default_factory=lambda: DataLoader(_by_key(threads.replies_by_comment_ids, list))
    )
    comment_by_id: DataLoader = field(default_factory=lambda: DataLoader(_by_key(threads.comments_by_ids)))
    related: DataLoader = field(
        default_factory=lambda: DataLoader(load_related, cache_key_fn=lambda key: (key[0].id, key[1]))
    )
