"""Admin API: redirects, webhooks, API tokens and site settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from schema.context import Info
from schema.editorial.inputs import SiteSettingsInput, page_arg, plain_id, site_changes
from schema.errors import BadInput, check_first
from schema.payloads import UserError, describe_values, mutation
from schema.permissions import IsAdmin, IsEditor
from schema.site import Site
from service import auth, clock, content, redirects, site, webhooks
from service import errors as service_errors
from service.models import Role


@strawberry.type(description="Where an old path leads.")
class Redirect:
    target: str = strawberry.field(description="The final path (chains are followed).")
    is_permanent: bool = strawberry.field(description="Answer 301 (true) or 302 (false).")


@strawberry.type(description="A stored redirect, as editors manage them.")
class RedirectRule:
    old_path: str = strawberry.field(description="The path that redirects.")
    is_permanent: bool = strawberry.field(description="301 or 302.")
    automatic: bool = strawberry.field(description="Recorded when a page moved (true) or added by an editor.")
    created_at: datetime = strawberry.field(description="When it was made.")

    @strawberry.field(description="Id, for deleteRedirect.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.id))

    @strawberry.field(description="Where it points now (a page's current path when it points at a page).")
    async def target(self, info: Info) -> str:
        if self.page_id is not None:
            return await info.context.loaders.redirect_target_by_page_id.load(self.page_id)
        return self.target_path


@strawberry.type(description="The result of createRedirect or deleteRedirect.")
class RedirectPayload:
    redirect: RedirectRule | None = strawberry.field(default=None, description="The redirect.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.enum(description="Events a webhook can subscribe to.")
class WebhookEvent(Enum):
    PAGE_PUBLISHED = strawberry.enum_value("page.published", description="A page went live, or a new revision of it did.")
    PAGE_UNPUBLISHED = strawberry.enum_value("page.unpublished", description="A page was taken off the site.")
    PAGE_DELETED = strawberry.enum_value("page.deleted", description="A page was deleted.")
    COMMENT_APPROVED = strawberry.enum_value("comment.approved", description="A comment became public.")
    CACHE_PURGE = strawberry.enum_value(
        "cache.purge",
        description="Cached answers went stale: after every change, `data.keys` lists the surrogate keys it purged "
                    "(sorted; the values of `Surrogate-Key` and `Cache-Tag`), for a CDN the service cannot reach "
                    "(Fastly, Cloudflare) to purge the same.")


@strawberry.type(description="An attempt record for one event sent to one endpoint.")
class WebhookDelivery:
    delivery_id: str = strawberry.field(description="Sent as X-Masthead-Delivery; receivers drop repeats by it.")
    event: str = strawberry.field(description="The event name.")
    status: str = strawberry.field(description="pending, delivered or failed (gave up after the last retry).")
    attempts: int = strawberry.field(description="POSTs made so far.")
    next_attempt_at: datetime = strawberry.field(description="When it is tried next (while pending).")
    last_error: str = strawberry.field(description="Why the last attempt failed; empty when it did not.")
    last_status_code: int | None = strawberry.field(description="HTTP status of the last attempt.")
    created_at: datetime = strawberry.field(description="When the event happened.")
    delivered_at: datetime | None = strawberry.field(description="When the endpoint accepted it.")
    payload: JSON = strawberry.field(description="The JSON body sent (without deliveryId).")


@strawberry.type(description="A registered webhook endpoint. Admins only.")
class Webhook:
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[str] = strawberry.field(description="The events it receives.")
    active: bool = strawberry.field(description="Whether events are sent to it.")
    created_at: datetime = strawberry.field(description="When it was registered.")

    @strawberry.field(description="Id, for deleteWebhook.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.id))

    @strawberry.field(description="Its deliveries, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many, 0 to 100.")] = 20,
    ) -> list[WebhookDelivery]:
        check_first(first, 100)
        return await info.context.loaders.deliveries_by_webhook_id.load((self.id, first))


@strawberry.type(description="The result of registerWebhook; the secret is shown here only.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The endpoint.")
    secret: str | None = strawberry.field(default=None, description="The HMAC secret (X-Masthead-Signature); store it now.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")




TokenRole = describe_values(
    strawberry.enum(Role, name="TokenRole", description="What a token may do; each role includes the ones before it."),
    READER="Reads what anonymous readers read.",
    MODERATOR="Moderates comments.",
    EDITOR="Creates and edits drafts, previews, redirects and uploads.",
    PUBLISHER="Publishes, unpublishes, schedules, moves, deletes and reverts pages.",
    ADMIN="Manages API tokens, webhooks and site settings.",
)


@strawberry.type(description="An API token, as admins see it: never its secret.")
class ApiToken:
    name: str = strawberry.field(description="What the token is for.")
    created_at: datetime = strawberry.field(description="When it was made.")
    expires_at: datetime | None = strawberry.field(description="When it stops working, if ever.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")

    @strawberry.field(description="Id, for revokeApiToken.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.id))

    role: TokenRole = strawberry.field(description="Its role.")

    @strawberry.field(description="Whether it authenticates now (not revoked, not expired).")
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > clock.now())


@strawberry.type(description="The result of createApiToken; the secret is shown here only.")
class ApiTokenPayload:
    token: ApiToken | None = strawberry.field(default=None, description="The token.")
    secret: str | None = strawberry.field(default=None, description="Send as `Authorization: Bearer <secret>`; store it now.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of updateSiteSettings.")
class SiteSettingsPayload:
    site: Site | None = strawberry.field(default=None, description="The settings afterwards.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type
class AdminMutation:
    @mutation(
        permission_classes=[IsEditor],
        description="Add a redirect from an old path to a page or a path (editor). Loops are refused.",
    )
    async def create_redirect(
        self,
        info: Info,
        old_path: Annotated[str, strawberry.argument(description="The path that should redirect.")],
        target_path: Annotated[str | None, strawberry.argument(description="Where it leads: a site path (or give targetPageId).")] = None,
        target_page_id: Annotated[strawberry.ID | None, strawberry.argument(description="Where it leads: a page's global id, followed when the page moves.")] = None,
        is_permanent: Annotated[bool, strawberry.argument(description="Answer 301 (true) or 302 (false).")] = True,
    ) -> RedirectPayload:
        page = await page_arg(target_page_id, "target_page_id") if target_page_id is not None else None
        redirect = await redirects.add(old_path, target_path=target_path, page=page, is_permanent=is_permanent)
        return RedirectPayload(redirect=redirect)

    @mutation(permission_classes=[IsEditor], description="Delete a redirect (editor).")
    async def delete_redirect(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the redirect (RedirectRule.id).")],
    ) -> RedirectPayload:
        redirect = await redirects.delete(plain_id(id, "id"))
        return RedirectPayload(redirect=redirect)

    @mutation(
        permission_classes=[IsAdmin],
        description="Register a webhook endpoint (admin). The secret is returned once.",
    )
    async def register_webhook(
        self,
        info: Info,
        url: Annotated[str, strawberry.argument(description="Public http(s) URL the events are POSTed to.")],
        events: Annotated[list[WebhookEvent], strawberry.argument(description="The events to send.")],
        secret: Annotated[str | None, strawberry.argument(description="HMAC secret; one is generated when left out.")] = None,
    ) -> WebhookPayload:
        hook = await webhooks.register(url, [e.value for e in events], secret, info.context.settings.webhook_allow_private)
        return WebhookPayload(webhook=hook, secret=hook.secret)

    @mutation(
        permission_classes=[IsAdmin],
        description="Make an API token (admin); its secret is in the payload, once.",
    )
    async def create_api_token(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="What the token is for, 1 to 100 characters.")],
        role: Annotated[TokenRole, strawberry.argument(description="What it may do.")],
        expires_in_days: Annotated[int | None, strawberry.argument(description="Days until it stops working, 1 to 3650; never when left out.")] = None,
    ) -> ApiTokenPayload:
        if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
            raise service_errors.UserError("expiresInDays is 1 to 3650.", service_errors.ErrorCode.INVALID, field="expires_in_days")
        raw, token = await auth.create_token(
            name=name, role=role, expires_in=timedelta(days=expires_in_days) if expires_in_days else None
        )
        return ApiTokenPayload(token=token, secret=raw)

    @mutation(permission_classes=[IsAdmin], description="Revoke an API token (admin): it stops working at once.")
    async def revoke_api_token(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the token (ApiToken.id).")],
    ) -> ApiTokenPayload:
        token_id = plain_id(id, "id")
        if not await auth.revoke_token(token_id):
            raise service_errors.UserError("No active token with that id.", service_errors.ErrorCode.NOT_FOUND, field="id")
        return ApiTokenPayload(token=await auth.token_by_id(token_id))

    @mutation(
        permission_classes=[IsAdmin],
        description="Change the site settings (admin): name, tagline, social links, comment policy, and where the "
        "public site lives (base URL, locale, logo, tag and author page prefixes).",
    )
    async def update_site_settings(
        self,
        info: Info,
        input: Annotated[SiteSettingsInput, strawberry.argument(description="The settings to change.")],
    ) -> SiteSettingsPayload:
        await site.update_site_settings(site_changes(input))
        return SiteSettingsPayload(site=await content.site_settings())

    @mutation(permission_classes=[IsAdmin], description="Remove a webhook endpoint and its delivery records (admin).")
    async def delete_webhook(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the webhook (Webhook.id).")],
    ) -> WebhookPayload:
        hook = await webhooks.delete(plain_id(id, "id"))
        return WebhookPayload(webhook=hook)


@strawberry.type
class AdminQuery:
    @strawberry.field(description="Where an old path leads, chains followed; null when it does not redirect.")
    async def redirect(
        self,
        info: Info,
        path: Annotated[str, strawberry.argument(description="The old path, such as /world-news/old-story/.")],
    ) -> Redirect | None:
        info.context.surrogate.add("redirects", "pages")  # a redirect changes, or the page it leads to moves
        try:
            target = await redirects.resolve(path)
        except service_errors.UserError as error:
            raise BadInput(error.message, "path") from None
        return Redirect(target=target.path, is_permanent=target.is_permanent) if target else None

    @strawberry.field(description="Every stored redirect, newest first (editor).", permission_classes=[IsEditor])
    async def redirects(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 50,
        after: Annotated[int | None, strawberry.argument(description="Id of the last redirect seen: older ones follow.")] = None,
    ) -> list[RedirectRule]:
        check_first(first, 100)
        return await redirects.listing(first, after)

    @strawberry.field(
        description="API tokens, newest first, never their secrets (admin).",
        permission_classes=[IsAdmin],
    )
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        return await auth.tokens()

    @strawberry.field(description="Registered webhook endpoints (admin).", permission_classes=[IsAdmin])
    async def webhooks(self, info: Info) -> list[Webhook]:
        return await webhooks.endpoints()

