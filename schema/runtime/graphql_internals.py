"""The private strawberry and graphql-core details the guard and the DateTime scalar read.

The guard (schema/guard.py) does strawberry's parse and validation itself, with
limits strawberry lacks (a token limit, an error limit) and a cache keyed by the
parsed document's identity: a known operation costs a few dictionary lookups
where strawberry's ValidationCache hashes the whole syntax tree on every request.
To do that it needs:

- `core_schema`: the graphql-core schema strawberry built, kept on the private
  `Schema._schema` (also read by direct.py and the executor's plan).
- `provided_operation_name`: the operationName the client sent. Strawberry's
  public `ExecutionContext.operation_name` falls back to the document's first
  operation; only the private `_provided_operation_name` tells that none was
  given, which the guard must refuse for a document of several operations.
- `STRAWBERRY_VALIDATION_RULES`: the two rules strawberry's `validate_document`
  adds to graphql-core's, imported from `strawberry.schema.validation_rules`,
  a path strawberry does not export.
- Two behaviours of strawberry's pipeline: a `graphql_document` an extension
  sets in `on_parse` is not parsed again, and `pre_execution_errors` set in
  `on_validate` replace strawberry's own validation.

The DateTime scalar (schema/scalars.py) keeps strawberry's serialisation and
description and changes only the parser: `datetime_scalar` copies strawberry's
`DateTimeDefinition` and wraps the parser with its `wrap_parser`, both from the
unexported `strawberry.schema.types.base_scalars`.

If one of these changes: a missing attribute or module fails at import (the
rules, the scalar) or on the first request (`_schema`); a lost
`_provided_operation_name` quietly runs the first of several operations instead
of refusing the document; if strawberry parsed or validated again, every request
would pay for it twice and the error limit would be lost.
tests/test_runtime_assumptions.py checks each and names the one that broke.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLSchema
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.scalar import ScalarDefinition

# What strawberry's validate_document adds to graphql-core's specified rules.
STRAWBERRY_VALIDATION_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


def core_schema(built: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema a strawberry Schema built."""
    return built._schema


def provided_operation_name(execution_context: Any) -> str | None:
    """The operationName the client sent (None when it sent none), not strawberry's guess."""
    return getattr(execution_context, "_provided_operation_name", execution_context.operation_name)


def datetime_scalar(parse: Callable[[str], datetime]) -> ScalarDefinition:
    """Strawberry's DateTime scalar with another parser (a ValueError becomes its usual GraphQL error)."""
    return ScalarDefinition(
        name=DateTimeDefinition.name,
        description=DateTimeDefinition.description,
        specified_by_url=DateTimeDefinition.specified_by_url,
        serialize=DateTimeDefinition.serialize,
        parse_value=wrap_parser(parse, "DateTime"),
        parse_literal=None,
        origin=datetime,
    )
