"""What every operation is refused for before it is parsed, over HTTP and on a WebSocket alike."""

from __future__ import annotations

from http import HTTPStatus

import orjson

from service.settings import Settings

PREFLIGHT_HEADERS = ("authorization", "graphql-require-preflight", "apollo-require-preflight", "x-apollo-operation-name")
MAX_VARIABLE_DEPTH = 32


def preflighted(headers) -> bool:
    """Whether a request carries a header a cross-site HTML form cannot set (a CSRF preflight)."""
    return any(headers.get(name) for name in PREFLIGHT_HEADERS)


def inspect_value(value) -> tuple[bool, int]:
    """(contains a NUL character, nesting depth) of a JSON value, without recursion."""
    stack, nul, deepest = [(value, 1)], False, 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, str):
            nul = nul or "\x00" in item
        elif isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        if deepest > MAX_VARIABLE_DEPTH:
            break
    return nul, deepest


def refusal(variables, operation_name, settings: Settings) -> tuple[HTTPStatus, str] | None:
    """Why an operation is refused before it is parsed (HTTP status, message), or None.

    The checks every operation gets, over HTTP and on a WebSocket alike.
    """
    # NUL characters in the document's own strings are the guard's (BAD_USER_INPUT, in every argument).
    nul, depth = inspect_value([variables, operation_name])
    if depth > MAX_VARIABLE_DEPTH:
        return HTTPStatus.BAD_REQUEST, f"Variables nest deeper than {MAX_VARIABLE_DEPTH - 2} levels."
    if nul:
        return HTTPStatus.BAD_REQUEST, "The request contains a NUL character, which no field accepts."
    if variables:
        try:
            size = len(orjson.dumps(variables, default=str))
        except orjson.JSONEncodeError:  # integers past 64 bits: no Int or Float takes them either
            return HTTPStatus.BAD_REQUEST, "Variables hold a number too large for any field."
        if size > settings.max_variables_bytes:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"Variables are larger than {settings.max_variables_bytes} bytes."
    return None
