"""createTranslation: a page copied as a draft into another locale's tree (service/locales.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.editorial.inputs import page_arg
from schema.editorial.revisions import PageStatus, Revision, draft_view
from schema.pages import Page
from schema.payloads import UserError, mutation
from schema.permissions import IsEditor, actor
from service import locales


@strawberry.type(description="The result of createTranslation.")
class TranslationPayload:
    page: Page | None = strawberry.field(default=None, description="The new translation, as its draft shows it.")
    status: PageStatus | None = strawberry.field(default=None, description="Its workflow state: a draft (home pages "
                                                 "are live at once).")
    revision: Revision | None = strawberry.field(default=None, description="The draft's first revision (none for a "
                                                 "home page).")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type
class TranslationMutation:
    @mutation(
        permission_classes=[IsEditor],
        description="Copy a page as a draft into another of the site's locales (editor), below the translation "
        "of its parent (PARENT_NOT_TRANSLATED names the parent to translate first; ALREADY_TRANSLATED when the "
        "locale has one). The copy shares the page's translationKey and slug; edit, publish, schedule and preview "
        "it like any page. Translating the home page makes the locale's home, live at once at `/fr/`."
    )
    async def create_translation(
        self,
        info: Info,
        page_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page to translate.")],
        locale: Annotated[str, strawberry.argument(description="One of the site's locales (`Site.locales`), not the "
                                                   "page's own.")],
    ) -> TranslationPayload:
        by = await actor(info)
        page, revision = await locales.create_translation(await page_arg(page_id, "page_id"), locale, by)
        view = await draft_view(info, page, revision.content) if revision is not None else page
        return TranslationPayload(page=view, status=page, revision=revision)
