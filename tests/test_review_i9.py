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
