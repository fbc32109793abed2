"""Counting the SQL statements an operation sends."""

from __future__ import annotations

import logging

import pytest


class SQLCounter(logging.Handler):
    """Counts the SQL statements tortoise sends (one DEBUG record each)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s":
            self.statements.append(str(record.args[0]))

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def sql_counter():
    logger = logging.getLogger("tortoise.db_client")
    counter = SQLCounter()
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(level)
    logger.propagate = propagate
