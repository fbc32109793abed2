"""The committed SDL matches the code, and the documented operations run."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate

from conftest import CONTRACT_NAMES, SHARED_CONTRACT_DIR
from schema import ids, schema

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "schema" / "operations"

EXAMPLE_VARIABLES = {
    "ArticlePage": {"urlPath": "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"},
    "SectionPage": {"urlPath": "/world-news/"},
    "ArticleList": {"tag": "diplomacy"},
    "Search": {"q": "harbour"},
    "TagPage": {"tag": "diplomacy"},
    "AuthorPage": {"author": "joel-carver"},
    "MoreComments": {"urlPath": "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"},
    "Translations": {"urlPath": "/world-news/relief-flights-reach-marrowen-islands/"},
    "LocaleHome": {"locale": "fr", "homeUrl": "/fr/"},
}


def test_committed_sdl_matches_the_code():
    committed = (ROOT / "schema" / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", "schema/schema.graphql is stale: run `make schema`"


def test_every_field_clients_see_is_described():
    graphql_schema = schema._schema
    missing = []
    for name, type_ in graphql_schema.type_map.items():
        if name.startswith("__") or not hasattr(type_, "fields"):
            continue
        for field_name, field in type_.fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert not missing, f"fields without a description: {missing}"


def test_every_type_argument_input_field_and_enum_value_is_described():
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

    missing = []
    for graphql_type in schema._schema.type_map.values():
        if graphql_type.name.startswith("__"):
            continue
        if not graphql_type.description:
            missing.append(graphql_type.name)
        if isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType)):
            for name, field in graphql_type.fields.items():
                missing += [f"{graphql_type.name}.{name}({arg})" for arg, value in field.args.items() if not value.description]
        elif isinstance(graphql_type, GraphQLInputObjectType):
            missing += [f"{graphql_type.name}.{name}" for name, value in graphql_type.fields.items() if not value.description]
        elif isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{graphql_type.name}.{name}" for name, value in graphql_type.values.items() if not value.description]
    assert not missing, f"types, arguments, input fields and enum values without a description: {missing}"


@pytest.mark.skipif(not SHARED_CONTRACT_DIR.is_dir(), reason="no ../shared/contract beside this checkout to compare with")
def test_operations_are_byte_identical_copies_of_the_shared_contract():
    shared = {path.stem: path.read_bytes() for path in sorted(SHARED_CONTRACT_DIR.glob("*.graphql"))}
    assert sorted(shared) == sorted(CONTRACT_NAMES), "the shared contract's operations changed: copy them"
    for name, text in shared.items():
        mine = OPERATIONS / f"{name}.graphql"
        assert mine.exists(), f"schema/operations lacks {name}"
        assert mine.read_bytes() == text, f"schema/operations/{name}.graphql differs from the shared contract"


def test_every_operation_validates():
    for path in sorted(OPERATIONS.rglob("*.graphql")):
        errors = validate(schema._schema, parse(path.read_text()))
        assert not errors, f"{path.name}: {errors}"


def test_every_operation_validates_against_the_committed_sdl():
    """What a frontend's build checks (graphql-codegen, Apollo's tooling): the files against schema.graphql alone."""
    from graphql import build_schema

    committed = build_schema((ROOT / "schema" / "schema.graphql").read_text())
    paths = sorted(OPERATIONS.rglob("*.graphql"))
    assert len(paths) >= 30 and any(path.parent.name == "editorial" for path in paths)
    names = []
    for path in paths:
        document = parse(path.read_text())
        errors = validate(committed, document)
        assert not errors, f"{path.relative_to(OPERATIONS)}: {errors}"
        names += [definition.name.value for definition in document.definitions]
    # Type generators name their types after the operations: one name, one operation.
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


async def test_every_operation_runs_on_the_demo_site(demo_site, gql, client):
    from service import auth, models

    node_id = (await gql('{ page(urlPath: "/world-news/") { id } }'))["page"]["id"]
    article_id = (await gql('{ page(urlPath: "%s") { id } }' % EXAMPLE_VARIABLES["ArticlePage"]["urlPath"]))["page"]["id"]
    form = await gql("query($id: ID!) { commentFormToken(articleId: $id) }", {"id": article_id})  # as a frontend does
    pending = await models.Comment.filter(status=models.CommentStatus.PENDING).first()
    raw, _ = await auth.create_token(name="ops", role=models.Role.MODERATOR)
    moderator = {"Authorization": f"Bearer {raw}"}
    variables = {
        **EXAMPLE_VARIABLES,
        "Node": {"id": node_id},
        "AddComment": {"input": {"articleId": article_id, "authorName": "Op", "authorEmail": "op@example.com", "body": "Example.",
                                 "formToken": form["commentFormToken"]}},
        "CommentForm": {"articleId": article_id},
        "ModerateComment": {"id": ids.to_global_id("Comment", pending.id), "action": "APPROVE"},
    }
    for path in sorted(OPERATIONS.glob("*.graphql")):
        if parse(path.read_text()).definitions[0].operation.value == "subscription":
            continue  # runs over websockets: tests/test_live_comments.py
        response = await client.post(
            "/graphql",
            json={"query": path.read_text(), "variables": variables.get(path.stem, {})},
            headers=moderator if path.stem.startswith("Moderat") else {},
        )
        body = response.json()
        assert "errors" not in body, (path.name, body)
        assert any(value for value in body["data"].values()), f"{path.name} returned nothing"
        if path.stem == "AddComment":
            assert body["data"]["addComment"]["errors"] == [], body


def test_direct_resolvers_only_read_the_context():
    """Resolvers called straight from graphql-core get its info object: only .context is shared."""
    import inspect
    import re

    from graphql import GraphQLObjectType

    import schema as schema_module
    from schema.runtime.direct import plain_arguments

    assert schema_module.DIRECT_RESOLVERS > 20
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for name, graphql_field in graphql_type.fields.items():
            field = (graphql_field.extensions or {}).get("strawberry-definition")
            resolver = getattr(field, "base_resolver", None)
            if resolver is None or not plain_arguments(field):
                continue
            source = inspect.getsource(resolver.wrapped_func)
            assert not re.search(r"\binfo\.(?!context\b)", source), f"{graphql_type.name}.{name} uses more of info"


async def test_editorial_operations_run_in_workflow_order(demo_site, tmp_path):
    """schema/operations/editorial: each documented operation, in the order an editor uses them."""
    import io
    import json
    from datetime import datetime, timedelta, timezone

    from PIL import Image as PILImage

    from service import auth, models

    client = demo_site
    raw, _ = await auth.create_token(name="ops-admin", role=models.Role.ADMIN)
    headers = {"Authorization": f"Bearer {raw}"}
    editorial = OPERATIONS / "editorial"

    async def run(name: str, variables: dict, auth_header: bool = True) -> dict:
        response = await client.post("/graphql", json={"query": (editorial / f"{name}.graphql").read_text(), "variables": variables},
                                     headers=headers if auth_header else {})
        body = response.json()
        assert "errors" not in body, (name, body)
        payload = next(iter(body["data"].values()))
        if isinstance(payload, dict) and "errors" in payload:
            assert payload["errors"] == [], (name, payload["errors"])
        return body["data"]

    async def page_id(path: str) -> str:
        return (await client.post("/graphql", json={"query": "query($p: String!) { page(urlPath: $p) { id } }", "variables": {"p": path}})).json()["data"]["page"]["id"]

    section = await page_id("/world-news/")
    created = (await run("CreateArticle", {"input": {
        "sectionId": section, "title": "Operations check", "tags": ["ops"],
        "body": [{"heading": {"text": "Checked", "level": 2}}, {"paragraph": {"html": "<p>Every operation runs.</p>"}}],
    }}))["createArticle"]
    article, rev1 = created["article"]["id"], created["revision"]["id"]
    rev2 = (await run("UpdateArticle", {"id": article, "input": {"headline": "Every documented operation runs"}, "baseRevisionId": rev1}))["updateArticle"]["revision"]["id"]
    token = (await run("CreatePreviewToken", {"pageId": article}))["createPreviewToken"]["token"]
    preview = await run("PreviewPage", {"urlPath": token["urlPath"], "previewToken": token["token"]}, auth_header=False)
    assert preview["page"]["headline"] == "Every documented operation runs"
    assert (await run("PublishPage", {"id": article}))["publishPage"]["status"]["live"] is True
    translated = (await run("CreateTranslation", {"pageId": article, "locale": "fr"}))["createTranslation"]
    assert translated["page"]["url"] == "/fr/monde/operations-check/" and translated["status"]["live"] is False
    assert (await run("Revisions", {"pageId": article}))["revisions"]["totalCount"] == 2
    assert (await run("CompareRevisions", {"pageId": article, "from": rev1, "to": rev2}))["compareRevisions"]
    assert (await run("RevertToRevision", {"id": article, "revisionId": rev1}))["revertToRevision"]["revision"]["number"] == 3
    later = (datetime.now(timezone.utc) + timedelta(days=7)).isoformat()
    assert (await run("SchedulePage", {"id": article, "expireAt": later}))["schedulePage"]["status"]["visible"] is True
    moved = (await run("MovePage", {"id": article, "parentId": await page_id("/business/")}))["movePage"]["page"]["url"]
    assert (await run("Redirect", {"path": token["urlPath"]}, auth_header=False))["redirect"]["target"] == moved
    assert (await run("UnpublishPage", {"id": article}))["unpublishPage"]["status"]["live"] is False
    assert (await run("RegisterWebhook", {"url": "http://8.8.8.8:9/hooks", "events": ["PAGE_PUBLISHED"]}))["registerWebhook"]["secret"]  # a public address: nothing is sent here
    picture = io.BytesIO()
    PILImage.new("RGB", (800, 600), (10, 120, 200)).save(picture, "JPEG")
    upload = await client.post("/graphql", headers=headers, data={
        "operations": json.dumps({"query": (editorial / "UploadImage.graphql").read_text(), "variables": {"file": None, "alt": "Blue"}}),
        "map": json.dumps({"0": ["variables.file"]}),
    }, files={"0": ("blue.jpg", picture.getvalue(), "image/jpeg")})
    image = upload.json()["data"]["uploadImage"]
    assert image["errors"] == [] and image["image"]["card"]["width"] == 640
    menu = (await run("SetMenu", {"name": "main", "items": [
        {"pageId": section, "children": [{"pageId": article}]}, {"url": "mailto:desk@example.org", "label": "Write to us"}]}))["setMenu"]["menu"]
    assert [(i["url"], i["visible"], [c["visible"] for c in i["children"]]) for i in menu["items"]] == [
        ("/world-news/", True, [False]), ("mailto:desk@example.org", True, [])]  # the article is unpublished
    found = await run("References", {"pageId": section, "imageId": image["image"]["id"]})
    assert found["pageStatus"]["urlPath"] == "/world-news/" and found["image"]["usage"] == []  # nothing shows the upload yet
    assert article in (await run("DeletePage", {"id": article}))["deletePage"]["deletedIds"]
    assert len(list(editorial.glob("*.graphql"))) == 18  # every file above ran
