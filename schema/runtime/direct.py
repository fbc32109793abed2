"""Argument-free resolvers called straight from graphql-core.

Strawberry wraps every resolver in argument conversion, an Info object and its
extension chain: ~10 us a call, and an article page resolves ~80 such fields
(ids, urls, replies ...), a quarter of its time. Resolvers without arguments,
permissions or field extensions need none of it; the ones that take `info` only
read `info.context`, which graphql-core's own info object carries too (a test in
tests/test_schema.py reads their source to keep it so).

Relies on: strawberry keeping the built graphql-core schema on `Schema._schema`
(see graphql_internals.core_schema), the "strawberry-definition" key of each
GraphQL field's extensions, and `StrawberryField.base_resolver`, `.arguments`,
`.extensions`, `.permission_classes`, `StrawberryResolver.info_parameter` and
`.wrapped_func`. If one goes, import fails with an AttributeError (or, for the
extensions key, nothing is replaced and pages get ~25 % slower);
tests/test_runtime_assumptions.py names which.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLObjectType

from schema.runtime.graphql_internals import core_schema


def install(built: strawberry.Schema) -> int:
    """Replace the resolvers that need none of strawberry's wrapping; returns how many."""
    replaced = 0
    for graphql_type in core_schema(built).type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get("strawberry-definition")
            resolver = getattr(field, "base_resolver", None)
            if resolver is None or field.arguments or field.extensions or field.permission_classes:
                continue
            if resolver.info_parameter is not None:
                graphql_field.resolve = lambda source, info, _fn=resolver.wrapped_func: _fn(source, info)
            else:
                graphql_field.resolve = lambda source, info, _fn=resolver.wrapped_func: _fn(source)
            replaced += 1
    return replaced
