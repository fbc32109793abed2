"""GraphQL errors for bad arguments, carrying a code in `extensions`."""

from __future__ import annotations

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
