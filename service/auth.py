"""API tokens: bearer secrets with a role, stored as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from service import models
from service.clock import now
from service.errors import ErrorCode, UserError
from service.models import Role

ROLE_ORDER = list(Role)
TOKEN_PREFIX = "mh_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def allows(role: Role, needed: Role) -> bool:
    """Whether a role includes another (admin > publisher > editor > moderator > reader)."""
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(needed)


async def create_token(*, name: str, role: Role, expires_in: timedelta | None = None) -> tuple[str, models.ApiToken]:
    """Create a token; the secret is returned once and only its hash is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise UserError("A token needs a name of 1 to 100 characters.", ErrorCode.INVALID, field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now() + expires_in if expires_in else None
    token = await models.ApiToken.create(name=name, role=role, token_hash=hash_token(raw), expires_at=expires_at)
    return raw, token


async def authenticate(raw: str) -> models.ApiToken | None:
    """The live token for a secret, or None when unknown, revoked or expired."""
    if not raw or len(raw) > 200:
        return None
    token = await models.ApiToken.get_or_none(token_hash=hash_token(raw), revoked_at=None)
    if token is None:
        return None
    if token.expires_at is not None and token.expires_at <= now():
        return None
    return token


async def revoke_token(token_id: int) -> bool:
    return bool(await models.ApiToken.filter(id=token_id, revoked_at=None).update(revoked_at=now()))


async def tokens() -> list[models.ApiToken]:
    """Every API token, newest first (the hashes only: secrets are never stored)."""
    return await models.ApiToken.all().order_by("-id")


async def token_by_id(token_id: int) -> models.ApiToken | None:
    """One API token by id, or None."""
    return await models.ApiToken.get_or_none(id=token_id)
