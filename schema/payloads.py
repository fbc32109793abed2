"""User errors as payload data: one field extension for every mutation.

A service function raises `service.errors.UserError` for anything the caller can
fix; a mutation made with `mutation(...)` below answers it as its payload type
with `errors=[UserError]` (field camelCased) and nothing else set. A permission
refusal (schema.permissions.Denied) is answered the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.types.field import StrawberryField

from schema.context import Info
from schema.errors import camel
from schema.loaders import Loaders
from schema.permissions import Denied
from service import errors as service_errors
from service.http import RequestState

E = TypeVar("E", bound=type[Enum])


def describe_values(enum: E, **descriptions: str) -> E:
    """Describe the values of an enum made from a service enum (which cannot hold strawberry.enum_value)."""
    for value in enum.__strawberry_definition__.values:
        value.description = descriptions[value.name]
    return enum


ErrorCode = describe_values(
    strawberry.enum(service_errors.ErrorCode, name="ErrorCode", description="What went wrong, for programs."),
    REQUIRED="A required field is empty.",
    INVALID="A value is malformed or not allowed (the message says why).",
    TOO_LONG="A value is longer than allowed.",
    NOT_FOUND="An id or path names nothing, or nothing the caller may see.",
    DUPLICATE="The same thing exists already (slug, comment, path).",
    INVALID_BLOCK="A body block is malformed.",
    INVALID_PARENT="The page or comment cannot go below that parent.",
    INVALID_EMAIL="Not an email address.",
    INVALID_URL="Not an acceptable URL: http(s) (mailto too, for menu links).",
    COMMENTS_CLOSED="The article takes no comments.",
    RATE_LIMITED="Too many attempts: wait retryAfter seconds.",
    SPAM="Refused as spam.",
    UNAUTHENTICATED="No valid token: send Authorization: Bearer <token>.",
    PERMISSION_DENIED="The token's role is too small.",
    CONFLICT="Someone saved since the revision the edit started from.",
    EXPIRED="A token or link has expired.",
    TOO_LARGE="A file is too large.",
    UNSUPPORTED_MEDIA="A file is not a supported image type.",
    PAGE_IS_LINKED="Live pages link to the page (or a page below it): pass `force: true` to go ahead anyway; "
    "the payload's `linkedFrom` lists them.",
    INVALID_LOCALE="The locale is not one of the site's, or is the page's own.",
    LOCALE_IN_USE="Pages use that locale: it cannot be removed or become the default.",
    PARENT_NOT_TRANSLATED="The page's parent has no translation in that locale yet: translate it first.",
    ALREADY_TRANSLATED="The page has a translation in that locale already.",
)


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
        # Mutations of a document run one after another: each starts with empty loaders, so what it
        # and its payload read is never a row cached before an earlier mutation changed it. Not in
        # an HTTP batch: its items run concurrently on one context (their order is undefined anyway),
        # and fresh loaders would drop what a sibling primed (a preview's draft tags).
        state = RequestState.of(info.context.request)
        if state is None or not state.batch:
            info.context.loaders = Loaders()
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
