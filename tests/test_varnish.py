"""Varnish in front, as in production: a real varnishd running deploy/varnish/default.vcl.

The first tests put a stub backend behind it, to pin the VCL's own behaviour; the last
ones put a real uvicorn running the app behind it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest

from conftest import BACKENDS, Server, free_port, run_cli
from fixtures_varnish import VCL_DIR, compile_vcl, render_backends, require_varnish, write_vcl

PUBLIC = "public, max-age=30, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400"


def public(body: str = '{"data": {"n": {n}}}', keys: str = "p:1", cache_control: str = PUBLIC, **headers: str):
    return (200, {"Content-Type": "application/json", "Cache-Control": cache_control, "Vary": "Accept, Accept-Encoding",
                  "Surrogate-Key": keys, **headers}, body)


def purge(edge, keys: str) -> httpx.Response:
    return httpx.request("PURGE", f"{edge.base}/", headers={"xkey-purge": keys})


def test_the_shipped_vcl_compiles_with_a_backend_of_our_own(tmp_path):
    require_varnish()
    result = compile_vcl(write_vcl(tmp_path, render_backends(8000)))
    assert result.returncode == 0, result.stderr
    # The compose backends.vcl defines what default.vcl calls (its hosts resolve only inside compose).
    compose_backends = (VCL_DIR / "backends.vcl").read_text()
    assert "sub masthead_backend" in compose_backends and "acl masthead_purgers" in compose_backends
    assert '"app"' in compose_backends and '"app-2"' in compose_backends


def test_a_public_get_is_a_miss_then_a_hit(stub_backend, varnish):
    stub_backend.responses["/graphql"] = public()
    edge = varnish(stub_backend.port)
    url = f"{edge.base}/graphql?documentId=sha256:abc"
    first = httpx.get(url)
    assert first.status_code == 200 and first.headers["x-edge-cache"] == "MISS"
    second = httpx.get(url)
    assert second.headers["x-edge-cache"] == "HIT" and second.text == first.text
    assert "age" in second.headers and stub_backend.hits("/graphql?documentId=sha256:abc") == 1
    # Surrogate keys stay visible downstream; the vmod's copy does not.
    assert second.headers["surrogate-key"] == "p:1" and "xkey" not in second.headers
    # Another query string is another object; so is another Accept (the app's Vary).
    assert httpx.get(f"{url}&variables=%7B%7D").headers["x-edge-cache"] == "MISS"
    assert httpx.get(url, headers={"Accept": "application/graphql-response+json"}).headers["x-edge-cache"] == "MISS"
    assert httpx.get(url).headers["x-edge-cache"] == "HIT"


@pytest.mark.parametrize("cache_control", ["private, no-store", "public, max-age=30, s-maxage=60, private", "no-cache", None])
def test_what_the_app_does_not_mark_public_is_never_stored(stub_backend, varnish, cache_control):
    headers = {"Content-Type": "application/json"} | ({"Cache-Control": cache_control} if cache_control else {})
    stub_backend.responses["/graphql"] = (200, headers, '{"n": {n}}')
    edge = varnish(stub_backend.port)
    bodies = [httpx.get(f"{edge.base}/graphql?query=x").text for _ in range(2)]
    assert bodies == ['{"n": 1}', '{"n": 2}']


def test_posts_credentials_and_other_paths_pass(stub_backend, varnish):
    stub_backend.responses["/graphql"] = public()
    stub_backend.responses["/healthz"] = public('{"status": "ok {n}"}')
    edge = varnish(stub_backend.port)
    url = f"{edge.base}/graphql?query=x"
    assert httpx.get(url).headers["x-edge-cache"] == "MISS"  # now stored
    for request in (
        lambda: httpx.post(f"{edge.base}/graphql", json={"query": "x"}),
        lambda: httpx.get(url, headers={"Authorization": "Bearer editor"}),
        lambda: httpx.get(url, headers={"Cookie": "session=1"}),
        lambda: httpx.get(f"{edge.base}/healthz"),
    ):
        before = len(stub_backend.requests)
        response = request()
        assert response.headers["x-edge-cache"] == "PASS" and len(stub_backend.requests) == before + 1
    # The credentialed request went through with its credentials.
    assert stub_backend.requests[2][2]["Authorization"] == "Bearer editor"


def test_purge_by_surrogate_key_drops_exactly_the_objects_carrying_it(stub_backend, varnish):
    stub_backend.responses["/graphql?query=article40"] = public(keys="p:40 site")
    stub_backend.responses["/graphql?query=home"] = public(keys="articles p:40 p:41 site")
    stub_backend.responses["/graphql?query=article41"] = public(keys="p:41 site")
    edge = varnish(stub_backend.port)
    paths = {name: f"{edge.base}/graphql?query={name}" for name in ("article40", "home", "article41")}
    for url in paths.values():
        httpx.get(url)
    assert all(httpx.get(url).headers["x-edge-cache"] == "HIT" for url in paths.values())

    purged = purge(edge, "p:40")
    assert purged.status_code == 200 and purged.headers["x-purged"] == "2" and purged.json() == {"purged": 2}
    assert httpx.get(paths["article40"]).headers["x-edge-cache"] == "MISS"
    assert httpx.get(paths["home"]).headers["x-edge-cache"] == "MISS"
    untouched = httpx.get(paths["article41"])
    assert untouched.headers["x-edge-cache"] == "HIT" and int(untouched.headers["age"]) >= 0
    assert stub_backend.hits("/graphql?query=article41") == 1
    # Several keys at once, space-separated, as the service sends them.
    assert purge(edge, "c:99 site").json() == {"purged": 3}
    assert purge(edge, "nothing").json() == {"purged": 0}
    assert purge(edge, "").status_code == 400


def test_purges_from_outside_the_acl_are_refused_and_other_methods_too(stub_backend, varnish):
    stub_backend.responses["/graphql"] = public()
    edge = varnish(stub_backend.port, purgers=("192.0.2.10", "198.51.100.0/24"))
    url = f"{edge.base}/graphql?query=x"
    httpx.get(url)
    refused = purge(edge, "p:1")
    assert refused.status_code == 403
    assert httpx.get(url).headers["x-edge-cache"] == "HIT"  # still there
    for method in ("BAN", "REFRESH"):
        assert httpx.request(method, f"{edge.base}/").status_code == 405
    assert len(stub_backend.requests) == 1


def test_a_stale_copy_is_served_while_the_backend_is_down(stub_backend, varnish):
    """s-maxage=0: every copy is stale at once; stale-if-error keeps it for when the backend fails."""
    stale_only = "public, max-age=0, s-maxage=0, stale-while-revalidate=0, stale-if-error=86400"
    stub_backend.responses["/graphql"] = public(cache_control=stale_only)
    edge = varnish(stub_backend.port)
    url = f"{edge.base}/graphql?query=x"
    assert httpx.get(url).json() == {"data": {"n": 1}}
    # Backend up: past stale-while-revalidate, a stale copy is not served, the backend answers.
    assert httpx.get(url).json() == {"data": {"n": 2}}
    stub_backend.stop()
    served = httpx.get(url)
    assert served.status_code == 200 and served.json() == {"data": {"n": 2}}
    assert served.headers["x-edge-cache"] == "HIT"
    # Nothing to fall back on: the failure shows.
    assert httpx.get(f"{edge.base}/graphql?query=never-cached").status_code == 503


def test_a_server_error_does_not_replace_the_stale_copy(stub_backend, varnish):
    stale_only = "public, max-age=0, s-maxage=0, stale-while-revalidate=0, stale-if-error=86400"
    stub_backend.responses["/graphql"] = public(cache_control=stale_only)
    edge = varnish(stub_backend.port)
    url = f"{edge.base}/graphql?query=x"
    assert httpx.get(url).json() == {"data": {"n": 1}}
    stub_backend.responses["/graphql"] = (503, {"Content-Type": "application/json"}, '{"errors": []}')
    served = httpx.get(url)
    assert served.status_code == 200 and served.json() == {"data": {"n": 1}}
