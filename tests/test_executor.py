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


# -- a schema that reaches every branch of the planned path ---------------------------------


@strawberry.interface
class Shape:
    label: str


@strawberry.type
class Square(Shape):
    side: int


@strawberry.type
class Circle(Shape):
    radius: int | None

    @strawberry.field
    async def slow_label(self) -> str:
        if self.label == "raise":
            raise ValueError("cannot label")
        return self.label.upper()

    @strawberry.field
    async def required(self) -> str:
        return None  # type: ignore[return-value] - a null where the type forbids it


@strawberry.type
class Box:
    name: str

    @strawberry.field
    def inner(self) -> Box | None:
        return Box(name=self.name + ">") if len(self.name) < 4 else None

    @strawberry.field
    def strict_inner(self) -> Box:
        return None  # type: ignore[return-value]

    @strawberry.field
    def failing(self) -> str:
        return ValueError("returned, not raised")  # type: ignore[return-value]


@strawberry.type
class Picky:
    name: str

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, Picky)


def _later(value):
    import asyncio

    future = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(future.set_result, value)
    return future


def _later_error(message: str):
    import asyncio

    future = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(future.set_exception, ValueError(message))
    return future


@strawberry.type
class RichQuery:
    @strawberry.field
    def shapes(self) -> list[Shape]:
        return [Square(label="a", side=2), Circle(label="b", radius=None), Circle(label="raise", radius=3)]

    @strawberry.field
    def circles(self, first: int = 2, prefix: str | None = None) -> list[Circle | None]:
        return [Circle(label=f"{prefix or 'c'}{i}", radius=i) for i in range(first)] + [Square(label="odd", side=1)]

    @strawberry.field
    def boxes(self) -> list[Box]:
        return [Box(name="x"), Box(name="y")]

    @strawberry.field
    def strict_boxes(self) -> list[Box] | None:
        return [Box(name="x"), None]  # type: ignore[list-item]

    @strawberry.field
    def pending(self) -> list[Box | None]:
        return [_later(Box(name="p")), _later_error("pending failed"), Box(name="q")]

    @strawberry.field
    async def eventually(self) -> Box:
        return Box(name="e")

    @strawberry.field
    def picky(self) -> list[Picky | None]:
        return [Picky(name="fine"), Box(name="not picky")]  # type: ignore[list-item]

    @strawberry.field
    def generated(self) -> list[int]:
        return (n * n for n in range(3))  # type: ignore[return-value] - an iterable, not a list

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 7  # type: ignore[return-value]


RICH = strawberry.Schema(query=RichQuery, types=[Square, Circle], execution_context_class=executor.Executor)
executor.plan(RICH._schema)

RICH_QUERIES = [
    "{ shapes { __typename label ... on Square { side } ... on Circle { radius slowLabel } } }",
    "{ shapes { ... on Circle { required } } }",
    "query Q($n: Int!, $p: String) { circles(first: $n, prefix: $p) { label radius } more: circles { label } }",
    "{ boxes { name inner { name inner { name inner { name } } } failing } }",
    "{ boxes { name strictInner { name } } }",
    "{ strictBoxes { name } }",
    "{ pending { name inner { name } } eventually { name } }",
    "{ generated notAList }",
    "{ picky { name } }",
    "fragment F on Box { name inner { ...G } } fragment G on Box { name } { boxes { ...F name } same: boxes { name } }",
    "query I($yes: Boolean!) { boxes { name inner @include(if: $yes) { name } } }",
]


async def test_the_planned_path_matches_the_stock_executor_on_every_branch():
    variables = {"n": 3, "p": "v", "yes": True}
    for query in RICH_QUERIES:
        document = parse(query)
        declared = {d.variable.name.value for d in document.definitions[-1].variable_definitions or ()}
        given = {k: v for k, v in variables.items() if k in declared}
        for _ in range(2):  # the second run takes the plan the first one made
            ours = await RICH.execute(query, variable_values=given)
            stock = await _settle(_stock(RICH._schema, document, given))
            assert _plain(ours) == _plain(stock), query
    failed = await RICH.execute(RICH_QUERIES[6])
    assert failed.data["pending"][1] is None and failed.data["pending"][0] == {"name": "p", "inner": {"name": "p>"}}
    assert [e.path for e in failed.errors] == [["pending", 1]]


async def test_a_read_leaves_no_reference_cycles(demo_site):
    """Every object a public read makes is freed by reference counting when it answers.

    A cycle through the context (the loaders' own methods, graphql-core's helpers) kept
    each request's rows alive until a collection; under load the collector's pauses were
    the uncached path's p99. Only the test client's own cycle (httpx) may remain.
    """
    import gc

    query = (OPERATIONS / "ArticlePage.graphql").read_text()
    path = (await demo_site.post("/graphql", json={"query": '{ articles(first: 1) { edges { node { url } } } }'})).json()
    variables = {"urlPath": path["data"]["articles"]["edges"][0]["node"]["url"]}
    assert (await demo_site.post("/graphql", json={"query": query, "variables": variables})).json()["data"]["page"]
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            response = await demo_site.post("/graphql", json={"query": query, "variables": variables})
            assert response.json()["data"]["page"]["headline"]
        del response
        gc.collect()
        ours = [type(o) for o in gc.garbage if not type(o).__module__.startswith(("httpx", "builtins", "_asyncio", "asyncio"))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == []
