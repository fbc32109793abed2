"""Holes found reviewing issue 9's merged work: each test fails without its fix."""

from __future__ import annotations

from test_socket_rules import Socket, app_with, error_code  # noqa: F401 - the fixture is used by name


async def test_a_socket_client_over_budget_is_refused_before_its_documents_are_parsed(app_with):
    # Over HTTP a spent budget is answered at the door, unparsed; a socket's operations pay the same.
    app = app_with(rate_points=3, work_points_per_ms=0)
    socket = Socket(app)
    await socket.open()
    codes = []
    for n in range(5):  # each is a new syntax error: parsed (and answered GRAPHQL_PARSE_FAILED) only while paid for
        answer = await socket.run("{ site { name " + "x" * n, id=str(n))
        codes.append(error_code(answer))
    assert codes[:3] == ["GRAPHQL_PARSE_FAILED"] * 3 and codes[3:] == ["RATE_LIMITED"] * 2, codes
    assert answer["payload"][0]["extensions"]["retryAfter"] >= 1
    await socket.finish()


async def test_a_socket_operation_within_budget_costs_what_it_costs_over_http(app_with):
    app = app_with(rate_points=3, work_points_per_ms=0)
    socket = Socket(app)
    await socket.open()
    codes = []
    for n in range(4):
        answer = await socket.query("{ site { name } }", id=str(n))
        codes.append(error_code(answer) if answer["type"] == "error" else "ok")
    assert codes == ["ok"] * 3 + ["RATE_LIMITED"], codes
    await socket.finish()


ARTICLE_ID = '{ page(urlPath: "/world-news/valdessa-korvany-leaders-meet-portaven-summit/") { id } }'
FORM_TOKEN = "query($id: ID!) { commentFormToken(articleId: $id) }"
ADD_COMMENT = "mutation($input: AddCommentInput!) { addComment(input: $input) { status errors { code } } }"


async def test_an_ipv6_client_cannot_dodge_the_comment_limit_by_walking_its_64(demo_site, database_url):
    # The cost budget keys an IPv6 client by its /64 (a customer's whole block); the comment
    # limit keyed the full address, so each of 2**64 addresses got its own five posts.
    import httpx
    from dataclasses import replace

    from service.app import create_app
    from service.settings import Settings

    settings = replace(Settings(database_url=database_url, background_jobs=False, rate_points=0),
                       trusted_proxies=("127.0.0.1",), comment_rate_client=(2, 60), comment_min_seconds=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://t") as http:
        article = (await http.post("/graphql", json={"query": ARTICLE_ID})).json()["data"]["page"]["id"]
        token = (await http.post("/graphql", json={"query": FORM_TOKEN, "variables": {"id": article}})).json()
        answers = []
        for n in range(3):
            variables = {"input": {"articleId": article, "formToken": token["data"]["commentFormToken"],
                                   "authorName": "Walker", "authorEmail": f"walker{n}@example.org",
                                   "body": f"Comment number {n}"}}
            answer = await http.post("/graphql", json={"query": ADD_COMMENT, "variables": variables},
                                     headers={"X-Forwarded-For": f"2001:db8:5:7::{n + 1:x}"})
            payload = answer.json()["data"]["addComment"]
            answers.append(payload["errors"][0]["code"] if payload["errors"] else payload["status"])
    assert answers == ["PENDING", "PENDING", "RATE_LIMITED"], answers
