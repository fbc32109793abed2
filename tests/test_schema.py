"""The committed SDL matches the code, and the documented operations run."""

from __future__ import annotations

from pathlib import Path

from graphql import parse, print_ast, validate

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


def test_operations_cover_the_contract(contract):
    for name, text in contract.items():
        mine = OPERATIONS / f"{name}.graphql"
        assert mine.exists(), f"schema/operations lacks {name}"
        assert print_ast(parse(mine.read_text())) == print_ast(parse(text))


def test_every_operation_validates():
    for path in sorted(OPERATIONS.glob("*.graphql")):
        errors = validate(schema._schema, parse(path.read_text()))
        assert not errors, f"{path.name}: {errors}"


async def test_every_operation_runs_on_the_demo_site(demo_site, gql, client):
    from service import auth, models

    node_id = (await gql('{ page(urlPath: "/world-news/") { id } }'))["page"]["id"]
    article_id = (await gql('{ page(urlPath: "%s") { id } }' % EXAMPLE_VARIABLES["ArticlePage"]["urlPath"]))["page"]["id"]
    pending = await models.Comment.filter(status=models.CommentStatus.PENDING).first()
    raw, _ = await auth.create_token(name="ops", role=models.Role.MODERATOR)
    moderator = {"Authorization": f"Bearer {raw}"}
    variables = {
        **EXAMPLE_VARIABLES,
        "Node": {"id": node_id},
        "AddComment": {"input": {"articleId": article_id, "authorName": "Op", "authorEmail": "op@example.com", "body": "Example."}},
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


def test_direct_resolvers_only_read_the_context():
    """Resolvers called straight from graphql-core get its info object: only .context is shared."""
    import inspect
    import re

    from graphql import GraphQLObjectType

    import schema as schema_module

    assert schema_module.DIRECT_RESOLVERS > 20
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for name, graphql_field in graphql_type.fields.items():
            field = (graphql_field.extensions or {}).get("strawberry-definition")
            resolver = getattr(field, "base_resolver", None)
            if resolver is None or field.arguments:
                continue
            source = inspect.getsource(resolver.wrapped_func)
            assert not re.search(r"\binfo\.(?!context\b)", source), f"{graphql_type.name}.{name} uses more of info"
