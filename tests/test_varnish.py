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


# --- A real uvicorn running the app behind Varnish --------------------------------------
# These need the other parts of issue 11: the view's Cache-Control/Surrogate-Key headers
# (all but test_credentials_and_posts_pass_to_the_app) and the service's PURGE to
# MASTHEAD_VARNISH_URLS (the publish test).

READ = "query Read($path: String!) { page(urlPath: $path) { id title } }"


@pytest.fixture
def app_behind_varnish(scratch_database, varnish):
    """start(kind, env) -> (server, edge): `masthead serve --seed-demo` with Varnish in front,
    the app told to purge that Varnish."""
    servers: list[Server] = []

    async def start(kind: str, env: dict | None = None):
        url = await scratch_database(kind)
        # Varnish first: the demo seeding's purge reaches it. Sent to a Varnish not up yet, it would
        # wait in the retry queue and purge, a few seconds later, what the test had just cached.
        app_port = free_port()
        edge = varnish(app_port)
        server = Server(url, "--seed-demo", port=app_port, env={"MASTHEAD_VARNISH_URLS": edge.base, **(env or {})})
        servers.append(server)
        server.wait()
        return server, edge, url

    yield start
    for server in servers:
        server.stop()
        server.log.close()


def gql_get(edge, document: str, variables: dict | None = None, **params) -> httpx.Response:
    params = {"query": document, **({"variables": json.dumps(variables)} if variables else {}), **params}
    return httpx.get(f"{edge.base}/graphql", params=params, headers={"Accept": "application/json"}, timeout=30)


def admin_token(database_url: str) -> str:
    return run_cli("token", "create", "--role", "admin", "--name", "desk", database_url=database_url).stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("kind", BACKENDS)
async def test_credentials_and_posts_pass_to_the_app(kind, app_behind_varnish, contract):
    server, edge, url = await app_behind_varnish(kind)
    token = admin_token(url)
    for response in (
        httpx.post(f"{edge.base}/graphql", json={"query": contract["HomePage"]}),
        httpx.get(f"{edge.base}/graphql", params={"query": contract["HomePage"]}, headers={"Authorization": f"Bearer {token}"}),
    ):
        assert response.status_code == 200 and response.json()["data"]["articles"]["totalCount"] == 30
        assert response.headers["x-edge-cache"] == "PASS"


@pytest.mark.parametrize("kind", BACKENDS)
async def test_a_persisted_get_is_a_miss_then_a_hit(kind, app_behind_varnish, contract):
    server, edge, _ = await app_behind_varnish(kind)
    document = contract["HomePage"]
    digest = hashlib.sha256(document.encode()).hexdigest()
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    # Apollo's link: the hash alone (unknown, not stored), then the document with it (registers).
    assert httpx.get(f"{edge.base}/graphql", params={"extensions": extensions}).json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert gql_get(edge, document, extensions=extensions).status_code == 200
    first = httpx.get(f"{edge.base}/graphql", params={"extensions": extensions}, headers={"Accept": "application/json"})
    assert first.status_code == 200 and first.headers["x-edge-cache"] == "MISS"
    assert "s-maxage=" in first.headers["cache-control"] and first.headers["surrogate-key"]
    second = httpx.get(f"{edge.base}/graphql", params={"extensions": extensions}, headers={"Accept": "application/json"})
    assert second.headers["x-edge-cache"] == "HIT" and "age" in second.headers and second.content == first.content
    by_id = {"documentId": f"sha256:{digest}"}
    assert httpx.get(f"{edge.base}/graphql", params=by_id, headers={"Accept": "application/json"}).headers["x-edge-cache"] == "MISS"
    again = httpx.get(f"{edge.base}/graphql", params=by_id, headers={"Accept": "application/json"})
    assert again.headers["x-edge-cache"] == "HIT" and again.json() == first.json()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_a_publish_purges_exactly_the_pages_that_showed_the_article(kind, app_behind_varnish, contract):
    server, edge, url = await app_behind_varnish(kind)
    token = admin_token(url)
    home = gql_get(edge, contract["HomePage"]).json()["data"]
    article = home["articles"]["edges"][0]["node"]
    section_url = article["section"]["url"]
    # Another article of another section, read alone (no lists): its response shows only itself.
    other = next(edge["node"] for edge in home["articles"]["edges"] if edge["node"]["section"]["url"] != section_url)
    pages = {
        "article": (contract["ArticlePage"], {"urlPath": article["url"]}),
        "home": (contract["HomePage"], None),
        "section": (contract["SectionPage"], {"urlPath": section_url}),
        "read": (READ, {"path": article["url"]}),
        "untouched": (READ, {"path": other["url"]}),
    }
    for document, variables in pages.values():
        gql_get(edge, document, variables)
    assert all(gql_get(edge, *page).headers["x-edge-cache"] == "HIT" for page in pages.values())

    def call(document: str, variables: dict) -> dict:
        response = httpx.post(f"{edge.base}/graphql", json={"query": document, "variables": variables},
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.headers["x-edge-cache"] == "PASS"
        return response.json()["data"]

    title = "Harbour deal signed at dawn"
    update = "mutation($id: ID!, $t: String!) { updateArticle(id: $id, input: {title: $t}) { errors { code } } }"
    assert call(update, {"id": article["id"], "t": title})["updateArticle"]["errors"] == []
    publish = "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }"
    assert call(publish, {"id": article["id"]})["publishPage"]["errors"] == []

    # The purge is sent after the commit; wait for it to land (bounded), then every page
    # that showed the article is fresh and the untouched one is still the cached copy.
    deadline = time.monotonic() + 10
    while gql_get(edge, *pages["read"]).json()["data"]["page"]["title"] != title:
        assert time.monotonic() < deadline, "Varnish was not purged"
        time.sleep(0.05)
    assert gql_get(edge, *pages["article"]).json()["data"]["page"]["title"] == title
    assert gql_get(edge, *pages["home"]).json()["data"]["articles"]["edges"][0]["node"]["title"] == title
    section = gql_get(edge, *pages["section"]).json()["data"]["page"]
    assert title in json.dumps(section)
    untouched = gql_get(edge, *pages["untouched"])
    assert untouched.headers["x-edge-cache"] == "HIT" and untouched.json()["data"]["page"]["title"] == other["title"]


@pytest.mark.parametrize("kind", BACKENDS)
async def test_a_stopped_backend_still_serves_stale(kind, app_behind_varnish, contract):
    """s-maxage=0: each copy is stale at once, so a read after the stop is served by stale-if-error."""
    server, edge, _ = await app_behind_varnish(kind, {"MASTHEAD_CACHE_SHARED_MAX_AGE": "0"})
    first = gql_get(edge, contract["HomePage"])
    assert first.status_code == 200 and "stale-if-error=" in first.headers["cache-control"]
    server.stop()
    stale = gql_get(edge, contract["HomePage"])
    assert stale.status_code == 200 and stale.json() == first.json() and stale.headers["x-edge-cache"] == "HIT"


def test_feeds_and_sitemaps_are_cached_one_copy_per_path(stub_backend, varnish):
    for path in ("/feeds/rss.xml", "/sitemap.xml", "/sitemaps/pages-2026-11.xml"):
        stub_backend.responses[path] = (200, {"Content-Type": "application/xml; charset=utf-8", "Cache-Control": PUBLIC,
                                              "Vary": "Accept-Encoding", "Surrogate-Key": "sitemap site"}, "<n>{n}</n>")
    edge = varnish(stub_backend.port)
    for path in ("/feeds/rss.xml", "/sitemap.xml", "/sitemaps/pages-2026-11.xml"):
        first = httpx.get(f"{edge.base}{path}")
        assert first.headers["x-edge-cache"] == "MISS"
        tracked = httpx.get(f"{edge.base}{path}?utm_source=reader")  # a reader's query string is not another copy
        assert tracked.headers["x-edge-cache"] == "HIT" and tracked.text == first.text, path
        assert stub_backend.hits(path) == 1
    assert purge(edge, "sitemap").status_code == 200
    assert httpx.get(f"{edge.base}/sitemap.xml").text == "<n>4</n>"


@pytest.mark.parametrize("kind", BACKENDS)
async def test_a_publish_purges_the_feeds_varnish_keeps(kind, app_behind_varnish):
    server, edge, url = await app_behind_varnish(kind)
    token = admin_token(url)
    feed = f"{edge.base}/feeds/rss.xml"
    first = httpx.get(feed, timeout=30)
    assert first.status_code == 200 and first.headers["x-edge-cache"] == "MISS"
    assert httpx.get(feed, timeout=30).headers["x-edge-cache"] == "HIT"
    home = gql_get(edge, "{ articles(first: 1) { edges { node { id } } } }").json()["data"]
    article_id = home["articles"]["edges"][0]["node"]["id"]
    title = "Ferry & tram timetables merge"
    for document, variables in (
        ("mutation($id: ID!, $t: String!) { updateArticle(id: $id, input: {headline: $t}) { errors { code } } }",
         {"id": article_id, "t": title}),
        ("mutation($id: ID!) { publishPage(id: $id) { errors { code } } }", {"id": article_id}),
    ):
        answer = httpx.post(f"{edge.base}/graphql", json={"query": document, "variables": variables},
                            headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["data"]
        assert next(iter(answer.values()))["errors"] == []
    deadline = time.monotonic() + 10
    while "Ferry &amp; tram" not in httpx.get(feed, timeout=30).text:
        assert time.monotonic() < deadline, "Varnish kept the feed after the publish"
        time.sleep(0.05)
