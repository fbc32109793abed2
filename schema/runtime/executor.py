"""A graphql-core executor that skips its machinery where a field needs none of it.

An article page resolves ~270 fields and ~190 of them are leaves read straight off
an object: a title, a url, a date. graphql-core gives each one a resolve-info
object, an error boundary, two awaitable checks and a completion pass, about three
quarters of the time the page takes to execute. Here such a field is read and
coerced directly; anything unusual (null where the type forbids it, a value the
scalar refuses, an exception) falls back to the full path, which reports the
error exactly as before. The plan is worked out once, when the schema is built.

Relies on: graphql-core's `ExecutionContext.execute_field(parent_type, source,
field_details_list, path, position_context)` (marked private in graphql-core 3.3)
and its `is_awaitable` and `middleware_manager._middleware_resolvers` attributes;
strawberry's `StrawberryGraphQLCoreExecutionContext`, the "strawberry-definition"
key of a GraphQL field's extensions, `StrawberryField.base_resolver` (with
`info_parameter` and `wrapped_func`) and the `_is_default` mark on its getattr
resolver; `strawberry.execution.is_awaitable.optimized_is_awaitable`; tortoise
models defining `__await__`. If `execute_field` changes shape every field fails
(tests/test_executor.py compares with the stock executor); if the default
resolver loses its mark, plain fields quietly take the full path again (the
slower execution above, same answers). tests/test_runtime_assumptions.py names each one.
"""

from __future__ import annotations

import inspect
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from strawberry.execution.is_awaitable import optimized_is_awaitable
from tortoise.models import Model
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Leaf(NamedTuple):
    read: Any  # source -> value
    coerce: Any  # value -> JSON value (the scalar's or enum's own output coercion)
    non_null: bool


PLAN = "masthead-leaves"  # key of the plan in the GraphQLSchema's extensions


def _reader(graphql_field) -> Any:
    """How to read a field without graphql-core's help, or None when it needs the full path."""
    field = (graphql_field.extensions or {}).get("strawberry-definition")
    if field is None or field.arguments or field.extensions or field.permission_classes:
        return None
    resolver = field.base_resolver
    if resolver is None:
        # Strawberry's "basic" field: its default resolver is getattr.
        if not getattr(graphql_field.resolve, "_is_default", False):
            return None
        return attrgetter(field.python_name)
    if resolver.info_parameter is not None or inspect.iscoroutinefunction(resolver.wrapped_func):
        return None
    return resolver.wrapped_func


def plan(graphql_schema: GraphQLSchema) -> int:
    """Record on the schema the leaf fields that can be read directly; returns how many."""
    leaves: dict[tuple[str, str], Leaf] = {}
    for graphql_type in graphql_schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for name, graphql_field in graphql_type.fields.items():
            if graphql_field.args:
                continue
            return_type = graphql_field.type
            non_null = isinstance(return_type, GraphQLNonNull)
            if non_null:
                return_type = return_type.of_type
            if not isinstance(return_type, (GraphQLScalarType, GraphQLEnumType)):
                continue
            read = _reader(graphql_field)
            if read is not None:
                leaves[(graphql_type.name, name)] = Leaf(read, return_type.coerce_output_value, non_null)
    graphql_schema.extensions = {**(graphql_schema.extensions or {}), PLAN: leaves}
    return len(leaves)


def is_awaitable(value: Any) -> bool:
    """Tortoise models define `__await__` (awaiting one returns itself), so graphql-core
    took every page and comment a resolver returned for a pending value: a coroutine
    and a task each, 30 of them on an article page. They are plain values here."""
    if isinstance(value, Model):
        return False
    return optimized_is_awaitable(value)


class Executor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable
        manager = self.middleware_manager
        wrapped = manager is not None and getattr(manager, "_middleware_resolvers", None) is not None
        # Middleware must see every field; a schema never planned gets the full path.
        self._leaves = {} if wrapped else (self.schema.extensions or {}).get(PLAN, {})
        surrogate = getattr(getattr(self.context_value, "loaders", None), "surrogate", None)
        if surrogate is not None:  # only a query's answer may be cached (schema/caching.py)
            surrogate.operation = self.operation.operation

    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        name = field_details_list[0].node.name.value
        if name == "__typename":
            return parent_type.name
        leaf = self._leaves.get((parent_type.name, name))
        if leaf is not None:
            try:
                value = leaf.read(source)
                if value is None:
                    if not leaf.non_null:
                        return None
                else:
                    coerced = leaf.coerce(value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # noqa: BLE001 - the full path below reports it properly
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

