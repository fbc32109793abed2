"""A bounded property-based fuzz of the whole schema against a real service in production mode.

hypothesis-graphql writes valid queries and mutations (any field, any argument
value its type admits, NUL characters included); the service must never answer
5xx (but 503/504 for an outage or a deadline) and never report an unexpected
internal error: every error a client sees carries a deliberate code.
"""

from __future__ import annotations

import os
from datetime import timezone

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes

from conftest import BACKENDS, run_cli

EXAMPLES = int(os.environ.get("MASTHEAD_FUZZ_EXAMPLES", "150"))
SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.text(max_size=20).map(nodes.String),
    "Upload": st.just(nodes.String("not-a-file")),
}


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(request, tmp_path_factory):
    """A seeded production service and an editor token (so mutations run their real checks)."""
    import asyncio

    from conftest import Server, create_postgres_database, drop_postgres_database, postgres_server_url

    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    else:
        url = asyncio.run(create_postgres_database(postgres_server_url()))
    run_cli("migrate", database_url=url)
    run_cli("seed", "--demo", database_url=url)
    token = run_cli("token", "create", "--role", "admin", "--name", "fuzz", database_url=url).stdout.strip().splitlines()[-1]
    server = Server(url, env={"MASTHEAD_ENV": "production", "MASTHEAD_SECRET_KEY": "fuzz-" + "x" * 40, "MASTHEAD_RATE_POINTS": "0", "MASTHEAD_BACKGROUND_JOBS": "0",
                              "MASTHEAD_COMMENT_RATE_CLIENT": "1000000/60", "MASTHEAD_MEDIA_DIR": str(tmp_path_factory.mktemp("media"))})
    server.wait()
    yield server.base, token
    server.stop()
    server.log.close()
    if request.param != "sqlite":
        asyncio.run(drop_postgres_database(url))


def _check(response: httpx.Response, document: str) -> None:
    if response.status_code >= 500 and os.environ.get("MASTHEAD_FUZZ_DUMP"):
        with open(os.environ["MASTHEAD_FUZZ_DUMP"], "a") as dump:
            dump.write(document + "\n=====\n")
    assert response.status_code < 500 or response.status_code in (503, 504), (response.status_code, document, response.text[:500])
    if response.headers.get("content-type", "").startswith("application/json"):
        for error in response.json().get("errors", []):
            code = (error.get("extensions") or {}).get("code")
            assert code and code != "INTERNAL_SERVER_ERROR", (document, error)


def test_fuzzing_the_schema_finds_no_internal_errors(fuzz_target):
    from schema import schema

    base, token = fuzz_target
    sdl = schema.as_str()
    with httpx.Client(base_url=base, timeout=30) as http:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(document=from_schema(sdl, custom_scalars=SCALARS), as_editor=st.booleans())
        def run(document: str, as_editor: bool) -> None:
            headers = {"Authorization": f"Bearer {token}"} if as_editor else {}
            _check(http.post("/graphql", json={"query": document}, headers=headers), document)

        run()
