"""API tokens for machine integrations: scoped, hashed at rest, expiring, revocable."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth.models import ApiToken
from rtcc.auth.permissions import SURVEILLANCE_PERMISSIONS, permissions_of
from rtcc.auth.service import account_status, get_user
from rtcc.auth.sessions import TOUCH_INTERVAL, hash_token, user_actor
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import AuthenticationRequired, InvalidInput, NotFound, PermissionDenied
from rtcc.core.runtime import Runtime

TOKEN_PREFIX = "rtcc_"


@dataclass
class IssuedToken:
    token: ApiToken
    raw_token: str  # shown once


def create_token(
    session: Session,
    *,
    runtime: Runtime,
    actor: Actor,
    username: str,
    name: str,
    permissions: list[str],
    expires_in_days: int,
) -> IssuedToken:
    """Issue a token acting as `username` with at most that account's permissions.

    Its owner mints it from a signed-in session; an admin (tokens.manage) may mint one for another account
    only with permissions the admin holds and no surveillance permission, and the minting is the admin's act.
    """
    user = get_user(session, username=username)
    if not 1 <= expires_in_days <= runtime.settings.api_token_max_days:
        raise InvalidInput(
            f"Tokens expire in 1 to {runtime.settings.api_token_max_days} days.", code="invalid_expiry"
        )
    requested = set(permissions)
    if not requested:
        raise InvalidInput("A token needs at least one permission.", code="invalid_permissions")
    beyond_role = requested - permissions_of(user.role)
    if beyond_role:
        raise InvalidInput(
            f"Role {user.role} does not hold: {', '.join(sorted(beyond_role))}.", code="invalid_permissions"
        )
    own = actor.user_id == user.id
    _check_minter(actor, user.username, requested, own=own)
    public_id = secrets.token_hex(4)
    raw_token = f"{TOKEN_PREFIX}{public_id}_{secrets.token_urlsafe(32)}"
    now = clock.utcnow()
    token = ApiToken(
        name=name.strip()[:100],
        prefix=public_id,
        token_hash=hash_token(raw_token),
        user_id=user.id,
        permissions=sorted(requested),
        created_at=now,
        created_by=actor.username or "unknown",
        expires_at=now + timedelta(days=expires_in_days),
    )
    token.user = user
    session.add(token)
    session.flush()
    audit.record(
        session, keys=runtime.keys, actor=actor, action="token.create", object_type="api_token", object_id=token.id,
        details={"name": token.name, "for": username, "minted_by_owner": own, "permissions": token.permissions,
                 "expires_at": clock.iso(token.expires_at)},
    )
    return IssuedToken(token=token, raw_token=raw_token)


def _check_minter(actor: Actor, username: str, requested: set[str], *, own: bool) -> None:
    """Refuse a minting that would let someone act as another person beyond administering (finding: admins watched
    video and searched plates through tokens minted for analysts)."""
    if actor.via != "session":  # a token minting tokens would outlive its own expiry and revocation
        raise PermissionDenied("Mint API tokens from a signed-in session.", code="token_needs_session")
    if own:
        return
    if not actor.can("tokens.manage"):
        raise PermissionDenied("You may mint API tokens only for your own account.", code="token_not_yours")
    watching = requested & SURVEILLANCE_PERMISSIONS
    if watching:
        raise PermissionDenied(
            f"Only {username} can mint a token with {', '.join(sorted(watching))}: it would watch or search in their "
            "name. Ask them to mint it while signed in.", code="surveillance_token_for_another",
        )
    beyond_minter = requested - actor.permissions
    if beyond_minter:
        raise PermissionDenied(f"You cannot grant what you do not hold: {', '.join(sorted(beyond_minter))}.",
                               code="token_beyond_your_permissions")


def list_tokens(session: Session, *, user_id: int | None = None) -> list[ApiToken]:
    """Every token, or one account's."""
    statement = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        statement = statement.where(ApiToken.user_id == user_id)
    return list(session.execute(statement).scalars())


def revoke_token(session: Session, *, runtime: Runtime, actor: Actor, token_id: int, own_only: bool = False) -> ApiToken:
    """Revoke a token at once; requests carrying it are refused from now on (own_only: only the actor's own)."""
    token = session.get(ApiToken, token_id)
    if token is None or (own_only and token.user_id != actor.user_id):
        raise NotFound(f"No API token {token_id}.", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = clock.utcnow()
    audit.record(session, keys=runtime.keys, actor=actor, action="token.revoke", object_type="api_token", object_id=token.id)
    return token


def resolve_token(session: Session, *, raw_token: str) -> ApiToken:
    """The live token for a bearer value, or AuthenticationRequired saying why not."""
    token = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(raw_token))).scalar_one_or_none()
    now = clock.utcnow()
    if token is None:
        raise AuthenticationRequired("Unknown API token.", code="invalid_token")
    if token.revoked_at is not None:
        raise AuthenticationRequired("This API token was revoked.", code="token_revoked")
    if token.expires_at <= now:
        raise AuthenticationRequired("This API token has expired.", code="token_expired")
    if account_status(token.user, now=now) != "active":
        raise AuthenticationRequired("The account behind this API token is locked or disabled.", code="account_unavailable")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        token.last_used_at = now
    return token


def actor_for_token(token: ApiToken, *, source_address: str | None) -> Actor:
    """A token acts with the permissions both it and its account's role hold.

    A token someone else minted (an admin, before minting was checked) never watches or searches in its owner's name.
    """
    user = token.user
    permissions = frozenset(token.permissions) & permissions_of(user.role)
    if token.created_by != user.username:
        permissions -= SURVEILLANCE_PERMISSIONS
    return user_actor(user, via="token", permissions=permissions, source_address=source_address, token_id=token.id)
