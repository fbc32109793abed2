"""GraphQL errors for bad arguments, carrying a code in `extensions`."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from graphql import GraphQLError

from service.errors import UserError


class BadInput(GraphQLError):
    """An argument the caller must fix: shown to clients, never masked."""

    def __init__(self, message: str, field: str | None = None) -> None:
        extensions = {"code": "BAD_USER_INPUT"}
        if field:
            extensions["argument"] = field
        super().__init__(message, extensions=extensions)

    @classmethod
    def from_user_error(cls, error: UserError) -> BadInput:
        return cls(error.message, error.field)


log = logging.getLogger("masthead.graphql")
# Codes that say the server could not answer, rather than that the client asked wrongly.
SERVER_SIDE = frozenset({"TIMEOUT", "DATABASE_UNAVAILABLE"})


def deliberate(error: GraphQLError) -> bool:
    """Raised on purpose (coded, a parse or validation error, a GraphQLError), not a bug."""
    original = error.original_error
    return "code" in (error.extensions or {}) or original is None or isinstance(original, GraphQLError)


def log_coded(request_id: str, codes: Iterable[str]) -> None:
    """One line for a request's coded errors: its id and codes, never the document or variables
    (a document can hold an email address). Unexpected errors are logged apart, with a traceback."""
    shown = sorted(set(codes) - {"INTERNAL_SERVER_ERROR"})
    if not shown:
        return
    if SERVER_SIDE.intersection(shown):
        log.warning("request failed [%s] %s", request_id, " ".join(shown))
    else:
        log.info("client error [%s] %s", request_id, " ".join(shown))


def log_errors(errors: Iterable[GraphQLError], request_id: str) -> None:
    """Log errors by the rule above: one line for the deliberate, a traceback for each unexpected."""
    codes = []
    for error in errors:
        if deliberate(error):
            codes.append((error.extensions or {}).get("code") or "BAD_USER_INPUT")
        else:
            log.error("unexpected error [%s] at %s", request_id, error.path, exc_info=error.original_error)
    log_coded(request_id, codes)


def check_first(first: int, limit: int, name: str = "first") -> int:
    if first < 0 or first > limit:
        raise BadInput(f"`{name}` must be between 0 and {limit}; got {first}.", name)
    return first


def camel(name: str | None) -> str | None:
    """snake_case service field names as clients see them (authorEmail, body.2)."""
    if name is None:
        return None
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
