"""Where the GraphQL layer leans on strawberry's and graphql-core's internals, for speed.

- executor.py: the leaf-reading executor and `is_awaitable` for tortoise models.
- direct.py: argument-free resolvers called straight from graphql-core.
- graphql_internals.py: the private attributes the guard (schema/guard.py) and
  the DateTime scalar (schema/scalars.py) read.

Each module says what it relies on and what breaks when it changes;
tests/test_runtime_assumptions.py checks every assumption against the installed
versions (pinned in pyproject.toml) and names the one that broke.
"""
