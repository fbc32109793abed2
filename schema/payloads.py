"""User errors as payload data: one field extension for every mutation.

A service function raises `service.errors.UserError` for anything the caller can
fix; a mutation made with `mutation(...)` below answers it as its payload type
with `errors=[UserError]` (field camelCased) and nothing else set. A permission
refusal (schema.permissions.Denied) is answered the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.types.field import StrawberryField

from schema.context import Info
from schema.errors import camel
from schema.permissions import Denied
from service import errors as service_errors

ErrorCode = strawberry.enum(service_errors.ErrorCode, name="ErrorCode", description="What went wrong, for programs.")


@strawberry.type(description="A mistake the caller can fix; nothing was stored.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault (camelCase), if one is.")
    code: ErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation, safe to show.")
    retry_after: int | None = strawberry.field(
        default=None, description="With RATE_LIMITED: seconds to wait before trying again."
    )

    @classmethod
    def from_exception(cls, error: service_errors.UserError) -> UserError:
        return cls(field=camel(error.field), code=error.code, message=error.message, retry_after=error.retry_after)


class UserErrorsInPayload(FieldExtension):
    """Answer a UserError or a refusal raised below as the field's payload type with `errors`."""

    payload: type

    def apply(self, field: StrawberryField) -> None:
        self.payload = field.type

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except service_errors.UserError as error:
            return self.payload(errors=[UserError.from_exception(error)])
        except Denied as error:
            return self.payload(errors=[UserError(field=None, code=error.code, message=error.message)])


def mutation(*, description: str, permission_classes: Sequence[type[BasePermission]] = ()) -> StrawberryField:
    """`strawberry.mutation` whose user errors and permission refusals become payload `errors`."""
    field = strawberry.mutation(
        description=description, permission_classes=list(permission_classes), extensions=[UserErrorsInPayload()]
    )
    # Strawberry appends the permission check last, which makes it the outermost wrapper:
    # put the payload outside it, so a refusal is payload data like any other user error.
    field.extensions.append(field.extensions.pop(0))
    return field
