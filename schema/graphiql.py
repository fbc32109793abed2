"""GraphiQL's page: every example operation of schema/operations as a tab, ready to run.

Each tab holds an operation file as written, its variables filled from this site's
database when the page is requested (service/examples.py: the demo newsroom after
`masthead seed --demo`), and, for operations that need a role, a Headers tab with an
`Authorization: Bearer` placeholder saying which token to make. The tabs travel in
a JSON data block (`<script type="application/json">`, never executed, so the strict
Content-Security-Policy still holds) that service/static/graphiql/init.js hands to
GraphiQL's `defaultTabs`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from service import comments, examples, ids
from service.clock import now
from service.db import database_unavailable
from service.settings import Settings

OPERATIONS = Path(__file__).parent / "operations"
DATA_BLOCK = '<script type="application/json" id="graphiql-examples">[]</script>'
# The frontend contract first, as frontends send it; then the other readers' operations; the
# editorial ones in the order an editor uses them. A file not named here comes last.
ORDER = (
    "HomePage", "ArticlePage", "SectionPage", "ArticleList", "Node", "AddComment", "CommentAdded",
    "Navigation", "Menu", "TagPage", "AuthorPage", "Search", "MoreComments", "Translations", "LocaleHome", "CommentForm",
    "ModerationQueue", "ModerateComment",
    "editorial/CreateArticle", "editorial/UpdateArticle", "editorial/CreatePreviewToken", "editorial/PreviewPage",
    "editorial/PublishPage", "editorial/Revisions", "editorial/CompareRevisions", "editorial/RevertToRevision",
    "editorial/SchedulePage", "editorial/MovePage", "editorial/Redirect", "editorial/UnpublishPage",
    "editorial/RegisterWebhook", "editorial/UploadImage", "editorial/SetMenu", "editorial/References", "editorial/CreateTranslation",
    "editorial/DeletePage",
)
ROLES = {
    "ModerationQueue": "moderator", "ModerateComment": "moderator",
    "editorial/CreateArticle": "editor", "editorial/UpdateArticle": "editor", "editorial/CreatePreviewToken": "editor",
    "editorial/Revisions": "editor", "editorial/CompareRevisions": "editor", "editorial/UploadImage": "editor",
    "editorial/SetMenu": "editor", "editorial/References": "editor", "editorial/CreateTranslation": "editor",
    "editorial/PublishPage": "publisher", "editorial/RevertToRevision": "publisher", "editorial/SchedulePage": "publisher",
    "editorial/MovePage": "publisher", "editorial/UnpublishPage": "publisher", "editorial/DeletePage": "publisher",
    "editorial/RegisterWebhook": "admin",
}
NOTES = {
    "AddComment": "# formToken was issued when this page loaded, as CommentForm issues one; a post sooner than\n"
                  "# MASTHEAD_COMMENT_MIN_SECONDS after it is kept as spam (the answer does not say so).\n",
    "editorial/PreviewPage": "# Paste the token CreatePreviewToken returns as previewToken (no Authorization needed).\n",
    "editorial/UploadImage": "# GraphiQL cannot attach a file: send this one as a multipart request (curl below).\n",
    "editorial/MovePage": "# With a token this really moves the example article (its old path then redirects).\n",
    "editorial/UnpublishPage": "# With a token this really takes the example article off the site.\n",
    "editorial/DeletePage": "# With a token this really deletes the example article, its comments and revisions.\n",
    "editorial/CreateTranslation": "# With a token this really makes a draft translation of the example article (its "
                                   "section must\n# have one in that locale: PARENT_NOT_TRANSLATED says which to "
                                   "translate first).\n",
    "editorial/SetMenu": "# With a token this really saves the menu `example` (not the site's `main`): readers see it at once.\n",
}
# Where the site has no revision to name (the demo's pages were seeded without any): what to paste.
PASTE_REVISION = "<a Revision id: run the Revisions tab>"


def operation_files() -> list[tuple[str, str]]:
    """(name, document) of every operation file, in tab order."""
    found = {path.relative_to(OPERATIONS).with_suffix("").as_posix(): path.read_text()
             for path in sorted(OPERATIONS.rglob("*.graphql"))}
    names = [name for name in ORDER if name in found] + sorted(set(found) - set(ORDER))
    return [(name, found[name]) for name in names]


def headers_for(role: str) -> str:
    return json.dumps({"Authorization": f"Bearer <a {role} token: masthead token create --role {role} --name graphiql>"},
                      indent=2)


def variables(site: examples.ExampleSite, settings: Settings) -> dict[str, dict[str, Any]]:
    """Each operation's variables, from the site's own pages (placeholders where it has none)."""
    article, section = site.article, site.section
    article_id = ids.global_id(article) if article is not None else "<an ArticlePage id>"
    path = article.url_path if article is not None else "/"
    section_id = ids.global_id(section) if section is not None else "<a SectionPage id>"

    def revision(pk: int | None) -> str:
        return ids.to_global_id(ids.REVISION_TYPE_NAME, pk) if pk is not None else PASTE_REVISION

    return {
        "ArticlePage": {"urlPath": path},
        "SectionPage": {"urlPath": section.url_path if section is not None else "/"},
        "ArticleList": {"section": section.slug if section is not None else None, "tag": site.tag, "first": 5},
        "Node": {"id": article_id},
        "AddComment": {"input": {
            "articleId": article_id, "authorName": "A GraphiQL reader", "authorEmail": "reader@example.com",
            "body": "Trying the API from GraphiQL.",
            "formToken": comments.form_token(settings, article.id) if article is not None else "",
        }},
        "CommentAdded": {"articleId": article_id},
        "TagPage": {"tag": site.tag or "news"},
        "AuthorPage": {"author": site.author or "staff"},
        "Search": {"q": site.search_word or "news"},
        "MoreComments": {"urlPath": path},
        "CommentForm": {"articleId": article_id},
        "ModerationQueue": {"status": "PENDING"},
        "ModerateComment": {"id": ids.to_global_id("Comment", site.comment_id) if site.comment_id else "<a Comment id>",
                            "action": "APPROVE"},
        "editorial/CreateArticle": {"input": {
            "sectionId": section_id, "title": "A draft written in GraphiQL", "summary": "Saved as a draft: readers see "
            "nothing until it is published.", "tags": [site.tag] if site.tag else [],
            "body": [{"heading": {"text": "Written in GraphiQL", "level": 2}},
                     {"paragraph": {"html": "<p>Every field of <code>CreateArticleInput</code> is in the Docs.</p>"}}],
        }},
        "editorial/UpdateArticle": {"id": article_id, "input": {"summary": "A new standfirst, saved as a draft."},
                                    # null skips the conflict check: the demo's pages have no revision yet
                                    "baseRevisionId": revision(site.latest_revision_id) if site.latest_revision_id else None},
        "editorial/CreatePreviewToken": {"pageId": article_id},
        "editorial/PreviewPage": {"urlPath": path, "previewToken": "<the token from CreatePreviewToken>"},
        "editorial/PublishPage": {"id": article_id},
        "editorial/Revisions": {"pageId": article_id},
        "editorial/CompareRevisions": {"pageId": article_id, "from": revision(site.first_revision_id),
                                       "to": revision(site.latest_revision_id)},
        "editorial/RevertToRevision": {"id": article_id, "revisionId": revision(site.first_revision_id)},
        "editorial/SchedulePage": {"id": article_id, "expireAt": (now() + timedelta(days=30)).replace(microsecond=0).isoformat()},
        "editorial/MovePage": {"id": article_id, "parentId": ids.global_id(site.other_section)
                               if site.other_section is not None else section_id},
        "editorial/Redirect": {"path": site.redirect_path or path},
        "editorial/UnpublishPage": {"id": article_id},
        "editorial/RegisterWebhook": {"url": "https://example.com/masthead/hooks", "events": ["PAGE_PUBLISHED", "COMMENT_APPROVED"]},
        "editorial/UploadImage": {"file": None, "alt": "What the picture shows", "credit": "Photo: the desk"},
        "editorial/DeletePage": {"id": article_id},
        "editorial/References": {"pageId": article_id, "imageId": str(article.hero_image_id)
                                 if article is not None and article.hero_image_id is not None else "<an Image id>"},
        "Menu": {"name": "main"},
        "Translations": {"urlPath": site.translated_path or "/"},
        "LocaleHome": {"locale": site.other_locale or "en", "homeUrl": f"/{site.other_locale.lower()}/" if site.other_locale else "/"},
        "editorial/CreateTranslation": {"pageId": article_id, "locale": site.other_locale or "<one of Site.locales>"},
        "editorial/SetMenu": {"name": "example", "items": [
            {"pageId": section_id, "children": [{"pageId": article_id, "label": "Today's story"}]},
            {"url": "https://example.com/newsletter", "label": "Our newsletter"},
        ]},
    }


async def tabs(settings: Settings) -> list[dict[str, Any]]:
    """The tabs: name, query (a note first where one helps), variables and headers."""
    try:
        site = await examples.example_site()
    except Exception as error:  # noqa: BLE001 - the page still opens, with placeholders, while the database is away
        if not database_unavailable(error):
            raise
        site = examples.ExampleSite()
    values = variables(site, settings)
    out = []
    for name, document in operation_files():
        role = ROLES.get(name)
        note = NOTES.get(name, "")
        if role is not None:
            note = (f"# Needs a {role} token: replace the placeholder in the Headers tab below with one\n"
                    f"# (`masthead token create --role {role} --name graphiql` prints it).\n") + note
        out.append({"name": name, "query": note + document, "variables": values.get(name, {}),
                    "headers": headers_for(role) if role is not None else ""})
    return out


def data_block(found: list[dict[str, Any]]) -> str:
    """The tabs as a JSON data block: `<`, `>` and `&` escaped, so no text in it can close the element."""
    text = json.dumps(found, indent=1, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return DATA_BLOCK.replace("[]", text)


async def page(template: str, settings: Settings) -> str:
    """GraphiQL's HTML with this site's example tabs in it."""
    return template.replace(DATA_BLOCK, data_block(await tabs(settings)))
