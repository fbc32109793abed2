"""Purges reach every process on SQLite without Redis: two real servers on one SQLite file.

Each process keeps its own response cache; a change made through one server must
drop the other's copy within a few polls of the purge log (service/purge_relay.py).
SQLite only: PostgreSQL carries purges by NOTIFY (tests/test_response_cache.py).
"""

from __future__ import annotations

import time

import httpx

from conftest import run_cli

READ = "{ site { name } }"
RENAME = "mutation($name: String!) { updateSiteSettings(input: {name: $name}) { errors { code } } }"
CACHED = {"MASTHEAD_RESPONSE_CACHE_BYTES": str(8 * 1024 * 1024)}


def read(server) -> httpx.Response:
    response = httpx.get(f"{server.base}/graphql", params={"query": READ}, headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 200, response.text
    return response


async def test_a_change_through_one_server_is_seen_through_another_at_once(scratch_database, serve):
    url = await scratch_database("sqlite")
    writer, reader = serve(url, env=CACHED, wait=False), serve(url, env=CACHED, wait=False)
    writer.wait(), reader.wait()
    token = run_cli("token", "create", "--role", "admin", "--name", "desk", database_url=url).stdout.strip().splitlines()[-1]
    before = read(reader)
    assert before.headers["x-cache"] == "MISS"
    again = read(reader)
    assert again.headers["x-cache"] == "HIT" and again.json() == before.json()

    renamed = httpx.post(f"{writer.base}/graphql", json={"query": RENAME, "variables": {"name": "The Harbour Gazette"}},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert renamed.json()["data"]["updateSiteSettings"]["errors"] == []

    deadline = time.monotonic() + 2
    while (seen := read(reader)).json()["data"]["site"]["name"] != "The Harbour Gazette":
        assert time.monotonic() < deadline, "the other server still answers its cached copy"
        time.sleep(0.05)
    assert seen.headers["x-cache"] == "MISS"
    assert read(reader).headers["x-cache"] == "HIT"  # and caches the new answer again
