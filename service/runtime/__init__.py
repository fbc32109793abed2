"""Where the service leans on tortoise's, asyncpg's and uvicorn's internals.

- rows.py: model instances built from raw rows without tortoise's generic path.
- pgclient.py: tortoise's asyncpg client, safe while PostgreSQL restarts.
- serving.py: uvicorn's HTTP protocol, with a shutdown that answers kept-alive clients.

Each module says what it relies on and what breaks when it changes;
tests/test_runtime_assumptions.py checks every assumption against the installed
versions (pinned in pyproject.toml) and names the one that broke.
"""
