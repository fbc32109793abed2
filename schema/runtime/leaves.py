"""Which fields the executor (schema/runtime/executor.py) reads straight off their source.

Worked out once, when the schema is built: leaves (scalars and enums read off an
object and coerced by their type's own output coercion) and the other argument-free
fields whose resolver needs neither info nor awaiting. Recorded in the
GraphQLSchema's extensions under PLAN and READERS.
"""

from __future__ import annotations

import inspect
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, GraphQLSchema
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_string

__all__ = ["PLAN", "READERS", "Leaf", "plan"]


class Leaf(NamedTuple):
    read: Any  # source -> value
    coerce: Any  # value -> JSON value (the scalar's or enum's own output coercion)
    non_null: bool
    same: type | None = None  # values of exactly this class are their own coercion (str for String and ID)


# graphql-core's own coercions that give back a value of this class unchanged.
_UNCHANGED = {serialize_string: str, serialize_id: str, serialize_boolean: bool}


PLAN = "masthead-leaves"  # key of the leaves in the GraphQLSchema's extensions
READERS = "masthead-readers"  # and of the other fields read straight off their source


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
    """Record on the schema the fields that can be read directly (leaves, and objects or lists read
    off their source); returns how many leaves."""
    leaves: dict[tuple[str, str], Leaf] = {}
    readers: dict[tuple[str, str], Any] = {}
    for graphql_type in graphql_schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for name, graphql_field in graphql_type.fields.items():
            if graphql_field.args:
                continue
            read = _reader(graphql_field)
            if read is None:
                continue
            return_type = graphql_field.type
            non_null = isinstance(return_type, GraphQLNonNull)
            if non_null:
                return_type = return_type.of_type
            if isinstance(return_type, (GraphQLScalarType, GraphQLEnumType)):
                coerce = return_type.coerce_output_value
                leaves[(graphql_type.name, name)] = Leaf(read, coerce, non_null, _UNCHANGED.get(coerce))
            else:
                readers[(graphql_type.name, name)] = read
    graphql_schema.extensions = {**(graphql_schema.extensions or {}), PLAN: leaves, READERS: readers}
    return len(leaves)
