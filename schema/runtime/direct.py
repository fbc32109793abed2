"""Resolvers called straight from graphql-core, without strawberry's wrapping.

Strawberry wraps every resolver in argument conversion, an Info object and its
extension chain (and, for an async resolver, a coroutine of its own): ~10 us a
call, and an article page resolves ~80 such fields (ids, urls, replies ...), a
quarter of its time. Resolvers without permissions or field extensions need none
of it when their arguments are plain scalars (strings, numbers, booleans, IDs,
dates, or null): graphql-core has already coerced those to the very values
strawberry would pass, so only their names change (`urlPath` -> `url_path`). The
ones that take `info` only read `info.context`, which graphql-core's own info
object carries too (a test in tests/test_schema.py reads their source to keep it
so).

Relies on: strawberry keeping the built graphql-core schema on `Schema._schema`
(see graphql_internals.core_schema), the "strawberry-definition" key of each
GraphQL field's extensions, and `StrawberryField.base_resolver`, `.arguments`
(with `python_name` and `type`, StrawberryOptional and StrawberryMaybe),
`.extensions`, `.permission_classes`, `StrawberryResolver.info_parameter` and
`.wrapped_func`, and the schema config's `name_converter.from_argument`. If one
goes, import fails with an AttributeError (or, for the extensions key, nothing is
replaced and pages get ~25 % slower); tests/test_runtime_assumptions.py names
which.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLObjectType
from strawberry.types.base import StrawberryMaybe, StrawberryOptional

from schema.runtime.graphql_internals import core_schema

# Argument types graphql-core coerces to the Python value strawberry would pass unchanged.
PLAIN_TYPES = (str, int, float, bool, strawberry.ID, datetime)


def plain_arguments(field) -> bool:
    """Whether every argument of a strawberry field is a plain scalar (or its optional)."""
    for argument in field.arguments:
        kind = argument.type
        if isinstance(kind, StrawberryMaybe):
            return False
        if isinstance(kind, StrawberryOptional):
            kind = kind.of_type
        if not any(kind is plain for plain in PLAIN_TYPES):
            return False
    return True


def install(built: strawberry.Schema) -> int:
    """Replace the resolvers that need none of strawberry's wrapping; returns how many."""
    replaced = 0
    schema = core_schema(built)
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        if graphql_type is schema.subscription_type:
            continue  # its resolvers make the event streams; strawberry resolves each event to itself
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get("strawberry-definition")
            resolver = getattr(field, "base_resolver", None)
            if resolver is None or field.extensions or field.permission_classes or not plain_arguments(field):
                continue
            fn = resolver.wrapped_func
            if field.arguments:
                names = {built.config.name_converter.from_argument(a): a.python_name for a in field.arguments}
                info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
                graphql_field.resolve = _with_arguments(fn, names, info_name)
            elif resolver.info_parameter is not None:
                graphql_field.resolve = lambda source, info, _fn=fn: _fn(source, info)
            else:
                graphql_field.resolve = lambda source, info, _fn=fn: _fn(source)
            replaced += 1
    return replaced


def _with_arguments(fn, names: dict[str, str], info_name: str | None):
    """A resolver taking graphql-core's coerced arguments (GraphQL names) as the Python parameters."""
    if info_name is None:
        def resolve(source, info, **arguments):
            return fn(source, **{names[name]: value for name, value in arguments.items()})
    else:
        def resolve(source, info, **arguments):
            return fn(source, **{info_name: info}, **{names[name]: value for name, value in arguments.items()})
    return resolve
