"""One app factory, a clean database per test, on SQLite and (when reachable) PostgreSQL.

The fixtures live by concern in plugin modules beside this file: fixtures_app (the
app, its databases, HTTP and GraphQL clients), fixtures_cli (the `masthead`
command), fixtures_sql (the statement counter), fixtures_server (`masthead serve`
subprocesses). Tests import their helpers from here as before.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["fixtures_app", "fixtures_cli", "fixtures_sql", "fixtures_server", "fixtures_varnish"]
pytest.register_assert_rewrite(*pytest_plugins)  # they are imported below, before pytest loads them as plugins

from fixtures_app import (  # noqa: E402, F401 - helpers tests import from conftest
    BACKENDS,
    GraphQLClient,
    create_postgres_database,
    drop_postgres_database,
    postgres_server_url,
    truncate,
    with_database,
)
from fixtures_cli import run_cli  # noqa: E402, F401
from fixtures_server import Server, free_port  # noqa: E402, F401
from fixtures_sql import SQLCounter  # noqa: E402, F401

# The frontend teams' operations live in ../shared/contract; byte-identical copies in
# schema/operations are what the suite runs, so a clone of this repository alone passes.
OPERATIONS_DIR = Path(__file__).resolve().parents[1] / "schema" / "operations"
CONTRACT_NAMES = ("AddComment", "ArticleList", "ArticlePage", "CommentAdded", "HomePage", "Node", "SectionPage")
SHARED_CONTRACT_DIR = Path(__file__).resolve().parents[2] / "shared" / "contract"
if not SHARED_CONTRACT_DIR.exists():  # a checkout beside shared/ under another name
    SHARED_CONTRACT_DIR = Path(os.environ.get("MASTHEAD_CONTRACT_DIR", "../shared/contract")).resolve()


@pytest.fixture(scope="session")
def contract() -> dict[str, str]:
    """The frontend contract operations, by name, from their copies in schema/operations."""
    return {name: (OPERATIONS_DIR / f"{name}.graphql").read_text() for name in CONTRACT_NAMES}


def pytest_collection_modifyitems(config, items):
    """Fault scenarios last: they restart PostgreSQL, which every other test's pool would notice."""
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)
