"""The lean executor gives exactly graphql-core's answers, errors included.

schema/runtime/executor.py reads leaf fields without graphql-core's machinery and treats
Tortoise models as plain values; every result must still equal what the stock
executor produces, for the documented operations on the demo site and for the
error paths (null in a non-null field, a value the scalar refuses, a raising
resolver) that the demo data never reaches.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from types import SimpleNamespace

import graphql
import strawberry
from graphql import parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import schema
from schema.runtime import executor
from schema.context import Context
from service.settings import Settings
from tests.test_schema import EXAMPLE_VARIABLES

OPERATIONS = Path(__file__).resolve().parent.parent / "schema" / "operations"


def _stock(graphql_schema, document, variables=None, context=None):
    return graphql.execute(
        graphql_schema, document, variable_values=variables, context_value=context,
        executor_class=StrawberryGraphQLCoreExecutionContext,
    )


def _plain(result) -> tuple:
    errors = sorted((e.formatted for e in result.errors or []), key=lambda e: (e["message"], str(e.get("path"))))
    return result.data, errors


async def _settle(result):
    return await result if graphql.pyutils.is_awaitable(result) else result


async def test_documented_operations_match_the_stock_executor(demo_site, database_url):
    from service import auth, models

    settings = Settings(database_url=database_url)
    raw, _ = await auth.create_token(name="compare", role=models.Role.MODERATOR)
    moderator = SimpleNamespace(headers={"authorization": f"Bearer {raw}"})
    compared = 0
    for path in sorted(OPERATIONS.glob("*.graphql")):
        document = parse(path.read_text())
        if document.definitions[0].operation.value != "query" or path.stem == "CommentForm":
            continue  # CommentForm answers a signed time stamp: two runs differ by design
        variables = EXAMPLE_VARIABLES.get(path.stem, {})
        if path.stem == "Node":
            page = await schema.execute('{ page(urlPath: "/world-news/") { id } }', context_value=Context(None, None, settings))
            variables = {"id": page.data["page"]["id"]}
        ours = await schema.execute(path.read_text(), variable_values=variables, context_value=Context(moderator, None, settings))
        stock = await _settle(_stock(schema._schema, document, variables, Context(moderator, None, settings)))
        assert not ours.errors, (path.name, ours.errors)
        assert ours.data and any(ours.data.values()), f"{path.name} returned nothing"
        assert _plain(ours) == _plain(stock), path.name
        compared += 1
    assert compared >= 8


class Mood(Enum):
    CALM = "calm"
    CROSS = "cross"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    mood: Mood
    count: int

    @strawberry.field
    def shout(self) -> str:
        if self.name == "boom":
            raise ValueError("cannot shout boom")
        return self.name.upper()


ROWS = [
    Thing(name="calm", nickname=None, mood=Mood.CALM, count=1),
    Thing(name=None, nickname="nameless", mood=Mood.CROSS, count=2),  # type: ignore[arg-type]
    Thing(name="odd", nickname="o", mood="sideways", count=3),  # type: ignore[arg-type]
    Thing(name="many", nickname="m", mood=Mood.CALM, count="many"),  # type: ignore[arg-type]
    Thing(name="boom", nickname="b", mood=Mood.CALM, count=5),
]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return ROWS


TINY = strawberry.Schema(query=Query, execution_context_class=executor.Executor)
TINY_LEAVES = executor.plan(TINY._schema)

TINY_QUERY = "{ things { __typename name nick: nickname mood count shout } }"


async def test_error_paths_match_the_stock_executor():
    assert TINY_LEAVES == 5  # name, nickname, mood, count, shout
    ours = await TINY.execute(TINY_QUERY)
    stock = await _settle(_stock(TINY._schema, parse(TINY_QUERY)))
    assert _plain(ours) == _plain(stock)
    first, *failed = ours.data["things"]
    assert first == {"__typename": "Thing", "name": "calm", "nick": None, "mood": "CALM", "count": 1, "shout": "CALM"}
    assert failed == [None] * 4  # a non-null field failed: the item becomes null
    paths = {e.message.split(":")[0]: e.path for e in ours.errors}
    assert paths["Cannot return null for non-nullable field Thing.name."] == ["things", 1, "name"]
    assert paths["Enum 'Mood' cannot represent value"] == ["things", 2, "mood"]
    assert paths["Int cannot represent non-integer value"] == ["things", 3, "count"]
    assert paths["cannot shout boom"] == ["things", 4, "shout"]


async def test_an_unplanned_schema_takes_the_full_path():
    plain = strawberry.Schema(query=Query, execution_context_class=executor.Executor)
    ours = await plain.execute("{ things { name } }")
    assert ours.data["things"][0] == {"name": "calm"}
    assert [e.path for e in ours.errors] == [["things", 1, "name"]]
