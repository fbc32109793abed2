"""Who may call a field: role permissions declared on queries and mutations alike.

`@strawberry.field(permission_classes=[IsEditor])` refuses a caller without a token
(UNAUTHENTICATED) or with too small a role (PERMISSION_DENIED) before the resolver
runs. A query answers the refusal as a top-level error with `extensions.code`; a
mutation built with `schema.payloads.mutation` answers it in its payload's `errors`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.permission import BasePermission

from schema.context import Info
from service import auth
from service.errors import ErrorCode
from service.models import Role


class Denied(GraphQLError):
    """A refusal: the code (UNAUTHENTICATED or PERMISSION_DENIED) rides in `extensions.code`."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message, extensions={"code": code.value})
        self.code = code


class RoleRequired(BasePermission):
    """The caller's token must hold `role` (or a role above it)."""

    role: ClassVar[Role]

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        token = await info.context.token()
        if token is None:
            raise Denied("Authentication required: send Authorization: Bearer <token>.", ErrorCode.UNAUTHENTICATED)
        if not auth.allows(token.role, self.role):
            raise Denied(f"This needs the {self.role.value} role.", ErrorCode.PERMISSION_DENIED)
        return True


class IsModerator(RoleRequired):
    role = Role.MODERATOR


class IsEditor(RoleRequired):
    role = Role.EDITOR


class IsPublisher(RoleRequired):
    role = Role.PUBLISHER


class IsAdmin(RoleRequired):
    role = Role.ADMIN


async def actor(info: Info) -> str:
    """The name of the token the permission check admitted (the context keeps it for the request)."""
    token = await info.context.token()
    return token.name
