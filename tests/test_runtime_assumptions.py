"""What schema/runtime and service/runtime assume of strawberry, graphql-core, tortoise and uvicorn.

Each test checks one assumption against the installed versions and, when it no
longer holds, fails with a message naming it and the module to revisit. Run this
file first after changing a pin in pyproject.toml.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def assumption(what: str, where: str):
    """Turn any failure inside into one message: which assumption broke, and where it is relied on."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the point is to name it
        message = f"{what} no longer holds; {where} must be revisited. ({type(error).__name__}: {error})"
        raise pytest.fail.Exception(message, pytrace=False) from None


# -- a tiny schema of our own, built fresh in each test -----------------------------


@strawberry.type
class Thing:
    name: str

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return info.context["where"]


@strawberry.type
class TagType:
    name: str


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing(name="calm")

    @strawberry.field
    def other(self) -> str:
        return "other"

    @strawberry.field
    def tag(self) -> TagType:
        from service import models
        from service.runtime.rows import build_instance

        return build_instance(models.Tag, {"id": 1, "name": "harbour", "slug": "harbour"})


def tiny(*extensions) -> strawberry.Schema:
    from schema.runtime.executor import Executor

    return strawberry.Schema(query=Query, extensions=list(extensions), execution_context_class=Executor)


# -- versions -------------------------------------------------------------------------


def test_installed_versions_match_the_pins_in_pyproject():
    from packaging.requirements import Requirement

    pinned = ("strawberry-graphql", "graphql-core", "tortoise-orm", "starlette", "uvicorn")
    requirements = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    found = {r.name: r for r in requirements}
    for name in pinned:
        assert name in found, f"pyproject.toml no longer pins {name}: the README's 'Pinned versions and why' says why it should"
        installed = metadata.version(name)
        assert found[name].specifier.contains(installed, prereleases=True), (
            f"{name} {installed} is installed but pyproject.toml pins {found[name].specifier}: "
            "reinstall (make test), or update the pin once this file passes with the new version"
        )


# -- strawberry and graphql-core (schema/runtime) --------------------------------------


def test_strawberry_keeps_the_graphql_core_schema_on_schema_underscore_schema():
    from graphql import GraphQLSchema

    with assumption("strawberry.Schema._schema holds the built graphql-core schema",
                    "schema/runtime/graphql_internals.py (core_schema)"):
        from schema.runtime.graphql_internals import core_schema

        assert isinstance(core_schema(tiny()), GraphQLSchema)


def test_graphql_fields_carry_their_strawberry_definition():
    with assumption("a GraphQL field's extensions hold its StrawberryField under 'strawberry-definition', with "
                    "base_resolver (info_parameter, wrapped_func), arguments, extensions and permission_classes",
                    "schema/runtime/direct.py and schema/runtime/executor.py (_reader)"):
        from schema.runtime.graphql_internals import core_schema

        fields = core_schema(tiny()).type_map["Thing"].fields
        where = fields["where"].extensions["strawberry-definition"]
        assert where.base_resolver.wrapped_func.__qualname__ == "Thing.where"
        assert where.base_resolver.info_parameter is not None
        assert fields["shout"].extensions["strawberry-definition"].base_resolver.info_parameter is None
        assert list(where.arguments) == [] and list(where.extensions) == [] and list(where.permission_classes) == []
        assert fields["name"].extensions["strawberry-definition"].base_resolver is None


def test_strawberry_marks_its_getattr_resolver_as_default():
    with assumption("strawberry marks the resolver of a plain field with `_is_default`",
                    "schema/runtime/executor.py (_reader: plain fields would take graphql-core's full path)"):
        from schema.runtime.graphql_internals import core_schema

        assert core_schema(tiny()).type_map["Thing"].fields["name"].resolve._is_default is True


def test_direct_resolvers_replace_strawberrys_wrapping_and_still_answer():
    import schema as schema_module

    with assumption("argument-free resolvers can be called straight from graphql-core (source, info)",
                    "schema/runtime/direct.py"):
        from schema.runtime import direct
        from schema.runtime.graphql_internals import core_schema

        built = tiny()
        replaced = direct.install(built)
        assert replaced == 5, replaced  # thing, other, tag, shout, where
        shout = core_schema(built).type_map["Thing"].fields["shout"].resolve
        assert [fn.__qualname__ for fn in shout.__defaults__] == ["Thing.shout"]
        result = built.execute_sync("{ thing { name shout where } }", context_value={"where": "here"})
        assert result.errors is None and result.data == {"thing": {"name": "calm", "shout": "CALM", "where": "here"}}
        assert schema_module.DIRECT_RESOLVERS > 20  # the real schema


def test_the_executor_reads_planned_leaves_without_their_resolver():
    with assumption("graphql-core calls Executor.execute_field(parent_type, source, field_details_list, "
                    "path, position_context) for every field, so the executor's leaf plan is used",
                    "schema/runtime/executor.py"):
        from graphql.execution import Executor as ExecutionContext

        from schema.runtime import executor
        from schema.runtime.graphql_internals import core_schema

        parameters = list(inspect.signature(ExecutionContext.execute_field).parameters)
        assert parameters == ["self", "parent_type", "source", "field_details_list", "path", "position_context"]
        built = tiny()
        graphql_schema = core_schema(built)
        assert executor.plan(graphql_schema) >= 4  # name, shout, other, TagType.name ...

        def never(*args):
            raise AssertionError("graphql-core called the resolver of a planned leaf")

        graphql_schema.type_map["Thing"].fields["name"].resolve = never
        result = built.execute_sync("{ thing { name } }")
        assert result.errors is None and result.data == {"thing": {"name": "calm"}}


def test_graphql_core_has_the_executor_methods_the_planned_path_overrides():
    with assumption("graphql-core's Executor keeps the methods (and parameters) schema/runtime/executor.py overrides "
                    "or calls, and collect_fields/collect_subfields, get_argument_values, invalid_return_type_error "
                    "and gather_with_cancel where the executor imports them",
                    "schema/runtime/executor.py and schema/runtime/plans.py"):
        from graphql.execution import Executor as GraphQLCoreExecutor
        from graphql.execution.collect_fields import collect_fields, collect_subfields
        from graphql.execution.executor import invalid_return_type_error
        from graphql.execution.values import get_argument_values
        from graphql.pyutils import gather_with_cancel

        expected = {
            "execute_root_grouped_field_set": ["root_type", "root_value", "grouped_field_set", "serially",
                                               "position_context"],
            "execute_fields": ["parent_type", "source_value", "path", "grouped_field_set", "position_context"],
            "complete_value": ["return_type", "field_details_list", "info", "path", "result", "position_context"],
            "complete_object_value": ["return_type", "field_details_list", "info", "path", "result",
                                      "position_context"],
            "complete_list_value": ["return_type", "field_details_list", "info", "path", "result",
                                    "position_context"],
            "complete_awaitable_value": ["return_type", "field_details_list", "info", "path", "result",
                                         "position_context"],
            "complete_awaitable_list_item_value": ["item", "item_type", "field_details_list", "info", "item_path",
                                                   "position_context"],
            "handle_field_error": ["raw_error", "return_type", "field_details_list", "path"],
            "settle_in_background": ["awaitables"],
            "build_resolve_info": ["field_def", "field_nodes", "parent_type", "path"],
        }
        for name, parameters in expected.items():
            assert list(inspect.signature(getattr(GraphQLCoreExecutor, name)).parameters)[1:] == parameters, name
        assert list(inspect.signature(collect_fields).parameters)[:6] == [
            "schema", "fragments", "variable_values", "runtime_type", "operation", "hide_suggestions"]
        assert list(inspect.signature(collect_subfields).parameters)[:7] == [
            "schema", "fragments", "variable_values", "operation", "return_type", "field_details_list",
            "hide_suggestions"]
        assert list(inspect.signature(get_argument_values).parameters)[:5] == [
            "type_def", "node", "variable_values", "fragment_variable_values", "hide_suggestions"]
        assert callable(invalid_return_type_error) and callable(gather_with_cancel)


def test_the_executor_sees_graphql_cores_middleware_and_awaitable_hooks():
    with assumption("graphql-core's MiddlewareManager keeps `_middleware_resolvers` and its ExecutionContext "
                    "reads `self.is_awaitable`; strawberry has execution.is_awaitable.optimized_is_awaitable",
                    "schema/runtime/executor.py"):
        from graphql.execution.middleware import MiddlewareManager
        from strawberry.execution.is_awaitable import optimized_is_awaitable

        assert MiddlewareManager(lambda next_, *a, **k: next_(*a, **k))._middleware_resolvers is not None
        assert callable(optimized_is_awaitable)


def test_tortoise_models_returned_by_resolvers_are_plain_values():
    import graphql

    with assumption("graphql-core asks its executor's is_awaitable before awaiting a value, so a tortoise model "
                    "(it defines __await__) returned by a resolver is not awaited",
                    "schema/runtime/executor.py (is_awaitable)"):
        from schema.runtime.executor import Executor
        from schema.runtime.graphql_internals import core_schema

        result = graphql.execute(core_schema(tiny()), graphql.parse("{ tag { name } }"), executor_class=Executor)
        assert not inspect.isawaitable(result), "the model was taken for a pending value"
        assert result.errors is None and result.data == {"tag": {"name": "harbour"}}


def test_the_execution_context_keeps_the_operation_name_the_client_sent():
    seen = []

    class Capture(SchemaExtension):
        def on_execute(self):
            seen.append(self.execution_context)
            yield

    with assumption("strawberry's ExecutionContext keeps the client's operationName in `_provided_operation_name` "
                    "(None when none was sent) while `operation_name` falls back to the first operation",
                    "schema/runtime/graphql_internals.py (provided_operation_name) and the guard's "
                    "several-operations check"):
        from schema.runtime.graphql_internals import provided_operation_name

        built = tiny(Capture)
        built.execute_sync("query A { other } query B { other }", operation_name="B")
        built.execute_sync("query A { other }")
        assert vars(seen[0])["_provided_operation_name"] == "B"
        assert vars(seen[1])["_provided_operation_name"] is None and seen[1].operation_name == "A"
        assert provided_operation_name(seen[1]) is None


def test_strawberry_uses_the_document_an_extension_parsed_and_the_errors_it_validated():
    from graphql import parse

    class Parsed(SchemaExtension):
        def on_parse(self):
            self.execution_context.graphql_document = parse("{ other }")
            yield

    class Validated(SchemaExtension):
        def on_validate(self):
            self.execution_context.pre_execution_errors = []
            yield

    with assumption("strawberry does not parse again a `graphql_document` an extension set in on_parse",
                    "schema/guard.py (on_parse) via schema/runtime/graphql_internals.py"):
        result = tiny(Parsed).execute_sync("{ thing { name } }")
        assert result.data == {"other": "other"}
    with assumption("strawberry does not validate again when an extension set `pre_execution_errors` in on_validate",
                    "schema/guard.py (on_validate) via schema/runtime/graphql_internals.py"):
        result = tiny(Validated).execute_sync("{ other nope }")
        assert result.errors is None and result.data == {"other": "other"}


def test_the_guard_adds_the_validation_rules_strawberry_adds():
    with assumption("strawberry's validate_document adds exactly MaybeNullValidationRule and "
                    "OneOfInputValidationRule (from strawberry.schema.validation_rules) to graphql-core's rules",
                    "schema/runtime/graphql_internals.py (STRAWBERRY_VALIDATION_RULES)"):
        from strawberry.schema.schema import validate_document

        from schema.runtime.graphql_internals import STRAWBERRY_VALIDATION_RULES

        rules = [n for n in validate_document.__code__.co_names if n.endswith("Rule")]
        assert tuple(validate_document.__globals__[n] for n in rules) == STRAWBERRY_VALIDATION_RULES, rules


def test_the_datetime_scalar_copies_strawberrys_own():
    from datetime import datetime, timezone

    from graphql import GraphQLError

    with assumption("strawberry.schema.types.base_scalars has DateTimeDefinition and wrap_parser (a ValueError "
                    "becomes a GraphQLError)", "schema/runtime/graphql_internals.py (datetime_scalar)"):
        from schema import schema
        from schema.runtime.graphql_internals import core_schema

        scalar = core_schema(schema).type_map["DateTime"]
        assert scalar.parse_value("2024-07-16T00:00:00Z") == datetime(2024, 7, 16, tzinfo=timezone.utc)
        assert scalar.serialize(datetime(2024, 7, 16, tzinfo=timezone.utc)) == "2024-07-16T00:00:00+00:00"
        with pytest.raises(GraphQLError, match="DateTime"):
            scalar.parse_value("0001-01-01T00:00:00+14:00")


async def test_the_guard_reads_the_operation_name_and_validates_alone_on_a_real_request(client):
    with assumption("on a real request the guard tells a missing operationName from strawberry's guess, and its "
                    "own validation (error limit) is the only one", "schema/runtime/graphql_internals.py"):
        two = "query A { site { name } } query B { site { name } }"
        body = (await client.post("/graphql", json={"query": two})).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
        assert "several operations" in body["errors"][0]["message"]
        body = (await client.post("/graphql", json={"query": two, "operationName": "B"})).json()
        assert "errors" not in body and body["data"]["site"]["name"], body
        unknown = "{ " + " ".join(f"f{i}" for i in range(15)) + " }"
        body = (await client.post("/graphql", json={"query": unknown})).json()
        assert 1 < len(body["errors"]) <= 11, len(body["errors"])  # 10, then "Too many validation errors"


# -- tortoise, asyncpg and uvicorn (service/runtime) -----------------------------------


async def test_rows_builds_the_instance_tortoise_would_load(client):
    from service import db, models

    with assumption("a tortoise instance is its field values plus _partial, _saved_in_db, _custom_generated_pk "
                    "and _await_when_save in __dict__; Model._init_from_db(**row) and "
                    "_meta.fields_db_projection exist", "service/runtime/rows.py"):
        from service.runtime.rows import build_instance, column_names, load_row

        tag = await models.Tag.create(name="Harbour", slug="harbour")
        loaded = await models.Tag.get(id=tag.id)
        [row] = await db.read(f"SELECT {', '.join(column_names(models.Tag))} FROM tag WHERE id = $1", tag.id)
        built = build_instance(models.Tag, dict(row))
        assert vars(built) == vars(loaded)
        assert vars(load_row(models.Tag, dict(row))) == vars(loaded)
        built.name = "Harbours"
        await built.save()  # an instance built here updates its row like a loaded one
        assert (await models.Tag.get(id=tag.id)).name == "Harbours"
        assert await models.Tag.all().count() == 1


async def test_every_model_column_is_a_column_of_its_table(client):
    from service import db

    with assumption("Model._meta.fields_db_projection names the model's columns, and Tortoise.apps lists the "
                    "models (with _meta.db_table and m2m_fields)", "service/runtime/rows.py (column_names) and "
                    "tests/fixtures_app.py (model_tables)"):
        from tortoise import Tortoise
        from tortoise.models import Model

        from fixtures_app import model_tables
        from service import models
        from service.runtime.rows import column_names

        declared = {value._meta.db_table for value in vars(models).values()
                    if isinstance(value, type) and issubclass(value, Model) and value is not Model}
        assert set(model_tables()) >= declared
        for app in Tortoise.apps.values():
            for model in app.values():
                await db.read(f"SELECT {', '.join(column_names(model))} FROM {model._meta.db_table} LIMIT 0")


async def test_the_hardened_asyncpg_client_plugs_into_tortoise(client, backend):
    with assumption("tortoise's asyncpg client, transaction wrapper and pooled contexts keep the hooks "
                    "service/runtime/pgclient.py overrides", "service/runtime/pgclient.py"):
        from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
        from tortoise.backends.base.client import NestedTransactionContext, PoolConnectionWrapper, TransactionContextPooled

        from service.runtime import pgclient

        for cls, names in {
            AsyncpgDBClient: ("_translate_exceptions", "acquire_connection", "_in_transaction"),
            TransactionWrapper: ("_translate_exceptions", "commit", "rollback", "_in_transaction"),
            TransactionContextPooled: ("ensure_connection", "__aenter__", "__aexit__"),
            PoolConnectionWrapper: ("__aenter__", "__aexit__"),
        }.items():
            for name in names:
                assert name in vars(cls) or any(name in vars(base) for base in cls.__mro__[1:-1]), f"{cls.__name__}.{name}"
        assert list(inspect.signature(PoolConnectionWrapper.__init__).parameters) == ["self", "client", "pool_init_lock"]
        assert list(inspect.signature(TransactionContextPooled.__init__).parameters) == ["self", "client", "pool_init_lock"]
        assert list(inspect.signature(NestedTransactionContext.__init__).parameters) == ["self", "client"]
        assert re.search(r"self\._finalized\b", inspect.getsource(TransactionWrapper))
        assert re.search(r"self\._parent\b", inspect.getsource(TransactionWrapper))
    pyx = Path(inspect.getfile(__import__("asyncpg"))).parent / "protocol" / "coreproto.pyx"
    if pyx.exists():
        with assumption("asyncpg says 'cannot switch to state' when an operation starts on a connection the server "
                        "closed", "service/runtime/pgclient.py (_stale)"):
            assert "'cannot switch to state {}; '" in pyx.read_text()
    if backend != "postgres":
        return
    with assumption("tortoise builds the client from the engine module's client_class, and transactions go "
                    "through its _in_transaction", "service/runtime/pgclient.py and service/db.py"):
        from tortoise.transactions import in_transaction

        from service import db, models

        connection = db.connection()
        assert type(connection) is pgclient.MastheadAsyncpgClient
        assert connection._pool is not None and connection._pool_init_lock is not None
        async with in_transaction("default") as transaction:
            assert isinstance(transaction, pgclient.MastheadTransactionWrapper)
            assert transaction._parent is connection and transaction._connection is not None
            await models.Tag.create(name="Harbour", slug="harbour", using_db=transaction)
        assert await models.Tag.filter(slug="harbour").count() == 1


async def test_the_inline_sqlite_client_plugs_into_tortoise(client, backend):
    with assumption("tortoise's SQLite client makes its connection in create_connection only, and it and its "
                    "transaction wrapper call nothing on that connection but what InlineConnection has",
                    "service/runtime/sqliteclient.py"):
        from tortoise.backends.base.client import ConnectionWrapper
        from tortoise.backends.sqlite import client as tortoise_sqlite

        from service.runtime.sqliteclient import InlineConnection

        source = inspect.getsource(tortoise_sqlite)
        called = set(re.findall(r"(?:connection|_connection)\.(\w+)\(", source)) | {
            name for name in re.findall(r"(?:connection|_connection)\.(\w+)\b", source) if name == "total_changes"}
        assert called <= {"execute", "execute_fetchall", "execute_insert", "executemany", "executescript", "commit",
                          "rollback", "close", "total_changes", "_post_connect", "create_connection"} | {
                              "execute_query", "_in_transaction", "begin"}, called  # the last three: the wrapper's own
        for name in called & {"execute", "execute_fetchall", "execute_insert", "executemany", "executescript", "commit",
                              "rollback", "close", "total_changes"}:
            assert hasattr(InlineConnection, name), name
        assert source.count("aiosqlite.connect(") == 1  # the one place: create_connection, which we override
        assert "self.client._connection" in inspect.getsource(ConnectionWrapper)
    if backend != "sqlite":
        return
    with assumption("tortoise builds the SQLite client from the engine module's client_class", "service/db.py"):
        from tortoise.transactions import in_transaction

        from service import db, models
        from service.runtime import sqliteclient

        connection = db.connection()
        assert type(connection) is sqliteclient.InlineSqliteClient
        async with in_transaction("default") as transaction:
            assert isinstance(transaction._connection, sqliteclient.InlineConnection)
            await models.Tag.create(name="Harbour", slug="harbour", using_db=transaction)
        assert await models.Tag.filter(slug="harbour").count() == 1


def test_uvicorn_loads_our_http_protocol_and_keeps_its_shutdown_hooks():
    with assumption("uvicorn loads `http=\"module:Class\"` and its HttpToolsProtocol keeps shutdown(), cycle, "
                    "pipeline, transport, loop, timeout_keep_alive(_task/_handler), _unset_keepalive_if_required "
                    "and on_headers_complete/on_response_complete", "service/runtime/serving.py"):
        import asyncio

        from uvicorn.config import Config
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
        from uvicorn.server import ServerState

        from service.runtime.serving import GracefulHttpToolsProtocol

        async def app(scope, receive, send):  # pragma: no cover - never called
            pass

        config = Config(app=app, http="service.runtime.serving:GracefulHttpToolsProtocol", lifespan="off")
        config.load()
        assert config.http_protocol_class is GracefulHttpToolsProtocol
        loop = asyncio.new_event_loop()
        try:
            protocol = GracefulHttpToolsProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        finally:
            loop.close()
        for name in ("cycle", "pipeline", "transport", "loop", "timeout_keep_alive", "timeout_keep_alive_task"):
            assert hasattr(protocol, name), name
        for name in ("shutdown", "timeout_keep_alive_handler", "_unset_keepalive_if_required",
                     "on_headers_complete", "on_response_complete"):
            assert callable(getattr(HttpToolsProtocol, name, None)), name
        cycle = inspect.getsource(RequestResponseCycle.__init__)
        for name in ("keep_alive", "response_started", "response_complete"):
            assert f"self.{name} =" in cycle, name


def test_strawberrys_websocket_handler_keeps_the_hook_schema_sockets_overrides():
    with assumption("strawberry's graphql-transport-ws handler has _handle_pre_execution_error and "
                    "_get_pre_execution_close_reason", "schema/sockets.py"):
        from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

        assert callable(BaseGraphQLTransportWSHandler._handle_pre_execution_error)
        assert callable(BaseGraphQLTransportWSHandler._get_pre_execution_close_reason)
