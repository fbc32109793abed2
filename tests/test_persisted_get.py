"""Persisted operations over GET: Apollo's automatic persisted queries and GraphQL over HTTP's documentId."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import run_cli

SITE = "query Chrome { site { name } }"
ARTICLES = "query Articles($first: Int!) { articles(first: $first) { edges { node { title } } } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(digest: str) -> str:
    return json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})


async def get(client, accept: str = "application/json", **params):
    return await client.get("/graphql", params=params, headers={"Accept": accept})


def code(response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


async def test_apollo_link_flow_over_get(demo_site):
    """GET by hash, not found; the retry with the document registers it; the hash alone then hits."""
    digest = sha(SITE)
    first = await get(demo_site, extensions=apq(digest), operationName="Chrome")
    assert first.status_code == 200
    error = first.json()["errors"][0]
    assert error["message"] == "PersistedQueryNotFound" and error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    retry = await get(demo_site, query=SITE, extensions=apq(digest), operationName="Chrome")
    assert retry.status_code == 200 and retry.json()["data"]["site"]["name"]
    again = await get(demo_site, extensions=apq(digest), operationName="Chrome")
    assert again.status_code == 200 and again.json() == retry.json()


async def test_apollo_link_flow_over_post_then_get_with_variables(demo_site):
    digest = sha(ARTICLES)
    missing = await demo_site.post("/graphql", json={"extensions": json.loads(apq(digest)), "variables": {"first": 2}})
    assert code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    registered = await demo_site.post("/graphql", json={"query": ARTICLES, "variables": {"first": 2},
                                                       "extensions": json.loads(apq(digest))})
    assert len(registered.json()["data"]["articles"]["edges"]) == 2
    by_hash = await get(demo_site, extensions=apq(digest), variables=json.dumps({"first": 1}), operationName="Articles")
    assert len(by_hash.json()["data"]["articles"]["edges"]) == 1


async def test_document_id_form(demo_site):
    digest = sha(SITE)
    missing = await get(demo_site, documentId=f"sha256:{digest}")
    assert code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    await demo_site.post("/graphql", json={"query": SITE, "extensions": json.loads(apq(digest))})
    found = await get(demo_site, documentId=f"sha256:{digest}", operationName="Chrome")
    assert found.status_code == 200 and found.json()["data"]["site"]["name"]


async def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_stored(demo_site):
    from service import models

    wrong = sha(SITE + " ")
    refused = await get(demo_site, query=SITE, extensions=apq(wrong))
    assert refused.status_code == 400 and code(refused) == "BAD_REQUEST"
    assert "SHA-256" in refused.json()["errors"][0]["message"]
    posted = await demo_site.post("/graphql", json={"query": SITE, "extensions": json.loads(apq(wrong))})
    assert posted.status_code == 400 and code(posted) == "BAD_REQUEST"
    assert not await models.PersistedOperation.exists(sha256=wrong)
    assert code(await get(demo_site, extensions=apq(wrong))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_documents_that_fail_the_guard_are_not_stored(demo_site):
    from service import models

    broken = "{ site { nope } }"
    refused = await get(demo_site, query=broken, extensions=apq(sha(broken)))
    assert code(refused) == "GRAPHQL_VALIDATION_FAILED"
    assert not await models.PersistedOperation.exists(sha256=sha(broken))


async def test_malformed_hashes_and_document_ids_are_400s(demo_site):
    for params in ({"extensions": apq("ABC")}, {"extensions": apq("g" * 64)},
                   {"extensions": json.dumps({"persistedQuery": "x"})},
                   {"extensions": json.dumps({"persistedQuery": {"version": 2, "sha256Hash": sha(SITE)}})},
                   {"documentId": sha(SITE)}, {"documentId": "sha256:xyz"}, {"documentId": "md5:" + "a" * 32},
                   {"documentId": f"sha256:{sha(SITE)}", "query": SITE}):
        response = await get(demo_site, **params)
        assert response.status_code == 400, params
        assert code(response) == "BAD_REQUEST" and response.json()["errors"][0]["message"], params


async def test_a_get_with_an_operation_gets_json_whatever_it_accepts(demo_site):
    digest = sha(SITE)
    await get(demo_site, query=SITE, extensions=apq(digest))
    for accept in ("*/*", "text/html", "text/html,application/xhtml+xml,*/*;q=0.8"):
        for params in ({"query": SITE}, {"extensions": apq(digest)}, {"documentId": f"sha256:{digest}"}):
            response = await get(demo_site, accept, **params)
            assert response.headers["content-type"].startswith("application/json"), (accept, params)
            assert response.json()["data"]["site"]["name"]
    browser = await get(demo_site, "text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser.headers["content-type"].startswith("text/html")


async def test_a_mutation_by_hash_over_get_is_refused(demo_site):
    mutation = ('mutation Add { addComment(input: {articleId: "QXJ0aWNsZTow", authorName: "A", '
                'authorEmail: "a@example.org", body: "Hello there.", formToken: "x"}) { errors { code field } } }')
    digest = sha(mutation)
    await demo_site.post("/graphql", json={"query": mutation, "extensions": json.loads(apq(digest))})
    for params in ({"extensions": apq(digest)}, {"documentId": f"sha256:{digest}"}):
        refused = await get(demo_site, **params)
        assert refused.status_code == 405 and refused.headers["allow"] == "POST"


async def test_trusted_only_runs_registered_documents_and_refuses_registration(demo_site, make_client, database_url,
                                                                               tmp_path):
    from service import models

    trusted = await make_client(trusted_documents="only")
    auto = sha(ARTICLES)
    refused = await get(trusted, query=ARTICLES, extensions=apq(auto), variables=json.dumps({"first": 1}))
    assert code(refused) == "OPERATION_NOT_TRUSTED"
    assert not await models.PersistedOperation.exists(sha256=auto)
    # A document a client registered while the mode was off is not trusted once it is on.
    one = json.dumps({"first": 1})
    assert "data" in (await get(demo_site, query=ARTICLES, extensions=apq(auto), variables=one)).json()
    assert await models.PersistedOperation.exists(sha256=auto)
    assert code(await get(trusted, extensions=apq(auto), variables=one)) == "OPERATION_NOT_TRUSTED"
    # The build's registration trusts it, and so do every document it registers.
    (tmp_path / "articles.graphql").write_text(ARTICLES)
    (tmp_path / "site.graphql").write_text(SITE)
    run_cli("operations", "register", str(tmp_path), database_url=database_url)
    for digest in (auto, sha(SITE)):
        assert (await get(trusted, documentId=f"sha256:{digest}", variables=one)).json()["data"]


async def test_registration_is_bounded(demo_site, make_client, database_url, tmp_path):
    from service import models

    (tmp_path / "site.graphql").write_text(SITE)
    run_cli("operations", "register", str(tmp_path), database_url=database_url)  # trusted: never evicted
    capped = await make_client(apq_max_documents=2)
    documents = [f"query Q{n} {{ articles(first: {n + 1}) {{ totalCount }} }}" for n in range(3)]
    for document in documents:
        assert "data" in (await get(capped, query=document, extensions=apq(sha(document)))).json()
    assert await models.PersistedOperation.filter(automatic=True).count() == 2
    assert code(await get(capped, extensions=apq(sha(documents[0])))) == "PERSISTED_QUERY_NOT_FOUND"
    for document in documents[1:]:
        assert "data" in (await get(capped, extensions=apq(sha(document)))).json()
    assert "data" in (await get(capped, extensions=apq(sha(SITE)))).json()
    closed = await make_client(apq_max_documents=0)
    other = "query Other { site { tagline } }"
    assert "data" in (await get(closed, query=other, extensions=apq(sha(other)))).json()
    assert code(await get(closed, extensions=apq(sha(other)))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_manifests_in_the_shapes_frontend_builds_write(demo_site, make_client, database_url, tmp_path):
    """graphql-codegen's client preset ({hash: document}, sha256: prefixed or not) and Apollo's manifest,
    its operations listed or keyed by hash; a SHA-1 manifest (the preset's default) is refused, saying why."""
    tagline, sections = "query Tagline { site { tagline } }", "query Menu { sections { title } }"
    (tmp_path / "codegen.json").write_text(json.dumps({f"sha256:{sha(SITE)}": SITE, sha(tagline): tagline}))
    (tmp_path / "apollo.json").write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1,
        "operations": {f"sha256:{sha(sections)}": {"name": "Menu", "type": "query", "body": sections}}}))
    result = run_cli("operations", "register", str(tmp_path / "codegen.json"), str(tmp_path / "apollo.json"),
                     database_url=database_url)
    assert "Registered 3 operations" in result.stdout
    trusted = await make_client(trusted_documents="only")
    for document in (SITE, tagline, sections):
        assert (await get(trusted, documentId=f"sha256:{sha(document)}")).json()["data"]
    other = "query Other { site { name tagline } }"
    (tmp_path / "sha1.json").write_text(json.dumps({hashlib.sha1(other.encode()).hexdigest(): other}))
    refused = run_cli("operations", "register", str(tmp_path / "sha1.json"), database_url=database_url, check=False)
    assert refused.returncode == 1 and "hashAlgorithm to 'sha256'" in refused.stderr
    assert code(await get(trusted, documentId=f"sha256:{sha(other)}")) == "PERSISTED_QUERY_NOT_FOUND"
