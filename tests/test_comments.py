"""Posting and moderating comments through the API: every error code, the moderation
states, the privacy rules and the spam paths."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from schema import ids
from service import auth, comments, models, pages
from service.models import CommentStatus, Role
from service.settings import Settings

ADD = """mutation AddComment($input: AddCommentInput!) {
  addComment(input: $input) {
    status
    comment { id authorName body bodyHtml createdAt }
    errors { field code message retryAfter }
    commenterToken
  }
}"""
MODERATE = """mutation($id: ID!, $action: ModerationAction!) {
  moderateComment(id: $id, action: $action) { comment { id status authorEmail } errors { field code message } }
}"""
QUEUE = "query($status: CommentStatus) { commentQueue(status: $status) { edges { node { id authorName authorEmail status body } } } }"
THREAD = 'query($p: String!) { page(urlPath: $p) { ... on ArticlePage { commentCount comments { totalCount edges { node { id body replies { body } } } } } } }'
EMAIL = "reader@example.com"


async def make_article(comments_enabled: bool = True, title: str = "Story") -> models.Page:
    home = await models.Page.filter(kind=models.PageKind.HOME).first() or await pages.create_home(title="Home")
    section = await models.Page.filter(kind=models.PageKind.SECTION).first() or await pages.create_section(parent=home, title="News")
    return await pages.create_article(
        section=section, title=title, comments_enabled=comments_enabled,
        body=[{"type": "paragraph", "value": {"html": "<p>Text.</p>"}}],
    )


def patient_token(article: models.Page) -> str:
    """The formToken of a form shown 30 seconds ago (posting at once would read as a bot)."""
    return comments.form_token(Settings(), article.id, time.time() - 30)


def payload(article: models.Page, **overrides) -> dict:
    values = {"articleId": ids.to_global_id("ArticlePage", article.id), "authorName": "Ana", "authorEmail": EMAIL,
              "body": "Good piece.", "formToken": patient_token(article)}
    values.update(overrides)
    return {"input": {name: value for name, value in values.items() if value is not None}}


async def add(gql, article, **overrides) -> dict:
    return (await gql(ADD, payload(article, **overrides)))["addComment"]


async def moderator_headers() -> dict:
    raw, _ = await auth.create_token(name="mod", role=Role.MODERATOR)
    return {"Authorization": f"Bearer {raw}"}


async def test_a_posted_comment_is_pending_stored_and_not_public(client, gql, contract):
    article = await make_article()
    result = (await gql(contract["AddComment"], payload(article)))["addComment"]
    assert result["status"] == "PENDING" and result["errors"] == []
    assert result["comment"]["authorName"] == "Ana" and result["comment"]["body"] == "Good piece."
    stored = await models.Comment.get(id=ids.from_global_id(result["comment"]["id"])[1])
    assert stored.status == CommentStatus.PENDING and stored.author_email == EMAIL
    assert len(stored.ip_hash) == 64 and "127.0.0.1" not in stored.ip_hash
    thread = (await gql(THREAD, {"p": article.url_path}))["page"]
    assert thread["commentCount"] == 0 and thread["comments"]["edges"] == []


@pytest.mark.parametrize(
    "overrides, field, code",
    [
        ({"authorName": "   "}, "authorName", "REQUIRED"),
        ({"authorName": "x" * 81}, "authorName", "TOO_LONG"),
        ({"body": " \n "}, "body", "REQUIRED"),
        ({"body": "y" * 5001}, "body", "TOO_LONG"),
        ({"authorEmail": "not-an-email"}, "authorEmail", "INVALID_EMAIL"),
        ({"authorEmail": "a@b"}, "authorEmail", "INVALID_EMAIL"),
        ({"authorUrl": "javascript:alert(1)"}, "authorUrl", "INVALID_URL"),
        ({"authorUrl": "ftp://example.com"}, "authorUrl", "INVALID_URL"),
        ({"articleId": ids.to_global_id("ArticlePage", 999999)}, "articleId", "NOT_FOUND"),
        ({"articleId": "garbage"}, "articleId", "NOT_FOUND"),
        ({"parentId": ids.to_global_id("Comment", 999999)}, "parentId", "NOT_FOUND"),
        ({"body": "see http://a.example http://b.example http://c.example"}, "body", "SPAM"),
    ],
)
async def test_mistakes_come_back_as_typed_errors_and_nothing_is_stored(client, gql, overrides, field, code):
    article = await make_article()
    result = await add(gql, article, **overrides)
    assert result["status"] is None and result["comment"] is None
    (error,) = result["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert error["message"] and EMAIL not in error["message"] and "not-an-email" not in error["message"]
    assert await models.Comment.all().count() == 0


async def test_comments_closed(client, gql):
    article = await make_article(comments_enabled=False)
    (error,) = (await add(gql, article))["errors"]
    assert error["code"] == "COMMENTS_CLOSED"


async def test_replies_need_an_approved_parent_on_the_same_article(client, gql):
    article, other = await make_article(), await make_article(title="Other")
    pending = await comments.store_comment(article=article, author_name="P", author_email="p@example.com", body="x")
    elsewhere = await comments.store_comment(article=other, author_name="O", author_email="o@example.com", body="y", status=CommentStatus.APPROVED)
    for parent in (pending, elsewhere):
        (error,) = (await add(gql, article, parentId=ids.to_global_id("Comment", parent.id)))["errors"]
        assert error["code"] == "NOT_FOUND" and error["field"] == "parentId"
    approved = await comments.store_comment(article=article, author_name="A", author_email="a@example.com", body="z", status=CommentStatus.APPROVED)
    result = await add(gql, article, parentId=ids.to_global_id("Comment", approved.id))
    assert result["status"] == "PENDING"


async def test_duplicates_are_refused(client, gql):
    article = await make_article()
    assert (await add(gql, article, body="Same words"))["status"] == "PENDING"
    (error,) = (await add(gql, article, body="  same   WORDS "))["errors"]
    assert error["code"] == "DUPLICATE"
    assert await models.Comment.all().count() == 1


async def test_rate_limit_per_client_says_how_long_to_wait(client, gql):
    article = await make_article()
    limit, window = Settings().comment_rate_client
    for n in range(limit):
        assert (await add(gql, article, body=f"Comment number {n}", authorEmail=f"r{n}@example.com"))["status"] == "PENDING"
    (error,) = (await add(gql, article, body="One too many", authorEmail="late@example.com"))["errors"]
    assert error["code"] == "RATE_LIMITED" and 0 < error["retryAfter"] <= window
    assert await models.Comment.all().count() == limit


async def test_rate_limit_per_article(client, gql):
    article = await make_article()
    limit, _ = Settings().comment_rate_article
    await models.Comment.bulk_create([
        models.Comment(article_id=article.id, author_name="b", author_email=f"b{n}@example.com", body=f"b{n}",
                       status=CommentStatus.PENDING, ip_hash=f"other{n}", created_at=datetime.now(timezone.utc))
        for n in range(limit)
    ])
    (error,) = (await add(gql, article))["errors"]
    assert error["code"] == "RATE_LIMITED"


async def test_honeypot_and_hasty_forms_are_kept_as_spam_without_saying_so(client, gql):
    article = await make_article()
    caught = await add(gql, article, honeypot="http://buy.example")
    assert caught["status"] == "PENDING" and caught["errors"] == []
    token = (await gql("query($id: ID!) { commentFormToken(articleId: $id) }", {"id": ids.to_global_id("ArticlePage", article.id)}))["commentFormToken"]
    hasty = await add(gql, article, formToken=token, body="Posted at once", authorEmail="fast@example.com")
    assert hasty["status"] == "PENDING"
    forged = await add(gql, article, formToken=token[:-2] + "00", body="Forged", authorEmail="forge@example.com")
    assert forged["status"] == "PENDING"
    patient = comments.form_token(Settings(), article.id, time.time() - 30)
    human = await add(gql, article, formToken=patient, body="Took my time", authorEmail="slow@example.com")
    statuses = dict(await models.Comment.all().values_list("body", "status"))
    assert statuses == {
        "Good piece.": CommentStatus.SPAM, "Posted at once": CommentStatus.SPAM,
        "Forged": CommentStatus.SPAM, "Took my time": CommentStatus.PENDING,
    }
    assert human["status"] == "PENDING"


async def test_a_missing_form_token_is_a_required_error_and_a_bad_one_is_silent_spam(client, gql):
    article = await make_article()
    for missing in (None, "", "   "):
        result = await add(gql, article, formToken=missing, body=f"No token {missing!r}")
        assert result["status"] is None and result["comment"] is None and result["commenterToken"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [("formToken", "REQUIRED")]
        assert "commentFormToken" in result["errors"][0]["message"]
    assert await models.Comment.all().count() == 0
    for n, bad in enumerate(["1.2.forged", "9" * 5000 + ".1.x", f"{article.id}.{'9' * 5000}.x", "\u00b2.1.x"]):
        forged = await add(gql, article, formToken=bad, body=f"Forged token {n}", authorEmail=f"f{n}@example.com")
        assert forged["status"] == "PENDING" and forged["errors"] == [], forged
    assert set(await models.Comment.all().values_list("status", flat=True)) == {CommentStatus.SPAM}


async def test_an_email_alone_never_auto_approves(app, client, gql):
    from conftest import GraphQLClient

    # The impostor posts from another address, so the regular's rate limit stays out of it.
    impostor_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("198.51.100.7", 4000)), base_url="http://testserver")
    impostor_gql = GraphQLClient(impostor_http)
    article = await make_article()
    await models.SiteSettings.create(name="Site", auto_approve_known_commenters=True)
    regular = await add(gql, article, body="A thoughtful first comment")
    await comments.moderate((await models.Comment.get(body="A thoughtful first comment")).id, "approve")
    # Someone else types the regular's email: no token, their own token, a forged or another email's token.
    async with impostor_http:
        impostor = await add(impostor_gql, article, body="Impostor one", authorEmail=EMAIL.upper())
        assert impostor["status"] == "PENDING" and impostor["commenterToken"] != regular["commenterToken"]
        other = await add(impostor_gql, article, body="From another reader", authorEmail="other@example.com")
        await comments.moderate((await models.Comment.get(body="From another reader")).id, "approve")
        attempts = [impostor["commenterToken"], regular["commenterToken"][:-4] + "0000", other["commenterToken"]]
        for n, token in enumerate(attempts):
            result = await add(impostor_gql, article, body=f"Impostor attempt {n}", commenterToken=token)
            assert result["status"] == "PENDING" and result["errors"] == [], (token, result)
    # The regular, with the token the first post returned, is known (any case of the same email).
    back = await add(gql, article, body="Back again", authorEmail=EMAIL.title(), commenterToken=regular["commenterToken"])
    assert back["status"] == "APPROVED" and back["commenterToken"] == regular["commenterToken"]
    statuses = dict(await models.Comment.all().values_list("body", "status"))
    assert [body for body, status in statuses.items() if status == CommentStatus.APPROVED] == [
        "A thoughtful first comment", "From another reader", "Back again"]
    # Once moderators remove the comment the token came with, it approves nothing.
    await comments.moderate((await models.Comment.get(body="A thoughtful first comment")).id, "remove")
    later = await add(gql, article, body="Later still", commenterToken=regular["commenterToken"])
    assert later["status"] == "PENDING" and later["commenterToken"] != regular["commenterToken"]


async def test_known_commenters_can_be_auto_approved(client, gql):
    article = await make_article()
    await models.SiteSettings.create(name="Site", auto_approve_known_commenters=True)
    first = await add(gql, article, body="First")
    assert first["status"] == "PENDING" and first["commenterToken"]
    await comments.moderate((await models.Comment.get(body="First")).id, "approve")
    again = await add(gql, article, body="Second", commenterToken=first["commenterToken"])
    assert again["status"] == "APPROVED" and again["commenterToken"] == first["commenterToken"]
    thread = (await gql(THREAD, {"p": article.url_path}))["page"]
    assert thread["commentCount"] == 2 and [e["node"]["body"] for e in thread["comments"]["edges"]] == ["First", "Second"]


async def test_reader_html_is_text_and_body_html_is_safe(client, gql):
    article = await make_article()
    text = "<script>alert(1)</script> <b>bold</b>\n\nsee https://example.org/x?a=1&b=2"
    result = await add(gql, article, body=text)
    assert result["comment"]["body"] == text
    html = result["comment"]["bodyHtml"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html
    assert '<a href="https://example.org/x?a=1&amp;b=2" rel="nofollow ugc noopener"' in html and html.count("<p>") == 2


async def test_moderation_needs_a_moderator_token(client, gql):
    article = await make_article()
    comment_id = (await add(gql, article))["comment"]["id"]
    body = await gql(MODERATE, {"id": comment_id, "action": "APPROVE"})
    assert body["moderateComment"]["errors"][0]["code"] == "UNAUTHENTICATED"
    response = await client.post("/graphql", json={"query": MODERATE, "variables": {"id": comment_id, "action": "APPROVE"}},
                                 headers={"Authorization": "Bearer mh_not-a-real-token"})
    assert response.json()["data"]["moderateComment"]["errors"][0]["code"] == "UNAUTHENTICATED"
    raw, _ = await auth.create_token(name="reader", role=Role.READER)
    response = await client.post("/graphql", json={"query": MODERATE, "variables": {"id": comment_id, "action": "APPROVE"}},
                                 headers={"Authorization": f"Bearer {raw}"})
    assert response.json()["data"]["moderateComment"]["errors"][0]["code"] == "PERMISSION_DENIED"
    queue = await gql(QUEUE, errors=True)
    assert queue["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await client.post("/graphql", json={"query": QUEUE}, headers={"Authorization": f"Bearer {raw}"})
    assert response.json()["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert (await models.Comment.get()).status == CommentStatus.PENDING


async def test_moderators_see_the_queue_and_decide(client, gql):
    article = await make_article()
    first = (await add(gql, article, body="One"))["comment"]["id"]
    second = (await add(gql, article, body="Two", authorEmail="two@example.com"))["comment"]["id"]
    headers = await moderator_headers()

    async def call(query, variables):
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert "errors" not in response.json(), response.json()
        return response.json()["data"]

    queue = await call(QUEUE, {})
    assert [n["node"]["authorEmail"] for n in queue["commentQueue"]["edges"]] == [EMAIL, "two@example.com"]
    approved = await call(MODERATE, {"id": first, "action": "APPROVE"})
    assert approved["moderateComment"]["comment"]["status"] == "APPROVED"
    await call(MODERATE, {"id": second, "action": "SPAM"})
    thread = (await gql(THREAD, {"p": article.url_path}))["page"]
    assert thread["commentCount"] == 1 and [e["node"]["body"] for e in thread["comments"]["edges"]] == ["One"]
    assert (await call(QUEUE, {"status": "SPAM"}))["commentQueue"]["edges"][0]["node"]["body"] == "Two"
    await call(MODERATE, {"id": first, "action": "REMOVE"})
    thread = (await gql(THREAD, {"p": article.url_path}))["page"]
    assert thread["commentCount"] == 0 and thread["comments"]["edges"] == []
    unknown = await call(MODERATE, {"id": ids.to_global_id("Comment", 999999), "action": "APPROVE"})
    assert unknown["moderateComment"]["errors"][0]["code"] == "NOT_FOUND"


async def test_no_public_field_exposes_an_email(client, gql):
    data = await gql("{ __schema { types { name fields { name } } } }")
    public = {t["name"]: [f["name"] for f in t["fields"] or []] for t in data["__schema"]["types"]}
    for type_name, fields in public.items():
        if type_name == "ModerationComment":
            continue
        assert not [f for f in fields if "email" in f.lower()], type_name
    article = await make_article()
    approved = await comments.store_comment(article=article, author_name="A", author_email="secret@example.com", body="Hi", status=CommentStatus.APPROVED)
    text = str(await gql('query($id: ID!) { node(id: $id) { ... on Comment { authorName body } } }', {"id": ids.to_global_id("Comment", approved.id)}))
    assert "secret@example.com" not in text


async def test_cli_token_authenticates_moderation(client, gql, database_url):
    from conftest import run_cli

    article = await make_article()
    comment_id = (await add(gql, article))["comment"]["id"]
    result = run_cli("token", "create", "--role", "moderator", "--name", "desk", database_url=database_url)
    raw = result.stdout.strip().splitlines()[-1]
    assert raw.startswith("mh_") and await models.ApiToken.filter(token_hash=auth.hash_token(raw)).exists()
    assert not await models.ApiToken.filter(token_hash=raw).exists()
    response = await client.post("/graphql", json={"query": MODERATE, "variables": {"id": comment_id, "action": "APPROVE"}},
                                 headers={"Authorization": f"Bearer {raw}"})
    assert response.json()["data"]["moderateComment"]["comment"]["status"] == "APPROVED"
    listed = run_cli("token", "list", database_url=database_url)
    assert "desk" in listed.stdout and raw not in listed.stdout
    token_id = listed.stdout.split()[0]
    run_cli("token", "revoke", token_id, database_url=database_url)
    assert await auth.authenticate(raw) is None


async def test_cli_lists_and_moderates(client, gql, database_url):
    from conftest import run_cli

    article = await make_article()
    await add(gql, article, body="Queued words")
    listed = run_cli("comments", "list", database_url=database_url)
    assert "Queued words" in listed.stdout
    comment = await models.Comment.get()
    run_cli("comments", "approve", str(comment.id), database_url=database_url)
    thread = (await gql(THREAD, {"p": article.url_path}))["page"]
    assert thread["commentCount"] == 1


async def test_expired_tokens_do_not_authenticate(client):
    raw, token = await auth.create_token(name="old", role=Role.MODERATOR, expires_in=timedelta(seconds=-1))
    assert await auth.authenticate(raw) is None


async def test_oversized_requests_are_refused_with_413(client):
    big = {"query": ADD, "variables": {"input": {"articleId": "x", "authorName": "a", "authorEmail": "a@example.com", "body": "x" * 2_000_000}}}
    response = await client.post("/graphql", json=big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await models.Comment.all().count() == 0
