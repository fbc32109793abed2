"""Editorial API: drafts and revisions, publishing, schedules, preview, redirects, webhooks.

Every mutation checks the caller's role (editor: create and edit; publisher:
publish, unpublish, schedule, move, delete, revert; admin: webhooks) and answers
with a payload whose `errors` list holds typed UserErrors: nothing is stored when
it is not empty. Queries that only editors may make raise a coded GraphQL error.

inputs.py     input types and their translation to service arguments
revisions.py  Revision, PageStatus, draft views, previews, revision queries
pages.py      page mutations and their payloads
admin.py      redirects, webhooks, API tokens, site settings
library.py    images and authors
translations.py  createTranslation
"""

from __future__ import annotations

import strawberry

from schema.editorial.admin import AdminMutation, AdminQuery, ApiToken, RedirectRule, Webhook, WebhookDelivery
from schema.editorial.library import LibraryMutation, LibraryQuery
from schema.editorial.pages import PageMutation
from schema.editorial.revisions import PageStatus, Revision, RevisionQuery, preview
from schema.editorial.translations import TranslationMutation


@strawberry.type
class EditorialQuery(RevisionQuery, AdminQuery, LibraryQuery):
    pass


@strawberry.type
class EditorialMutation(PageMutation, AdminMutation, LibraryMutation, TranslationMutation):
    pass


EDITORIAL_TYPES = [Revision, PageStatus, RedirectRule, Webhook, WebhookDelivery, ApiToken]

__all__ = ["EDITORIAL_TYPES", "EditorialMutation", "EditorialQuery", "preview"]
