"""An acknowledged comment survives the service being killed right after the answer."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from conftest import BACKENDS, run_cli

ARTICLE = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"


async def form_token(http: httpx.AsyncClient, article_id: str) -> str:
    """As a frontend does when it shows the comment form."""
    answer = await http.post("/graphql", json={"query": "query($id: ID!) { commentFormToken(articleId: $id) }", "variables": {"id": article_id}})
    return answer.json()["data"]["commentFormToken"]


@pytest.mark.parametrize("kind", BACKENDS)
async def test_acknowledged_comments_survive_sigkill(kind, scratch_database, serve, contract):
    url = await scratch_database(kind)
    server = serve(url, "--seed-demo", env={"MASTHEAD_COMMENT_RATE_CLIENT": "1000/60", "MASTHEAD_COMMENT_MIN_SECONDS": "0"})
    acknowledged = []
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        article_id = (await http.post("/graphql", json={"query": '{ page(urlPath: "%s") { id } }' % ARTICLE})).json()["data"]["page"]["id"]
        token = await form_token(http, article_id)

        async def post(n: int) -> None:
            response = await http.post("/graphql", json={"query": contract["AddComment"], "variables": {"input": {
                "articleId": article_id, "authorName": "Durable", "authorEmail": f"d{n}@example.com", "body": f"marker-{n}",
                "formToken": token}}})
            data = response.json()["data"]["addComment"]
            if data["comment"]:
                acknowledged.append(data["comment"]["id"])

        await asyncio.gather(*(post(n) for n in range(20)))
    server.process.kill()  # SIGKILL: no shutdown, no flush
    server.process.wait(timeout=10)
    assert len(acknowledged) == 20
    # Pending comments are not public: the moderation listing reads the database.
    listed = run_cli("comments", "list", "--limit", "100", database_url=url).stdout
    bodies = [line.split("\t")[-1] for line in listed.splitlines()]
    assert sorted(b for b in bodies if b.startswith("marker-")) == sorted(f"marker-{n}" for n in range(20))
    assert len(set(acknowledged)) == 20


async def test_no_log_line_carries_an_email(scratch_database, serve, contract):
    """Posting, failing validation and moderating leave no email in the service's output."""
    url = await scratch_database("sqlite")
    server = serve(url, "--seed-demo", "--access-log")
    secret = "very-private-reader@example.org"
    async with httpx.AsyncClient(base_url=server.base) as http:
        article_id = (await http.post("/graphql", json={"query": '{ page(urlPath: "%s") { id } }' % ARTICLE})).json()["data"]["page"]["id"]
        token = await form_token(http, article_id)
        for email, body in ((secret, "A fine article."), ("broken-" + secret.replace("@", "#"), "Invalid email")):
            await http.post("/graphql", json={"query": contract["AddComment"], "variables": {"input": {
                "articleId": article_id, "authorName": "Private", "authorEmail": email, "body": body, "formToken": token}}})
    output = server.stop()
    assert "POST /graphql" in output  # the log was on
    assert secret not in output and secret.split("@")[0] not in output
